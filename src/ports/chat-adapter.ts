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
    /** Streams stop taking appends about 5 minutes after chat.startStream; we move on to a new one before. */
    streamRotateMs: 4 * 60_000,
    /** chat.appendStream is Tier 4 (100+ a minute): a batch every half second leaves room. */
    streamAppendIntervalMs: 500,
  },
  discord: {
    messageChars: 2_000,
    embedDescription: 4_096,
    /** Text per embed: below the description limit, leaving room in the per-message embed budget. */
    embedChunk: 4_000,
    embedsPerMessage: 10,
    embedTotalChars: 6_000,
    embedTitle: 256,
    /** Fields per embed, and each field's name and value. */
    embedFields: 25,
    fieldName: 256,
    fieldValue: 1_024,
    /** No interval of our own: each edit waits for the one before, paced by the REST queue's rate-limit headers. */
    editIntervalMs: 0,
    /** Discord allows 50 requests a second per bot; progress takes a tenth of that per guild. */
    progressEditsPerMinute: 300,
    /** Interaction tokens stop working after 15 minutes. */
    interactionTokenMs: 15 * 60_000,
  },
} as const;

/** Where a reply goes: the job's channel and thread, and who asked (Slack streams are addressed to them). */
export type ReplyTarget = Pick<
  ChatJob,
  'platform' | 'workspace' | 'channel' | 'thread' | 'messageId' | 'interactionId' | 'ephemeral' | 'userId'
>;

/** A message the bot posted, as the platform identifies it. */
export interface PostedRef {
  /** Slack ts or Discord message id ('@original' for an interaction's original response). */
  id: string;
  channel: string;
  /** Discord: the thread the conversation continues in, once created. */
  thread?: string;
  /** A native stream message (AnswerStreamer), not a posted message. */
  streaming?: boolean;
}

/** The answer to deliver: text for chat, the Markdown report to attach when the platform allows. */
export interface ChatAnswer {
  outcome: TeamOutcome | { kind: 'error'; text: string };
  /** Full report Markdown, attached as a file (recommendations only). */
  report?: { fileName: string; markdown: string };
  /**
   * The cost chart as a PNG, posted after the report (recommendations with cost figures only); its
   * part key is `chart`, recorded like the report's so a re-run uploads it once.
   */
  chart?: { fileName: string; png: Buffer; alt: string; width: number; height: number };
  /** The buttons under the answer (feedback, one-click follow-ups). */
  controls?: AnswerControls;
  /** The run was stopped on request: the text is what it had written. */
  stopped?: boolean;
  /**
   * For the asker's eyes only (a memory command's reply in a shared place, src/memory/place.ts): sent
   * to them alone (`postEphemeral`, or an ephemeral interaction reply), never posted in the thread;
   * `outcome` then holds only what the thread may see.
   */
  askerOnly?: string;
  /**
   * In a shared place: how many of the asker's saved details the answer used. Their text is not in
   * the answer; renderers say "Personalised with N of your saved details."
   */
  savedDetails?: number;
}

/**
 * What a user can do with an answer, as buttons each platform renders its own way. Every button's id
 * is `encodeAction(…)` (src/run/answer-actions.ts), so a click names its run.
 */
export interface AnswerControls {
  runId: string;
  /** A Stop button: the answer is still being written. */
  stop?: boolean;
  /** Thumbs up / thumbs down. */
  feedback?: boolean;
  /** One-click follow-up questions (at most three). */
  followUps?: Array<{ id: string; label: string }>;
  /** A "Which ones?" button: lists the saved details the answer used, to the asker alone (shared places). */
  savedDetails?: boolean;
}

/** One step of the live plan (one per analyst, and the synthesis). */
export interface PlanTask {
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'complete' | 'error';
  /** A short result, e.g. "NerdWallet: 27% lower overall", or why it failed. */
  details?: string;
  /** Pages the step read (the NerdWallet page, Reddit threads). */
  sources?: Array<{ url: string; title: string }>;
}

