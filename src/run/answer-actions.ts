import type { AnswerControls } from '../ports/chat-adapter.js';
import type { FeedbackStore, Rating } from '../ports/feedback-store.js';
import { limitReplyText, type MessageQueue } from '../ports/message-queue.js';
import type { RunCancellation } from '../ports/run-events.js';
import type { SessionStore, UserKey } from '../ports/session-store.js';
import type { TurnJob } from '../ports/turn-job.js';
import type { TeamOutcome } from '../team/types.js';

/*
 * The buttons under an answer (Stop, thumbs up / down, one-click follow-ups, and in a shared place
 * "Which ones?" for the saved details it used), the same on every
 * platform: each button's id names its action and run, the platform adapter verifies the click and
 * hands it here, and this module does what the click means through the pipeline's own ports.
 */

/** The one-click follow-ups: taxes first (what people ask first), then two the team answers well. */
export const FOLLOW_UPS = [
  { id: 'taxes', label: 'What about taxes?', question: 'What about taxes?' },
  { id: 'housing', label: 'What about housing?', question: 'What would housing cost me there?' },
  { id: 'regrets', label: 'What do movers regret?', question: 'What do people who made this move regret?' },
] as const;
export type FollowUpId = (typeof FOLLOW_UPS)[number]['id'];

export type AnswerAction =
  | { kind: 'stop'; runId: string }
  | { kind: 'feedback'; runId: string; rating: Rating }
  | { kind: 'follow_up'; runId: string; followUp: FollowUpId }
  /** "Which ones?": the saved details an answer in a shared place used, listed to its asker alone. */
  | { kind: 'memories'; runId: string };

/** Prefix of every action id we issue: clicks on anything else are not ours. */
const PREFIX = 'mb';

/** A button id: `mb:stop:<run>`, `mb:fb:<run>:up`, `mb:fu:<run>:taxes`, `mb:mem:<run>` (within Discord's 100 chars). */
export function encodeAction(action: AnswerAction): string {
  if (action.kind === 'stop') return `${PREFIX}:stop:${action.runId}`;
  if (action.kind === 'memories') return `${PREFIX}:mem:${action.runId}`;
  if (action.kind === 'feedback') return `${PREFIX}:fb:${action.runId}:${action.rating}`;
  return `${PREFIX}:fu:${action.runId}:${action.followUp}`;
}

/** The action behind a button id, or undefined for an id we did not issue (or a stale format). */
export function decodeAction(id: string): AnswerAction | undefined {
  const [prefix, kind, runId, arg] = id.split(':');
  if (prefix !== PREFIX || !runId || runId.length > 80) return undefined;
  if (kind === 'stop' && arg === undefined) return { kind: 'stop', runId };
  if (kind === 'mem' && arg === undefined) return { kind: 'memories', runId };
  if (kind === 'fb' && (arg === 'up' || arg === 'down')) return { kind: 'feedback', runId, rating: arg };
  const followUp = FOLLOW_UPS.find((f) => f.id === arg);
  if (kind === 'fu' && followUp) return { kind: 'follow_up', runId, followUp: followUp.id };
  return undefined;
}

/** The buttons an answer gets: feedback and follow-ups under answers; nothing under a question back or an error. */
export function controlsFor(runId: string, outcome: TeamOutcome | { kind: 'error' | 'cancelled' }): AnswerControls | undefined {
  if (outcome.kind === 'recommendation' || outcome.kind === 'answer') {
    return { runId, feedback: true, followUps: FOLLOW_UPS.map(({ id, label }) => ({ id, label })) };
  }
  return undefined;
}

/** Who clicked, and where: enough to act as them in that thread. */
export interface ActionClick {
  user: UserKey & { displayName?: string };
  /**
   * The follow-up as a queued turn from the clicking user in the answer's thread. The platform builds
   * it (thread ids are the platform's); `messageId` must be the same for the same user, run and
   * question, so a double click is one question.
   */
  followUpJob(question: string, messageId: string): TurnJob;
}

