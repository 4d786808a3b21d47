import type { Clock } from '../src/clock.js';
import { describeError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ChatAdapter, ChatAnswer, PostedRef, ReplyTarget } from '../src/ports/chat-adapter.js';
import { PLATFORM_LIMITS } from '../src/ports/chat-adapter.js';
import type { Message } from '../src/ports/session-store.js';
import type { ReplyState, ReplyStateStore } from '../src/ports/reply-state.js';
import type { RunEvent } from '../src/ports/run-events.js';
import type { ChatJob } from '../src/ports/turn-job.js';
import type { TurnOutcome } from '../src/run/turn-runner.js';
import { createProgressBoard } from '../src/team/progress.js';
import { reportFileName } from '../src/team/report.js';
import type { TeamOutcome } from '../src/team/types.js';
import { extractCityPair } from '../src/tools/city-resolver.js';
import type { EditBudget } from './edit-budget.js';
import { postFailureNotice } from './failure-notice.js';
import type { ThreadLock } from './thread-lock.js';
import { createThrottledSender } from './throttle.js';

/**
 * How a chat turn shows up in its thread: a placeholder, the run's events as progress edits (within
 * the workspace's edit budget), then the answer in place of the placeholder. Reply state in Postgres
 * records each step, so a re-run after a crash edits what was posted instead of posting again.
 */
export interface ChatDelivery {
  /** Posts the placeholder unless a previous attempt did; undefined when the job was answered already. */
  open(): Promise<{ placeholder: PostedRef; state?: ReplyState } | undefined>;
  /** The run's events, rendered as progress edits of the placeholder. */
  onEvent(event: RunEvent): void;
  /** Stops progress edits (before the answer or a retry note). */
  settle(): Promise<void>;
  /** Edits the placeholder into a short note while the job waits for a retry. */
  note(text: string): Promise<void>;
  /** Delivers the answer; throws what the platform threw. */
  deliver(answer: ChatAnswer): Promise<void>;
  /** Posts `text` as plain text in place of an answer the platform refused (once per job). */
  deliverPlain(text: string): Promise<void>;
}

export function createChatDelivery(deps: {
  jobId: string;
  job: ChatJob;
  adapter: ChatAdapter;
  replies: ReplyStateStore;
  lock: ThreadLock;
  budget: EditBudget;
  logger: Logger;
}): ChatDelivery {
  const { jobId, job, adapter, replies, lock, logger } = deps;
  const target: ReplyTarget = job;
  const board = createProgressBoard();
  let placeholder: PostedRef | undefined;
  let state: ReplyState | undefined;
  const progress = createThrottledSender(
    // Out of budget, this update is dropped; the next one (or the answer) catches the thread up.
    async (text) => {
      if (placeholder && (await deps.budget.tryTake(`${job.platform}:${job.workspace}`))) {
        await adapter.updateProgress(target, placeholder, text);
      }
    },
    PLATFORM_LIMITS[job.platform].editIntervalMs,
    (err) => logger.debug({ err: describeError(err) }, 'progress update failed'),
  );

  return {
    async open() {
      state = await replies.get(jobId);
      if (state?.status === 'answered') return undefined;
      placeholder = state?.placeholder ?? undefined;
      if (!placeholder) {
        await lock.assertHeld();
        placeholder = await adapter.postPlaceholder(target, initialText(job.text));
        await replies.savePlaceholder(jobId, job.platform, job.channel, placeholder);
      }
      return { placeholder, state };
    },
    onEvent(event) {
      if (board.apply(event)) progress.push(board.render());
    },
    settle: () => progress.stop(),
    async note(text) {
      if (placeholder) await adapter.updateProgress(target, placeholder, text).catch(() => {});
    },
    async deliver(answer) {
      await lock.assertHeld();
      await adapter.deliverAnswer(target, placeholder!, answer, {
        alreadyPosted: Object.keys(state?.parts ?? {}),
        onPosted: (partKey, id) => replies.addPart(jobId, partKey, id),
      });
      await replies.markAnswered(jobId, answer.outcome.kind === 'error' ? 'failed' : 'answered');
    },
    async deliverPlain(text) {
      await postFailureNotice({ adapter, replies, logger }, jobId, job, text);
    },
  };
}

/** The chat answer for a turn's outcome: the team's answer, or what was written before a stop. */
export function chatAnswerOf(outcome: TurnOutcome, clock: Clock): ChatAnswer {
  if (outcome.status === 'cancelled') {
    const partial = outcome.partial.trim();
    return { outcome: { kind: 'answer', text: partial ? `${partial}\n\n_⏹ Stopped._` : '_⏹ Stopped before an answer was written._' } };
  }
  const team = outcome.result.outcome ?? outcomeFromStored(outcome.result.reply);
  if (team.kind !== 'recommendation') return { outcome: team };
  return { outcome: team, report: { fileName: reportFileName(team.recommendation, clock), markdown: team.markdown } };
}

/** The answer the platform would not take in its rich form, as plain text. */
export function plainAnswer(answer: ChatAnswer): string {
  const { outcome } = answer;
  if (outcome.kind === 'error') return `⚠️ ${outcome.text}`;
  return `⚠️ I couldn't post my answer here in full, so here it is as plain text:\n\n${outcome.text}`;
}

function initialText(text: string): string {
  const pair = extractCityPair(text);
  return pair.from && pair.to ? `Looking into ${pair.from} → ${pair.to}…` : 'Thinking about your question…';
}

/** Rebuilds the outcome of a turn answered before (the job re-ran after storing its answer). */
function outcomeFromStored(reply: Message): TeamOutcome {
  const meta = reply.metadata;
  if (meta.kind === 'recommendation' && meta.recommendation && meta.report) {
    return { kind: 'recommendation', text: reply.content, recommendation: meta.recommendation, markdown: meta.report };
  }
  return { kind: 'answer', text: reply.content };
}