/** What changed in a live answer since the last update. */
export interface StreamUpdate {
  /** Plan steps whose status or details changed. */
  tasks?: PlanTask[];
  /** Answer text written since the last update (Markdown). */
  text?: string;
}

/**
 * Native streaming (Slack's chat.startStream / appendStream / stopStream): the plan and the answer are
 * written into one message as the run goes. Any method may throw a MovebotError with code
 * `streaming_unavailable` when the platform or workspace cannot stream; the caller then answers the
 * post-and-edit way.
 */
export interface AnswerStreamer {
  /** Opens the live message in the thread: a title (the plan's, e.g. "Looking into Seattle → Austin…") and first contents. */
  start(target: ReplyTarget, title: string, update: StreamUpdate): Promise<PostedRef>;
  /** Adds plan changes and text; throws code `stream_expired` once the platform closed the stream. */
  append(target: ReplyTarget, ref: PostedRef, update: StreamUpdate): Promise<void>;
  /**
   * Closes the stream with `end.update` (the plan's last changes, the rest of the text) and, when an
   * answer is given, the answer's blocks and buttons under it and its report file after it (a part,
   * recorded through `end.progress` as deliverAnswer does). No answer: closed to be continued in a
   * new stream message, or closed because a re-run takes over.
   */
  stop(target: ReplyTarget, ref: PostedRef, end: { update: StreamUpdate; answer?: ChatAnswer; progress?: DeliveryProgress }): Promise<void>;
}

/** Parts a previous attempt posted, and how to record a new one, so a re-run posts nothing twice. */
export interface DeliveryProgress {
  alreadyPosted: string[];
  onPosted(partKey: string, id: string): Promise<void>;
}

/** Assistant threads (Slack's AI-app split view and DMs): status line and title. */
export interface AssistantThreads {
  /** Shows a status under the thread while the turn runs ('' clears it). */
  setStatus(target: ReplyTarget, status: string, loadingMessages?: string[]): Promise<void>;
  /** Names the thread, e.g. "Seattle → Austin". */
  setTitle(target: ReplyTarget, title: string): Promise<void>;
}

/**
 * The outbound port each platform implements (the worker side). Inbound verification and
 * normalisation live in each platform's receiver, which only enqueues.
 */
export interface ChatAdapter {
  readonly platform: 'slack' | 'discord';
  /** Posts the "Looking into…" placeholder in the thread (with a Stop button when `controls` say so). */
  postPlaceholder(target: ReplyTarget, text: string, controls?: AnswerControls): Promise<PostedRef>;
  /** Replaces the placeholder's text with progress (callers throttle to PLATFORM_LIMITS). */
  updateProgress(target: ReplyTarget, ref: PostedRef, text: string, controls?: AnswerControls): Promise<void>;
  /** Deletes a message the bot posted (a Stop button message once its answer is done). */
  deleteMessage(target: ReplyTarget, ref: PostedRef): Promise<void>;
  /**
   * Shows `text` (Markdown) in the target's thread to `userId` alone (Slack chat.postEphemeral), for a
   * memory command's reply in a shared place; returns the message's id. Absent where a platform cannot
   * answer a message privately (Discord: only interactions can, and those are `target.ephemeral`).
   */
  postEphemeral?(target: ReplyTarget, userId: string, text: string): Promise<string>;
  /** Native streaming, where the platform has it. */
  readonly streamer?: AnswerStreamer;
  /** Assistant-thread status and title, where the platform has them. */
  readonly assistant?: AssistantThreads;
  /**
   * Turns the placeholder into the answer, posting overflow parts and the report file after it.
   * `alreadyPosted` lists part ids a previous attempt posted, so a re-run posts nothing twice;
   * `onPosted` is called after each new part so the caller can record it.
   */
  deliverAnswer(
    target: ReplyTarget,
    ref: PostedRef,
    answer: ChatAnswer,
    progress: DeliveryProgress,
  ): Promise<void>;
}
