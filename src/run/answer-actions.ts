import type { AnswerControls } from '../ports/chat-adapter.js';
import type { FeedbackStore, Rating } from '../ports/feedback-store.js';
import type { MessageQueue } from '../ports/message-queue.js';
import type { RunCancellation } from '../ports/run-events.js';
import type { SessionStore, UserKey } from '../ports/session-store.js';
import type { TurnJob } from '../ports/turn-job.js';
import type { TeamOutcome } from '../team/types.js';

/*
 * The buttons under an answer (Stop, thumbs up / down, one-click follow-ups), the same on every
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
  | { kind: 'follow_up'; runId: string; followUp: FollowUpId };

/** Prefix of every action id we issue: clicks on anything else are not ours. */
const PREFIX = 'mb';

/** A button id: `mb:stop:<run>`, `mb:fb:<run>:up`, `mb:fu:<run>:taxes` (within Discord's 100 chars). */
export function encodeAction(action: AnswerAction): string {
  if (action.kind === 'stop') return `${PREFIX}:stop:${action.runId}`;
  if (action.kind === 'feedback') return `${PREFIX}:fb:${action.runId}:${action.rating}`;
  return `${PREFIX}:fu:${action.runId}:${action.followUp}`;
}

/** The action behind a button id, or undefined for an id we did not issue (or a stale format). */
export function decodeAction(id: string): AnswerAction | undefined {
  const [prefix, kind, runId, arg] = id.split(':');
  if (prefix !== PREFIX || !runId || runId.length > 80) return undefined;
  if (kind === 'stop' && arg === undefined) return { kind: 'stop', runId };
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
  store: Pick<SessionStore, 'getRun' | 'upsertUser'>;
}

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
      const followUp = FOLLOW_UPS.find((f) => f.id === action.followUp)!;
      const messageId = `fu-${action.runId}-${followUp.id}-${click.user.platformUserId}`;
      const { enqueued } = await deps.queue.enqueue(click.followUpJob(followUp.question, messageId));
      const { question } = followUp;
      return enqueued ? { enqueued, question } : { enqueued, question, ephemeral: 'That question is already on its way.' };
    },
  };
}
