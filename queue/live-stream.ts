import type { Clock } from '../src/clock.js';
import { describeError, errorCodeOf } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type {
  AnswerStreamer,
  ChatAnswer,
  DeliveryProgress,
  PlanTask,
  PostedRef,
  ReplyTarget,
  StreamUpdate,
} from '../src/ports/chat-adapter.js';

/**
 * One answer written into a native stream as the run goes. Updates (plan changes, text) are merged
 * and sent in batches, one call at a time and at most one per `intervalMs`, so appends stay within
 * the platform's rate tier; an update after a quiet spell goes out at once (leading edge), so the
 * plan and the first words are not held back by the batching. A stream
 * older than `rotateMs` (Slack closes streams after about five minutes) is closed and the answer
 * continues in a new stream message; `onRotate` records the switch so a re-run finds the live one.
 */
export interface LiveStream {
  readonly ref: PostedRef;
  /** Queues an update; it is sent with the next batch. */
  push(update: StreamUpdate): void;
  /** Sends what is queued and closes the stream with the answer under it. */
  finish(update: StreamUpdate, answer: ChatAnswer, progress: DeliveryProgress): Promise<void>;
  /** Stops sending (what is queued is dropped) and waits for a send in flight. */
  halt(): Promise<void>;
}

export interface LiveStreamOptions {
  streamer: AnswerStreamer;
  target: ReplyTarget;
  ref: PostedRef;
  clock: Clock;
  /** When the stream was opened (epoch ms). */
  startedAt: number;
  rotateMs: number;
  intervalMs: number;
  onRotate(next: PostedRef, previous: PostedRef): Promise<void>;
  logger: Logger;
}

export function createLiveStream(options: LiveStreamOptions): LiveStream {
  const { streamer, target, clock, logger } = options;
  let ref = options.ref;
  let startedAt = options.startedAt;
  let queued: StreamUpdate = {};
  let timer: NodeJS.Timeout | undefined;
  let lastSentAt = 0;
  let chain: Promise<void> = Promise.resolve();
  let halted = false;

  const take = (): StreamUpdate => {
    const update = queued;
    queued = {};
    return update;
  };

  async function rotate(): Promise<void> {
    const previous = ref;
    await streamer.stop(target, previous, { update: {} }).catch(() => undefined); // it may have closed already
    ref = await streamer.start(target, '…continued', {});
    startedAt = clock.now();
    await options.onRotate(ref, previous);
  }

  /** Sends one batch, rotating first when the stream is about to close (or has). */
  async function send(update: StreamUpdate): Promise<void> {
    if (isEmpty(update)) return;
    if (clock.now() - startedAt >= options.rotateMs) await rotate();
    try {
      await streamer.append(target, ref, update);
    } catch (err) {
      if (errorCodeOf(err) !== 'stream_expired') throw err;
      await rotate();
      await streamer.append(target, ref, update);
    }
  }

  const flush = () => {
    timer = undefined;
    lastSentAt = Date.now();
    const update = take();
    chain = chain
      .then(() => (halted ? undefined : send(update)))
      .catch((err) => logger.debug({ err: describeError(err) }, 'stream update failed'));
  };

  return {
    get ref() {
      return ref;
    },
    push(update) {
      if (halted) return;
      queued = merge(queued, update);
      timer ??= setTimeout(flush, Math.max(0, lastSentAt + options.intervalMs - Date.now()));
    },
    async finish(update, answer, progress) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await chain;
      const last = merge(take(), update);
      if (clock.now() - startedAt >= options.rotateMs) await rotate();
      try {
        await streamer.stop(target, ref, { update: last, answer, progress });
      } catch (err) {
        if (errorCodeOf(err) !== 'stream_expired') throw err;
        await rotate();
        await streamer.stop(target, ref, { update: last, answer, progress });
      }
    },
    async halt() {
      halted = true;
      if (timer) clearTimeout(timer);
      await chain;
    },
  };
}

/** Later task states win; text is appended. */
export function merge(a: StreamUpdate, b: StreamUpdate): StreamUpdate {
  const tasks = new Map<string, PlanTask>((a.tasks ?? []).map((t) => [t.id, t]));
  for (const t of b.tasks ?? []) tasks.set(t.id, t);
  const text = (a.text ?? '') + (b.text ?? '');
  return { ...(tasks.size ? { tasks: [...tasks.values()] } : {}), ...(text ? { text } : {}) };
}

const isEmpty = (u: StreamUpdate) => !u.text && !u.tasks?.length;
