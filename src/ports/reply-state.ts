import { z } from 'zod';

/** The message that becomes the answer, as stored in `chat_replies.placeholder` (validated when read). */
export const PlaceholderSchema = z.object({
  id: z.string(),
  channel: z.string(),
  thread: z.string().optional(),
  /** A native stream (Slack chat.startStream) rather than a posted message to edit. */
  streaming: z.boolean().optional(),
});

/** Where the bot's reply to one platform message stands. */
export interface ReplyState {
  jobId: string;
  /** The placeholder message that becomes the answer (a PostedRef). */
  placeholder: z.infer<typeof PlaceholderSchema> | null;
  /** Parts already posted after the placeholder, by part key → platform message id. */
  parts: Record<string, string>;
  /** `failed`: a failure notice was delivered; an operator's retry answers over it. */
  status: 'pending' | 'placeholder' | 'answered' | 'failed';
}

/** Reply bookkeeping for chat answers: it must outlive a killed worker, so it lives in Postgres. */
export interface ReplyStateStore {
  /** The state for a job, or undefined before anything was posted. */
  get(jobId: string): Promise<ReplyState | undefined>;
  /** Records the placeholder just posted. */
  savePlaceholder(jobId: string, platform: string, channel: string, ref: ReplyState['placeholder']): Promise<void>;
  /** Records one more posted part. */
  addPart(jobId: string, partKey: string, messageId: string): Promise<void>;
  /** Marks the answer fully delivered (`failed`: what was delivered is a failure notice). */
  markAnswered(jobId: string, status?: 'answered' | 'failed'): Promise<void>;
  /**
   * Claims the one final failure notice of a job: marks it `failed` at once and returns the placeholder
   * to edit (null when none was posted), or undefined when an answer or a notice is already delivered
   * or claimed, so two callers (the run's own fallback, the worker's failed event) never both post.
   */
  claimFailureNotice(
    jobId: string,
    platform: string,
    channel: string,
  ): Promise<{ placeholder: ReplyState['placeholder'] } | undefined>;
}

