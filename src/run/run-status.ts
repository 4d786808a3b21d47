import type { StoredRunEvent } from '../ports/run-events.js';

import type { RunStatus } from '../ports/session-store.js';

/** AgentOS's run statuses. */
export type RunStatusName = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'ERROR';

/** A stored run's status (`runs.status`) as AgentOS names it. */
export const RUN_STATUS_NAMES: Record<RunStatus, RunStatusName> = {
  running: 'RUNNING',
  completed: 'COMPLETED',
  cancelled: 'CANCELLED',
  failed: 'ERROR',
};

/** A run as its event log tells it: what `GET …/runs/{run_id}` shows while and after it runs. */
export interface RunSnapshot {
  status: RunStatusName;
  sessionId?: string;
  /** The final content once completed; before that, the text streamed so far by the current attempt. */
  content: string;
  /** Epoch ms of the first event. */
  createdAt?: number;
  error?: { code: string; message: string };
}

/** Folds a run's events (oldest first) into where it stands. */
export function foldRunEvents(events: StoredRunEvent[]): RunSnapshot {
  const snap: RunSnapshot = { status: 'PENDING', content: '' };
  for (const { at, event } of events) {
    snap.createdAt ??= at;
    switch (event.type) {
      case 'run_queued':
        snap.sessionId = event.sessionId;
        break;
      case 'run_started':
        // A retry or a resumed run writes its answer again from the start.
        snap.sessionId = event.sessionId;
        snap.status = 'RUNNING';
        snap.content = '';
        break;
      case 'content_delta':
        snap.content += event.text;
        break;
      case 'run_completed':
        snap.status = 'COMPLETED';
        snap.content = event.content;
        break;
      case 'run_cancelled':
        snap.status = 'CANCELLED';
        snap.content = event.content;
        break;
      case 'run_error':
        snap.status = 'ERROR';
        snap.error = { code: event.code, message: event.message };
        break;
      default:
        break;
    }
  }
  return snap;
}

export const isFinished = (status: RunStatusName) => status === 'COMPLETED' || status === 'CANCELLED' || status === 'ERROR';
