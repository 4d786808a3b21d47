import type { PlanTask } from '../ports/chat-adapter.js';
import type { RunEvent } from '../ports/run-events.js';
import { ANALYSTS, type AnalystId } from '../team/types.js';

/** The synthesis step's id in the plan (the analysts use their own ids). */
export const SYNTHESIS_TASK = 'synthesis';

/**
 * Folds a run's events into the live plan a streaming surface shows: one task per analyst and the
 * synthesis, each pending → in progress → complete or error, with a short result and its sources.
 * The plan appears once the team knows the cities (a question back has no plan).
 */
export interface LivePlan {
  /** Applies an event; returns the tasks it changed (all of them when the plan first appears). */
  apply(event: RunEvent): PlanTask[];
  /** Every task as it stands (empty before the plan appears). */
  tasks(): PlanTask[];
  /** Ends the plan: the synthesis complete (or error), any unfinished step marked error; returns what changed. */
  finish(ok: boolean): PlanTask[];
}

export function createLivePlan(): LivePlan {
  const tasks = new Map<string, PlanTask>();
  const update = (id: string, change: Partial<PlanTask>): PlanTask[] => {
    const task = tasks.get(id);
    if (!task) return [];
    Object.assign(task, change);
    return [{ ...task }];
  };
  const all = () => [...tasks.values()].map((t) => ({ ...t }));

  return {
    apply(e) {
      switch (e.type) {
        case 'cities_resolved': {
          if (tasks.size > 0) return [];
          for (const [id, a] of Object.entries(ANALYSTS)) tasks.set(id, { id, title: a.name, status: 'pending' });
          tasks.set(SYNTHESIS_TASK, { id: SYNTHESIS_TASK, title: 'Recommendation', status: 'pending' });
          return all();
        }
        case 'analyst_started':
          return update(e.analyst, { status: 'in_progress' });
        case 'tool_call_completed': {
          const task = tasks.get(e.analyst);
          if (!task) return [];
          const sources = [...(task.sources ?? []), ...e.sources.map((url) => ({ url, title: sourceTitle(url) }))];
          return update(e.analyst, { details: e.summary, sources: sources.slice(0, 10) });
        }
        case 'analyst_finished':
          return update(e.analyst as AnalystId, {
            status: e.ok ? 'complete' : 'error',
            ...(e.ok ? {} : { details: `Unavailable: ${e.reason ?? 'failed'}` }),
          });
        case 'synthesizing':
          return update(SYNTHESIS_TASK, { status: 'in_progress', details: 'Weighing it all up' });
        default:
          return [];
      }
    },
    tasks: all,
    finish(ok) {
      const changed: PlanTask[] = [];
      for (const task of tasks.values()) {
        if (task.status === 'complete' || task.status === 'error') continue;
        const done = ok && task.id === SYNTHESIS_TASK;
        changed.push(...update(task.id, { status: done ? 'complete' : 'error', details: done ? 'Done' : 'Stopped' }));
      }
      return changed;
    },
  };
}

/** A readable name for a source page: Reddit threads by subreddit, other pages by host. */
function sourceTitle(url: string): string {
  try {
    const u = new URL(url);
    const sub = /^\/r\/([^/]+)/.exec(u.pathname)?.[1];
    return sub ? `Reddit r/${sub}` : u.hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
}