/** What the clicking user is told (privately); for a follow-up, the question and whether it was queued now (not a repeat). */
export interface ActionResult {
  ephemeral?: string;
  enqueued?: boolean;
  question?: string;
}

export interface AnswerActionsDeps {
  cancellation: Pick<RunCancellation, 'request'>;
  feedback: FeedbackStore;
  queue: Pick<MessageQueue, 'enqueue'>;
  store: Pick<SessionStore, 'getRun' | 'upsertUser' | 'getUser' | 'findReply' | 'listMessages'>;
}

/** What anyone but the asker is told when they click "Which ones?". */
export const ONLY_THE_ASKER = 'Only the person who asked can see which saved details were used.';

export interface AnswerActions {
  /** Carries out one verified click. */
  handle(action: AnswerAction, click: ActionClick): Promise<ActionResult>;
}

export function createAnswerActions(deps: AnswerActionsDeps): AnswerActions {
  return {
    async handle(action, click) {
      if (action.kind === 'stop') {
        const run = await deps.store.getRun(action.runId);
        // A run not started yet has no row; the stop request waits for it (the runner checks at start).
        if (run && run.status !== 'running') return { ephemeral: 'That answer is already finished.' };
        await deps.cancellation.request(action.runId);
        return {};
      }
      if (action.kind === 'feedback') {
        const user = await deps.store.upsertUser(click.user, click.user.displayName);
        const recorded = await deps.feedback.record({ runId: action.runId, userId: user.id, rating: action.rating });
        if (!recorded) return { ephemeral: 'That answer is no longer available, so I could not record your feedback.' };
        return {
          ephemeral:
            action.rating === 'up'
              ? 'Thanks for the feedback! 👍'
              : 'Thanks for telling me. I will use it to do better.',
        };
      }
      if (action.kind === 'memories') return { ephemeral: await savedDetailsUsed(deps.store, action.runId, click.user) };
      const followUp = FOLLOW_UPS.find((f) => f.id === action.followUp)!;
      const messageId = `fu-${action.runId}-${followUp.id}-${click.user.platformUserId}`;
      const { enqueued, limited } = await deps.queue.enqueue(click.followUpJob(followUp.question, messageId));
      const { question } = followUp;
      if (enqueued) return { enqueued, question };
      // Refused by a limit (too many questions, the budget, a full thread): say which, privately.
      return { enqueued, question, ephemeral: limited ? limitReplyText(limited) : 'That question is already on its way.' };
    },
  };
}

/**
 * The saved details an answer used, as its asker alone may read them: the answer in the channel only
 * counted them (src/memory/place.ts). The asker is the author of the message the run answered, by
 * platform identity; anyone else is told that only the asker can see them.
 */
async function savedDetailsUsed(store: AnswerActionsDeps['store'], runId: string, clicker: UserKey): Promise<string> {
  const run = await store.getRun(runId);
  const reply = run?.userMessageId ? await store.findReply(run.userMessageId) : undefined;
  if (!run || !reply) return 'That answer is no longer available.';
  const asked = (await store.listMessages(run.sessionId)).find((m) => m.id === run.userMessageId);
  const asker = asked?.authorUserId ? await store.getUser(asked.authorUserId) : undefined;
  const isAsker =
    asker !== undefined &&
    asker.platform === clicker.platform &&
    asker.workspace === clicker.workspace &&
    asker.platformUserId === clicker.platformUserId;
  if (!isAsker) return ONLY_THE_ASKER;
  // "Forget everything" since then took them out of the stored answer as well.
  const used = reply.metadata.recommendation?.memoriesUsed ?? [];
  if (used.length === 0) return 'That answer no longer holds any of your saved details.';
  return [`The saved details this answer used (only you can see this):`, ...used.map((m) => `• ${m}`)].join('\n');
}
