import type { Clock } from '../src/clock.js';
import { describeError, errorCodeOf } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type {
  AnswerControls,
  AnswerStreamer,
  ChatAdapter,
  ChatAnswer,
  DeliveryProgress,
  PostedRef,
  ReplyTarget,
} from '../src/ports/chat-adapter.js';
import { PLATFORM_LIMITS } from '../src/ports/chat-adapter.js';
import type { Message } from '../src/ports/session-store.js';
import type { ReplyState, ReplyStateStore } from '../src/ports/reply-state.js';
import type { RunEvent } from '../src/ports/run-events.js';
import type { ChatJob } from '../src/ports/turn-job.js';
import { controlsFor } from '../src/run/answer-actions.js';
import { createLivePlan } from '../src/run/live-plan.js';
import type { TurnOutcome } from '../src/run/turn-runner.js';
import { createProgressBoard } from '../src/team/progress.js';
import { reportFileName } from '../src/team/report.js';
import type { TeamOutcome } from '../src/team/types.js';
import { extractCityPair } from '../src/tools/city-resolver.js';
import type { EditBudget } from './edit-budget.js';
import { createLiveStream, type LiveStream } from './live-stream.js';
import type { StreamSwitch } from './stream-switch.js';
import { postFailureNotice } from './failure-notice.js';
import type { ThreadLock } from './thread-lock.js';
import { createThrottledSender } from './throttle.js';

/**
 * How a chat turn shows up in its thread. Where the platform streams natively (Slack), a live
 * message shows the plan and then the answer as it is written, closed with the answer's blocks and
 * buttons; a separate Stop button message stands under it while it runs. Elsewhere (Discord, or a
 * workspace that cannot stream) a placeholder with a Stop button is edited with the plan and the
 * text so far (within the edit budget), then replaced by the answer. Reply state in Postgres records
 * each step, so a re-run after a crash edits what was posted instead of posting again.
 */
export interface ChatDelivery {
  /** Posts the placeholder (or opens the stream) unless a previous attempt did; undefined when answered already. */
  open(): Promise<{ placeholder: PostedRef; state?: ReplyState } | undefined>;
  /** The run's events, rendered as the live plan and text. */
  onEvent(event: RunEvent): void;
  /** Stops live updates (before the answer or a retry note). */
  settle(): Promise<void>;
  /** Edits the placeholder into a short note while the job waits for a retry. */
  note(text: string): Promise<void>;
  /** Delivers the answer; throws what the platform threw. */
  deliver(answer: ChatAnswer): Promise<void>;
  /** Posts `text` as plain text in place of an answer the platform refused (once per job). */
  deliverPlain(text: string): Promise<void>;
}

export interface ChatDeliveryDeps {
  jobId: string;
  runId: string;
  job: ChatJob;
  adapter: ChatAdapter;
  replies: ReplyStateStore;
  lock: ThreadLock;
  budget: EditBudget;
  clock: Clock;
  logger: Logger;
  /** Native streaming: which workspaces cannot, when to rotate a stream, how often to send a batch. */
  streaming?: { off: StreamSwitch; rotateMs: number; intervalMs: number };
}

/** Part key of the Stop button message that stands under a live stream. */
const STOP_PART = 'stop-button';
const LOADING = ['Reading the cost of living…', 'Asking people who moved…', 'Weighing it all up…'];

