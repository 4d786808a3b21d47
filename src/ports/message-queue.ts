import type { TurnJob } from './turn-job.js';

/** The queue port between the surfaces that receive messages (web role) and the worker role. */
export interface MessageQueue {
  /**
   * Enqueues a user message as one turn. Resolves `{ enqueued: false }` for a duplicate of a message
   * already queued or processed (or already refused), and `{ enqueued: false, limited }` for a message
   * over one of the ingress limits: the surface must then tell the asker which limit and when to retry
   * (limitReplyText in queue/quotas.ts), never stay silent. Rejects (code `queue_unavailable`) when
   * Redis cannot take it, so the adapter can make the platform retry instead of dropping the message.
   * A job without a `runId` gets a new one.
   */
  enqueue(job: TurnJob): Promise<EnqueueResult>;
  /** True while a message of this thread waits in the queue or is being answered. */
  hasPending(threadKey: string): Promise<boolean>;
  /** Counts for /ready, /metrics and the console. */
  counts(): Promise<{ waiting: number; active: number; delayed: number; failed: number; completed: number }>;
  /** Closes the Redis connections. */
  close(): Promise<void>;
}

export const CHAT_QUEUE_NAME = 'movebot-chat';

/**
 * The ingress limits checked at enqueue: turns a minute per user, model cost a day per workspace,
 * messages waiting per thread.
 */
export type LimitName = 'user_turns' | 'workspace_budget' | 'thread_pending';
export const LIMIT_NAMES: readonly LimitName[] = ['user_turns', 'workspace_budget', 'thread_pending'];

/** A message refused at enqueue: which limit, its value, and when asking again can succeed. */
export interface LimitHit {
  limit: LimitName;
  /** The limit's value: turns a minute (user_turns), US dollars a UTC day (workspace_budget), messages waiting (thread_pending). */
  max: number;
  /** From now until the limit lets this asker through again (an estimate for thread_pending). */
  retryAfterMs: number;
}

export interface EnqueueResult {
  /** True when this call added the job; false for a duplicate delivery or a refused message. */
  enqueued: boolean;
  jobId: string;
  /** Set when the message was refused by a limit (nothing was queued and no quota kept). */
  limited?: LimitHit;
}

/** The short reply a refused message gets: in its Slack or Discord thread, or as the API's error detail. */
export function limitReplyText(hit: LimitHit): string {
  const wait = formatWait(hit.retryAfterMs);
  switch (hit.limit) {
    case 'user_turns':
      return `You're asking faster than I can answer: at most ${hit.max} question${hit.max === 1 ? '' : 's'} a minute. Try again in ${wait}.`;
    case 'workspace_budget':
      return `This workspace has used today's budget for questions ($${hit.max.toFixed(2)} a day). It resets tomorrow at 00:00 UTC (in ${wait}); please try again then.`;
    case 'thread_pending':
      return `This thread already has ${hit.max} question${hit.max === 1 ? '' : 's'} waiting for an answer. Please ask again once I have answered them (in about ${wait}).`;
  }
}

/** `40 s`, `12 min`, `5 h 12 min`: rounded up, so "try again in" is never too early. */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds <= 90) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** Whole seconds for a `Retry-After` header (rounded up, at least 1). */
export const retryAfterSeconds = (hit: LimitHit) => Math.max(1, Math.ceil(hit.retryAfterMs / 1000));
