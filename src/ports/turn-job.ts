import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * One user message from any queued surface (Slack, Discord, the HTTP API), normalised by its adapter:
 * one turn for the worker's turn runner. Small, and free of tokens: BullMQ stores job data in clear
 * text in Redis.
 */
export const TurnJobSchema = z.object({
  platform: z.enum(['slack', 'discord', 'api']),
  /** Slack team id or Discord guild id ('@dm' for Discord direct messages). */
  workspace: z.string().min(1),
  channel: z.string().min(1),
  /** Slack: the thread's root ts. Discord: the conversation's thread id (its root message id); it may not exist yet. */
  thread: z.string().min(1).optional(),
  /** The platform's id for this message (Slack ts, Discord message or interaction id). */
  messageId: z.string().min(1),
  userId: z.string().min(1),
  userName: z.string().optional(),
  /** The question, with the bot mention stripped. */
  text: z.string().min(1).max(8_000),
  /** Platform-neutral session key, e.g. `slack:T1:C1:1700000000.000100` or `discord:G1:123`. */
  threadKey: z.string().min(1),
  /** Discord: the interaction whose deferred reply the worker edits (its token is kept apart from the job). */
  interactionId: z.string().optional(),
  /**
   * Discord: the reply is for the asker's eyes only (an ephemeral interaction response, used for
   * /memories and /forget): it is never posted in the channel and opens no thread.
   */
  ephemeral: z.boolean().optional(),
  /** ISO time the adapter received it. */
  receivedAt: z.string(),
  /**
   * The run's id: its event stream, its cancel key and its row in `runs`. Set by the producer when the
   * adapter gives none; jobs queued before it existed use their job id.
   */
  runId: z.string().min(1).max(100).optional(),
  /** API: the session the web role opened for the run (chat sessions are found by `threadKey`). */
  sessionId: z.string().min(1).max(100).optional(),
});
export type TurnJob = z.infer<typeof TurnJobSchema>;
/** A job that is answered in a chat thread (the worker needs a ChatAdapter for it). */
export type ChatJob = TurnJob & { platform: 'slack' | 'discord' };


/**
 * BullMQ job ids de-duplicate: the same platform message enqueued twice (a Slack retry, the
 * message + app_mention pair) yields one job. Ids may not contain ':' nor be only digits.
 */
export function chatJobId(job: Pick<TurnJob, 'platform' | 'workspace' | 'channel' | 'messageId'>): string {
  const digest = createHash('sha256')
    .update(`${job.platform}|${job.workspace}|${job.channel}|${job.messageId}`)
    .digest('hex')
    .slice(0, 32);
  return `${job.platform}-${digest}`;
}
