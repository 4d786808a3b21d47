import { reportFiles, withChartLink } from '../src/charts/run-chart.js';
import type { Clock } from '../src/clock.js';
import { describeError, errorCodeOf } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { isMemoryCommand } from '../src/memory/memory-service.js';
import { isShared, placeOf, shownIn } from '../src/memory/place.js';
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
import type { ReplyState, ReplyStateStore } from '../src/ports/reply-state.js';
import type { RunEvent } from '../src/ports/run-events.js';
import type { ChatJob } from '../src/ports/turn-job.js';
import { controlsFor } from '../src/run/answer-actions.js';
import { createLivePlan } from '../src/run/live-plan.js';
import type { TurnOutcome } from '../src/run/turn-runner.js';
import { createProgressBoard } from '../src/team/progress.js';
import { extractCityPair } from '../src/tools/city-resolver.js';
import { outcomeOf } from '../src/conversation/conversation-service.js';
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
  /**
   * Posts the placeholder (or opens the stream) unless a previous attempt did; undefined when answered
   * already. A memory command in a shared place posts nothing: its reply goes to the asker alone.
   */
  open(): Promise<{ placeholder?: PostedRef; state?: ReplyState } | undefined>;
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
  /**
   * Shows `text` in the thread without the database (it is down): closes a live stream, removes the
   * Stop button, and edits the placeholder, or posts one when none was posted yet. For a job waiting
   * for the database, and for its notice when it gives up. An answer already shown is left as it is.
   */
  notice(text: string): Promise<void>;
  /** The message this delivery shows the answer in, as far as it knows without reply state. */
  posted(): PostedRef | undefined;
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
  /**
   * The message an earlier run of this job posted while the database was down, which reply state may
   * not know: it is adopted instead of posting another.
   */
  held?: PostedRef;
}

/** Part key of the Stop button message that stands under a live stream. */
const STOP_PART = 'stop-button';
/** Part key of a reply shown to the asker alone (chat.postEphemeral). */
const ASKER_PART = 'asker-only';
/** Said in the thread when a reply for the asker alone could not be sent to them. */
const ASKER_REPLY_FAILED = "⚠️ I couldn't answer you privately here. Ask me in a direct message.";
const LOADING = ['Reading the cost of living…', 'Asking people who moved…', 'Weighing it all up…'];