export function createChatDelivery(deps: ChatDeliveryDeps): ChatDelivery {
  const { jobId, job, adapter, replies, lock, logger } = deps;
  const target: ReplyTarget = job;
  const board = createProgressBoard();
  const plan = createLivePlan();
  const running: AnswerControls = { runId: deps.runId, stop: true };
  // Assistant threads (Slack DMs and the AI split view) show a status line and a title.
  const assistant = job.channel.startsWith('D') ? adapter.assistant : undefined;
  let placeholder: PostedRef | undefined;
  let state: ReplyState | undefined;
  let live: LiveStream | undefined;
  let written = '';
  let settled = false;
  const progress = createThrottledSender(
    // Out of budget, this update is dropped; the next one (or the answer) catches the thread up.
    async (text) => {
      if (placeholder && (await deps.budget.tryTake(`${job.platform}:${job.workspace}`))) {
        await adapter.updateProgress(target, placeholder, text, running);
      }
    },
    PLATFORM_LIMITS[job.platform].editIntervalMs,
    (err) => logger.debug({ err: describeError(err) }, 'progress update failed'),
  );
  const quietly = (what: string) => (err: unknown) => logger.debug({ err: describeError(err) }, `${what} failed`);

  /** Opens a native stream with its Stop button message; undefined when this workspace cannot stream. */
  async function openStream(): Promise<PostedRef | undefined> {
    const streamer = adapter.streamer;
    if (!streamer || !deps.streaming || (await deps.streaming.off.isOff(job.platform, job.workspace))) return undefined;
    let ref: PostedRef;
    try {
      ref = await streamer.start(target, initialText(job.text), {});
    } catch (err) {
      logger.info({ err: describeError(err) }, 'native streaming unavailable; answering by edits');
      if (errorCodeOf(err) === 'streaming_unavailable') {
        await deps.streaming.off.turnOff(job.platform, job.workspace, describeError(err));
      }
      return undefined;
    }
    await replies.savePlaceholder(jobId, job.platform, job.channel, ref);
    const stop = await adapter.postPlaceholder(target, 'Writing the answer…', running).catch(quietly('stop button'));
    if (stop) await replies.addPart(jobId, STOP_PART, stop.id);
    live = liveStream(streamer, ref);
    return ref;
  }

  function liveStream(streamer: AnswerStreamer, ref: PostedRef): LiveStream {
    return createLiveStream({
      streamer,
      target,
      ref,
      clock: deps.clock,
      startedAt: deps.clock.now(),
      rotateMs: deps.streaming!.rotateMs,
      intervalMs: deps.streaming!.intervalMs,
      logger,
      async onRotate(next, previous) {
        await replies.addPart(jobId, `stream-${previous.id}`, previous.id);
        await replies.savePlaceholder(jobId, job.platform, job.channel, next);
        placeholder = next;
      },
    });
  }

  /** A stream a crashed attempt left open is closed; its message becomes the placeholder to edit. */
  async function takeOver(ref: PostedRef): Promise<PostedRef> {
    if (!ref.streaming || !adapter.streamer) return ref;
    await adapter.streamer.stop(target, ref, { update: {} }).catch(quietly('closing the previous stream'));
    return { ...ref, streaming: false };
  }

  return {
    async open() {
      state = await replies.get(jobId);
      if (state?.status === 'answered') return undefined;
      if (assistant) void assistant.setStatus(target, 'is looking into it…', LOADING).catch(quietly('assistant status'));
      placeholder = state?.placeholder ? await takeOver(state.placeholder) : undefined;
      if (!placeholder) {
        await lock.assertHeld();
        placeholder = await openStream();
      }
      if (!placeholder) {
        placeholder = await adapter.postPlaceholder(target, initialText(job.text), running);
        await replies.savePlaceholder(jobId, job.platform, job.channel, placeholder);
      }
      return { placeholder, state };
    },
    onEvent(event) {
      if (settled) return;
      if (event.type === 'cities_resolved' && assistant) {
        void assistant.setTitle(target, `${event.from.display} → ${event.to.display}`).catch(quietly('assistant title'));
      }
      const tasks = plan.apply(event);
      if (event.type === 'content_delta') written += event.text;
      if (live) {
        const text = event.type === 'content_delta' ? event.text : undefined;
        if (tasks.length || text) live.push({ ...(tasks.length ? { tasks } : {}), ...(text ? { text } : {}) });
        return;
      }
      const boardChanged = board.apply(event);
      if (boardChanged || event.type === 'content_delta') progress.push(progressText(board.render(), written));
    },
    async settle() {
      settled = true;
      await progress.stop();
    },
    async note(text) {
      if (live) await live.halt();
      if (placeholder && !live) await adapter.updateProgress(target, placeholder, text).catch(() => {});
    },
    async deliver(answer) {
      await lock.assertHeld();
      const record: DeliveryProgress = {
        alreadyPosted: Object.keys(state?.parts ?? {}),
        onPosted: (partKey, id) => replies.addPart(jobId, partKey, id),
      };
      if (live) {
        const ok = answer.outcome.kind !== 'error' && !answer.stopped;
        await live.finish({ tasks: plan.finish(ok), text: rest(streamedText(answer), written) }, answer, record);
      } else {
        await adapter.deliverAnswer(target, placeholder!, answer, record);
      }
      await replies.markAnswered(jobId, answer.outcome.kind === 'error' ? 'failed' : 'answered');
      await removeStopButton();
      if (assistant) await assistant.setStatus(target, '').catch(quietly('assistant status'));
    },
    async deliverPlain(text) {
      if (live) {
        // Close the stream first, so the notice edits a finished message and no half stream is left.
        await live.halt();
        await adapter.streamer?.stop(target, live.ref, { update: {} }).catch(quietly('closing the stream'));
      }
      await postFailureNotice({ adapter, replies, logger }, jobId, job, text);
      await removeStopButton();
    },
  };

  async function removeStopButton(): Promise<void> {
    const id = (await replies.get(jobId))?.parts[STOP_PART];
    if (id) await adapter.deleteMessage(target, { id, channel: job.channel }).catch(quietly('removing the Stop button'));
  }
}

/** The plan board, then the answer so far (Discord shows the answer being written by these edits). */
function progressText(board: string, written: string): string {
  return written.trim() ? `${board}\n\n${written.trim()}` : board;
}

/** What of the answer is text in a stream: a recommendation streams its justification (its blocks carry the rest). */
function streamedText(answer: ChatAnswer): string {
  const { outcome } = answer;
  if (outcome.kind === 'recommendation') return outcome.recommendation.justification;
  return outcome.kind === 'error' ? `⚠️ ${outcome.text}` : outcome.text;
}

/** What `full` adds to what was already streamed; all of it when the stream said something else. */
function rest(full: string, streamed: string): string {
  if (full.startsWith(streamed)) return full.slice(streamed.length);
  return streamed.trim() ? '' : full;
}

/** The chat answer for a turn's outcome: the team's answer with its buttons, or what was written before a stop. */
export function chatAnswerOf(outcome: TurnOutcome, clock: Clock, runId: string): ChatAnswer {
  if (outcome.status === 'cancelled') {
    const partial = outcome.partial.trim();
    const text = partial ? `${partial}\n\n_⏹ Stopped._` : '_⏹ Stopped before an answer was written._';
    return { outcome: { kind: 'answer', text }, stopped: true };
  }
  const team = outcome.result.outcome ?? outcomeFromStored(outcome.result.reply);
  // A memory command's reply ("here is what I remember") is no answer to rate or follow up on.
  const controls = outcome.result.reply.metadata.kind === 'memory' ? undefined : controlsFor(runId, team);
  if (team.kind !== 'recommendation') return { outcome: team, controls };
  return { outcome: team, controls, report: { fileName: reportFileName(team.recommendation, clock), markdown: team.markdown } };
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
