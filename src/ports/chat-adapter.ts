import type { TeamOutcome } from '../team/types.js';
import type { ChatJob } from './turn-job.js';

/**
 * Platform limits as data, in one table (vercel/chat style), so splitting and rendering code is
 * shared and each number is easy to check against the platform's docs.
 */
export const PLATFORM_LIMITS = {
  slack: {
    /** Characters in one section block's text. */
    blockText: 3_000,
    /** A header block's text, and one field of a section block (at most ten fields). */
    headerChars: 150,
    fieldChars: 2_000,
    fieldsPerSection: 10,
    /** What we put in `text` beside blocks (notifications, screen readers); Slack truncates at 40k. */
    fallbackChars: 3_000,
    blocksPerMessage: 50,
    /** `text` is truncated above 40k; long block messages fail near 12-13k, so stay well below. */
    messageChars: 12_000,
    /** At most one progress edit a second per message… */
    editIntervalMs: 1_000,
    /**
     * …and at most this many a minute per workspace: chat.update is Tier 3 (~50 a minute per workspace
     * and app), and the answers' own edits need the rest.
     */
    progressEditsPerMinute: 30,
  },
  discord: {
    messageChars: 2_000,
    embedDescription: 4_096,
    /** Text per embed: below the description limit, leaving room in the per-message embed budget. */
    embedChunk: 4_000,
    embedsPerMessage: 10,
    embedTotalChars: 6_000,
    editIntervalMs: 1_000,
    /** Discord allows 50 requests a second per bot; progress takes a tenth of that per guild. */
    progressEditsPerMinute: 300,
    /** Interaction tokens stop working after 15 minutes. */
    interactionTokenMs: 15 * 60_000,
  },
} as const;

/** Where a reply goes: the job's channel and thread. */
export type ReplyTarget = Pick<
  ChatJob,
  'platform' | 'workspace' | 'channel' | 'thread' | 'messageId' | 'interactionId' | 'ephemeral'
>;

/** A message the bot posted, as the platform identifies it. */
export interface PostedRef {
  /** Slack ts or Discord message id ('@original' for an interaction's original response). */
  id: string;
  channel: string;
  /** Discord: the thread the conversation continues in, once created. */
  thread?: string;
}

/** The answer to deliver: text for chat, the Markdown report to attach when the platform allows. */
export interface ChatAnswer {
  outcome: TeamOutcome | { kind: 'error'; text: string };
  /** Full report Markdown, attached as a file (recommendations only). */
  report?: { fileName: string; markdown: string };
}

/**
 * The outbound port each platform implements (the worker side). Inbound verification and
 * normalisation live in each platform's receiver, which only enqueues.
 */
export interface ChatAdapter {
  readonly platform: 'slack' | 'discord';
  /** Posts the "Looking into…" placeholder in the thread; the answer later replaces it. */
  postPlaceholder(target: ReplyTarget, text: string): Promise<PostedRef>;
  /** Replaces the placeholder's text with progress (callers throttle to PLATFORM_LIMITS). */
  updateProgress(target: ReplyTarget, ref: PostedRef, text: string): Promise<void>;
  /**
   * Turns the placeholder into the answer, posting overflow parts and the report file after it.
   * `alreadyPosted` lists part ids a previous attempt posted, so a re-run posts nothing twice;
   * `onPosted` is called after each new part so the caller can record it.
   */
  deliverAnswer(
    target: ReplyTarget,
    ref: PostedRef,
    answer: ChatAnswer,
    progress: { alreadyPosted: string[]; onPosted(partKey: string, id: string): Promise<void> },
  ): Promise<void>;
}