export function createChatDelivery(deps: ChatDeliveryDeps): ChatDelivery {
  const { jobId, job, adapter, replies, lock, logger } = deps;
  const target: ReplyTarget = job;
  const board = createProgressBoard();
  const plan = createLivePlan();
  const running: AnswerControls = { runId: deps.runId, stop: true };
  // Assistant threads (Slack DMs and the AI split view) show a status line and a title.
  const assistant = job.channel.startsWith('D') ? adapter.assistant : undefined;
  // A memory command in a shared place is answered to the asker alone (src/memory/place.ts): no
  // placeholder, stream or progress in the thread. Decided before the run, read as the memory service reads it.
  const forAskerOnly =
    !job.ephemeral && adapter.postEphemeral !== undefined && isShared(placeOf(job.platform, job.threadKey)) && isMemoryCommand(job.text);
  let placeholder: PostedRef | undefined = deps.held;
  // The Stop button message under a live stream, also known without reply state.
  let stopButton: PostedRef | undefined;
  let state: ReplyState | undefined;
  let live: LiveStream | undefined;
  let written = '';
  let settled = false;
  // The answer is in the thread (its bookkeeping may still have failed): nothing may overwrite it.
  let answerShown = false;
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
    stopButton = stop ?? undefined;
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
      if (forAskerOnly) {
        // Reply state still records the job, so a re-run neither answers twice nor posts in the thread.
        placeholder = state?.placeholder ?? placeholder;
        if (!state) await replies.savePlaceholder(jobId, job.platform, job.channel, placeholder ?? null);
        return { placeholder, state };
      }
      if (assistant) void assistant.setStatus(target, 'is looking into it…', LOADING).catch(quietly('assistant status'));
      // Reply state says what was posted; a message posted while the database was down is adopted.
      const known = state?.placeholder ?? placeholder;
      placeholder = known ? await takeOver(known) : undefined;
      if (placeholder && !state?.placeholder) await replies.savePlaceholder(jobId, job.platform, job.channel, placeholder);
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
      if (settled || forAskerOnly) return;
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
    async deliver(given) {
      await lock.assertHeld();
      if (forAskerOnly) return deliverToAsker(given);
      // Discord's /memories and /forget reply ephemerally: there the asker's own text may show.
      const answer: ChatAnswer =
        given.askerOnly !== undefined && job.ephemeral ? { ...given, outcome: { kind: 'answer', text: given.askerOnly } } : given;
      const record: DeliveryProgress = {
        alreadyPosted: Object.keys(state?.parts ?? {}),
        // Parts (overflow, the report) follow the answer itself, so the thread shows it by now.
        onPosted: (partKey, id) => {
          answerShown = true;
          return replies.addPart(jobId, partKey, id);
        },
      };
      if (live) {
        const ok = answer.outcome.kind !== 'error' && !answer.stopped;
        await live.finish({ tasks: plan.finish(ok), text: rest(streamedText(answer), written) }, answer, record);
      } else {
        await adapter.deliverAnswer(target, placeholder!, answer, record);
      }
      answerShown = true;
      await replies.markAnswered(jobId, answer.outcome.kind === 'error' ? 'failed' : 'answered');
      await removeStopButton();
      if (assistant) await assistant.setStatus(target, '').catch(quietly('assistant status'));
    },
    async deliverPlain(given) {
      // A reply for the asker alone is never put in the thread, also not as plain text.
      const text = forAskerOnly ? ASKER_REPLY_FAILED : given;
      if (live) {
        // Close the stream first, so the notice edits a finished message and no half stream is left.
        await live.halt();
        await adapter.streamer?.stop(target, live.ref, { update: {} }).catch(quietly('closing the stream'));
      }
      await postFailureNotice({ adapter, replies, logger }, jobId, job, text);
      await removeStopButton();
    },
    async notice(text) {
      if (live && !answerShown) {
        // A stream is closed first: a half stream must not stay open while the database is away.
        await live.halt();
        await adapter.streamer?.stop(target, live.ref, { update: {} }).catch(quietly('closing the stream'));
        placeholder = { ...live.ref, streaming: false };
        live = undefined;
      }
      if (stopButton) {
        await adapter.deleteMessage(target, stopButton).catch(quietly('removing the Stop button'));
        stopButton = undefined;
      }
      if (assistant) await assistant.setStatus(target, '').catch(quietly('assistant status'));
      // Only the answer's bookkeeping waits for the database: the thread keeps showing the answer.
      if (answerShown) return;
      if (placeholder) {
        try {
          await adapter.updateProgress(target, placeholder, text);
          return;
        } catch (err) {
          logger.warn({ jobId, err: describeError(err) }, 'could not edit the placeholder; posting the notice instead');
        }
      }
      placeholder = await adapter.postPlaceholder(target, text);
    },
    posted() {
      return placeholder;
    },
  };

  /** A memory command's reply in a shared place: to the asker alone, once; the thread shows nothing of it. */
  async function deliverToAsker(answer: ChatAnswer): Promise<void> {
    const { outcome } = answer;
    const text = answer.askerOnly ?? (outcome.kind === 'error' ? `⚠️ ${outcome.text}` : outcome.text);
    if (!state?.parts[ASKER_PART]) {
      const id = await adapter.postEphemeral!(target, job.userId, text);
      await replies.addPart(jobId, ASKER_PART, id);
    }
    // A notice the thread showed while the database was down says where the answer went instead.
    if (placeholder) await adapter.updateProgress(target, placeholder, '✉️ I answered you privately.').catch(quietly('the placeholder'));
    await replies.markAnswered(jobId, outcome.kind === 'error' ? 'failed' : 'answered');
  }

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
  if (outcome.kind === 'recommendation') return (outcome.comparison ?? outcome.recommendation).justification;
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
  const { session, reply } = outcome.result;
  const team = outcomeOf(outcome.result);
  // A memory command's reply ("here is what I remember") is no answer to rate or follow up on.
  const memoryReply = reply.metadata.kind === 'memory';
  const controls = memoryReply ? undefined : controlsFor(runId, team);
  const files = team.kind === 'recommendation' ? reportFiles(team, clock, outcome.chart) : undefined;
  // What the thread may show of it: in a channel no memory text (src/memory/place.ts); the chart shows
  // only the page's figures, so it stays, linked from the report as shown.
  const place = placeOf(session.platform, session.threadKey);
  const shown = shownIn(place, { outcome: team, controls, report: files?.report }, { memoryReply, platform: session.platform });
  const chart = files?.chart;
  if (!shown.report || !chart) return shown;
  return { ...shown, report: { ...shown.report, markdown: withChartLink(shown.report.markdown, chart.fileName, chart.alt) }, chart };
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

