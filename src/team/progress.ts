import type { RunEvent } from '../ports/run-events.js';
import { ANALYSTS, type AnalystId, type CityRef } from './types.js';

type Status = { state: 'waiting' | 'working' | 'done' | 'unavailable'; ms?: number; reason?: string; cached?: boolean };

/**
 * Folds team events into a small status board that every surface renders the same way:
 * the CLI on stderr, Slack and Discord in the placeholder message they edit.
 */
export interface ProgressBoard {
  /** Applies an event; returns true when the visible status changed. */
  apply(event: RunEvent): boolean;
  /** The board as plain lines (Markdown-safe). */
  render(): string;
}

export function createProgressBoard(from?: string, to?: string): ProgressBoard {
  let cities: { from: string; to: string } | undefined = from && to ? { from, to } : undefined;
  let phase: 'reading' | 'analysing' | 'synthesizing' | 'answering' | 'done' = 'reading';
  const analysts = new Map<AnalystId, Status>(
    (Object.keys(ANALYSTS) as AnalystId[]).map((id) => [id, { state: 'waiting' }]),
  );
  return {
    apply(e) {
      switch (e.type) {
        case 'cities_resolved':
          cities = { from: display(e.from), to: display(e.to) };
          phase = 'analysing';
          return true;
        case 'analyst_started':
          analysts.set(e.analyst, { state: 'working' });
          return true;
        case 'tool_call_completed': {
          const s = analysts.get(e.analyst);
          if (s) s.cached = e.cached;
          return false;
        }
        case 'analyst_finished':
          analysts.set(e.analyst, {
            state: e.ok ? 'done' : 'unavailable',
            ms: e.ms,
            reason: e.reason,
            cached: analysts.get(e.analyst)?.cached,
          });
          return true;
        case 'synthesizing':
          phase = 'synthesizing';
          return true;
        case 'content_delta':
          if (phase === 'answering') return false;
          phase = 'answering';
          return true;
        case 'run_completed':
        case 'run_error':
        case 'run_cancelled':
          phase = 'done';
          return true;
        default:
          return false;
      }
    },
    render() {
      const head = cities ? `Looking into ${cities.from} → ${cities.to}…` : 'Reading your question…';
      if (phase === 'reading' || phase === 'answering') return phase === 'answering' ? 'Writing the answer…' : head;
      const lines = [head];
      for (const [id, s] of analysts) {
        const name = ANALYSTS[id].name;
        if (s.state === 'waiting') lines.push(`• ${name}: waiting`);
        if (s.state === 'working') lines.push(`• ${name}: working…`);
        if (s.state === 'done') lines.push(`• ${name}: done (${seconds(s.ms)}${s.cached ? ', cached data' : ''})`);
        if (s.state === 'unavailable') lines.push(`• ${name}: unavailable: ${s.reason ?? 'failed'}`);
      }
      if (phase === 'synthesizing') lines.push('• Team Coordinator: writing the recommendation…');
      return lines.join('\n');
    },
  };
}

/** One plain line per event, for logs and non-TTY progress output. */
export function describeEvent(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run_started':
      return 'run started';
    case 'cities_resolved':
      return `comparing ${display(e.from)} → ${display(e.to)}`;
    case 'analyst_started':
      return `${ANALYSTS[e.analyst].name} started`;
    case 'tool_call_completed':
      return `${ANALYSTS[e.analyst].name} used ${e.tool} (${e.args}): ${e.summary}${e.cached ? ' [cache]' : ''}`;
    case 'analyst_finished':
      return `${ANALYSTS[e.analyst].name} ${e.ok ? 'finished' : `unavailable: ${e.reason}`} in ${seconds(e.ms)}`;
    case 'synthesizing':
      return 'Team Coordinator synthesizing the recommendation';
    case 'run_completed':
      return 'done';
    case 'run_error':
      return `failed: ${e.message}`;
    case 'run_cancelled':
      return 'stopped';
    default:
      return undefined;
  }
}

function display(c: CityRef): string {
  return c.display;
}

function seconds(ms = 0): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
