import type { TurnJob } from './turn-job.js';

/** The queue port between the surfaces that receive messages (web role) and the worker role. */
export interface MessageQueue {
  /**
   * Enqueues a user message as one turn. Resolves `{ enqueued: false }` for a duplicate of a message
   * already queued or processed; rejects (code `queue_unavailable`) when Redis cannot take it, so the
   * adapter can make the platform retry instead of dropping the message. A job without a `runId`
   * gets a new one.
   */
  enqueue(job: TurnJob): Promise<{ enqueued: boolean; jobId: string }>;
  /** True while a message of this thread waits in the queue or is being answered. */
  hasPending(threadKey: string): Promise<boolean>;
  /** Counts for /ready, /metrics and the console. */
  counts(): Promise<{ waiting: number; active: number; delayed: number; failed: number; completed: number }>;
  /** Closes the Redis connections. */
  close(): Promise<void>;
}

export const CHAT_QUEUE_NAME = 'movebot-chat';
