import { isForgetEverything } from '../src/memory/forget.js';
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Clock } from '../src/clock.js';
import { DATABASE, DEFAULTS, QUEUE, STREAMING } from '../src/constants.js';
import type { ConversationService, IncomingMessage } from '../src/conversation/conversation-service.js';
import { userFacingError } from '../src/conversation/conversation-service.js';
import { describeError, errorCodeOf, isDatabaseOutage, isTransient, willRetry } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ChatAdapter, ChatAnswer, PostedRef } from '../src/ports/chat-adapter.js';
import { PLATFORM_LIMITS } from '../src/ports/chat-adapter.js';
import { CHAT_QUEUE_NAME } from '../src/ports/message-queue.js';
import type { ReplyStateStore } from '../src/ports/reply-state.js';
import { isTerminal, type RunEventLog } from '../src/ports/run-events.js';
import type { TokenUsage } from '../src/ports/session-store.js';
import { type ChatJob, type TurnJob, TurnJobSchema } from '../src/ports/turn-job.js';
import { runError, type TurnOutcome, type TurnRunner } from '../src/run/turn-runner.js';
import { settlesWithin } from '../src/util/timeout.js';
import { type ChatDelivery, chatAnswerOf, createChatDelivery, plainAnswer } from './chat-delivery.js';
import { createDatabaseWaits, type DatabaseWait } from './database-wait.js';
import { createEditBudget, EDIT_BUDGET_REDIS_OPTIONS } from './edit-budget.js';
import { removeJobsOf } from './forget-jobs.js';
import { postFailureNotice } from './failure-notice.js';
import { redisOptionsFromUrl, threadKeys } from './redis.js';
import { createStreamSwitch } from './stream-switch.js';
import { createThreadLock, type ThreadLock } from './thread-lock.js';

export interface ChatWorkerOptions {
  /** The one pipeline: runs the turn and writes its events. */
  runner: TurnRunner;
  /** Stores a final failure notice as the answer (history shows it; a re-run does not retry forever). */
  conversation: Pick<ConversationService, 'recordFailure'>;
  replies: ReplyStateStore;
  /** The run event log, for the `run_error` of a job BullMQ fails without running it. */
  events: RunEventLog;
  clock: Clock;
  adapters: Partial<Record<ChatJob['platform'], ChatAdapter>>;
  redisUrl: string;
  queueName?: string;
  concurrency?: number;
  logger: Logger;
  /** How long a waiting message of a busy thread sleeps before it looks again. */
  threadRetryMs?: number;
  /** BullMQ lock and stall settings; tests shorten them to recover a killed worker quickly. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How long a thread stays locked after its run stops renewing the lock (default lockDurationMs). */
  threadLockMs?: number;
  /** Progress edits a minute per workspace, for every platform (default: PLATFORM_LIMITS). */
  progressEditsPerMinute?: number;
  /** When a native stream moves on to a new message (default: PLATFORM_LIMITS.slack.streamRotateMs). */
  streamRotateMs?: number;
  /** Called after every finished turn (metrics). */
  onTurn?: (info: TurnInfo) => void;
  /**
   * How long a job waits for an unreachable database (default DATABASE.outageWaitMs). It waits in the
   * queue, with backoff, without spending an attempt; past this its thread is told so.
   */
  dbOutageWaitMs?: number;
}

/** One finished turn, for metrics. */
export interface TurnInfo {
  platform: string;
  ok: boolean;
  ms: number;
  /** Tokens and estimated cost when the team ran. */
  usage?: TokenUsage;
  costUsd?: number;
  errorCode?: string;
}

export interface ChatWorker {
  /** Stops taking jobs and waits for running ones up to `deadlineMs`; then abandons them to a re-run. */
  close(deadlineMs?: number): Promise<void>;
  readonly worker: Worker;
}

/**
 * The worker role: answers each queued turn through the turn runner, from any surface. Chat turns
 * are also shown in their thread (placeholder, progress, answer); API turns only write their run's
 * events, which the web role relays. Messages of one thread are answered one at a time in arrival
 * order; other threads run in parallel.
 */
export function createChatWorker(options: ChatWorkerOptions): ChatWorker {
  const { logger, replies } = options;
  const queueName = options.queueName ?? CHAT_QUEUE_NAME;
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'worker redis error'));
  const lockMs = options.lockDurationMs ?? QUEUE.lockDurationMs;
  // Shared by all workers through Redis; its own client, so an outage skips progress instead of holding answers.
  const budgetRedis = new Redis(options.redisUrl, EDIT_BUDGET_REDIS_OPTIONS);
  budgetRedis.on('error', (err) => logger.debug({ err: err.message }, 'edit budget redis error'));
  const budgetFor = (platform: ChatJob['platform']) =>
    createEditBudget({
      redis: budgetRedis,
      perMinute: options.progressEditsPerMinute ?? PLATFORM_LIMITS[platform].progressEditsPerMinute,
      clock: options.clock,
      keyPrefix: `movebot:${queueName}:edit-budget:`,
      onError: (err) =>
        logger.debug({ err: describeError(err) }, 'edit budget unavailable; progress edit skipped'),
    });
  const editBudgets = { slack: budgetFor('slack'), discord: budgetFor('discord') };
  const streamingOff = createStreamSwitch({
    redis: budgetRedis,
    keyPrefix: `movebot:${queueName}:no-stream:`,
    ttlMs: STREAMING.fallbackMemoryMs,
  });
  // For looking up other jobs of a thread (a stale pending entry must not block it forever).
  const lookup = new Queue<TurnJob>(queueName, { connection: redisOptionsFromUrl(options.redisUrl) });
  // Without a listener BullMQ prints a Redis outage's every reconnect error raw to stderr.
  lookup.on('error', (err) => logger.debug({ err: err.message }, 'job lookup redis error'));
  // Turns being answered, so a shutdown past its deadline can stop them and put their jobs back.
  const inFlight = new Set<AbortController>();
  // Failure notices being posted; closing waits for them, they need Redis and the database.
  const notices = new Set<Promise<void>>();
  // Final failures the processor already said in the thread without the database (it was down).
  const toldWithoutDatabase = new WeakSet<Error>();
  const outageWaitMs = options.dbOutageWaitMs ?? DATABASE.outageWaitMs;
  const databaseWaits = createDatabaseWaits({ redis, queueName, outageWaitMs, logger });

  const worker = new Worker<TurnJob>(queueName, (job, token) => processJob(job, token), {
    connection: redisOptionsFromUrl(options.redisUrl),
    concurrency: options.concurrency ?? DEFAULTS.workerConcurrency,
    lockDuration: lockMs,
    stalledInterval: options.stalledIntervalMs ?? QUEUE.stalledIntervalMs,
    maxStalledCount: 2,
  });
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, err: err.message }, 'chat job failed');
    // Final failures the processor never saw (a job that stalled too often is failed by BullMQ without
    // running it) must still be said in the thread; the claim in reply state keeps it to one notice.
    if (!job?.finishedOn) return;
    const notice = noticeFinalFailure(job, err, toldWithoutDatabase.has(err));
    notices.add(notice);
    void notice.finally(() => notices.delete(notice));
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));

  async function processJob(job: Job<TurnJob>, token?: string): Promise<void> {
    const parsed = TurnJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid chat job: ${parsed.error.message}`);
    const data = parsed.data;
    const keys = threadKeys(queueName, data.threadKey);
    const jobId = job.id!;

    const lock = await takeTurn(jobId, keys);
    if (!lock) {
      // Another message of this thread goes first (or another run of this one is still going); look
      // again shortly without spending an attempt.
      await job.moveToDelayed(Date.now() + (options.threadRetryMs ?? QUEUE.threadRetryMs), token);
      throw new DelayedError();
    }
    const started = Date.now();
    let finalAttempt = !attemptsLeft(job);
    // Back in the queue without spending an attempt: the thread still waits for this message.
    let requeued = false;
    const release = new AbortController();
    inFlight.add(release);
    let delivery: ChatDelivery | undefined;
    let waiting: DatabaseWait | undefined;
    try {
      waiting = await databaseWaits.of(jobId);
      if (data.platform !== 'api') delivery = chatDeliveryFor(jobId, data.runId ?? jobId, data as ChatJob, lock, waiting?.placeholder);
      const spent = await answer(job, data, delivery, release.signal, finalAttempt);
      finalAttempt = true;
      if (waiting) await databaseWaits.clear(jobId);
      // "Forget everything" also forgets the user's earlier messages kept in finished and failed jobs.
      if (isForgetEverything(data.text)) {
        await removeJobsOf(lookup, data, jobId).catch((err) => logger.warn({ err: describeError(err) }, 'could not remove forgotten jobs'));
      }
      options.onTurn?.({ platform: data.platform, ok: true, ms: Date.now() - started, ...spent });
    } catch (err) {
      if (release.signal.aborted) {
        // Released at the shutdown deadline: back in the queue at once, no attempt spent. The re-run
        // finds the placeholder in reply state and edits it, so the thread still gets one answer.
        requeued = true;
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (isDatabaseOutage(err) && !(err instanceof UnrecoverableError)) {
        const delayMs = await databaseWaits.wait(jobId, waiting, delivery, err);
        if (delayMs !== undefined) {
          requeued = true;
          await job.moveToDelayed(Date.now() + delayMs, token);
          throw new DelayedError();
        }
        // Waited long enough: the thread has been told (without the database); the job fails for good.
        finalAttempt = true;
        options.onTurn?.({ platform: data.platform, ok: false, ms: Date.now() - started, errorCode: turnErrorCode(err) });
        const final = new UnrecoverableError(`the database stayed unreachable: ${describeError(err)}`);
        final.cause = err;
        toldWithoutDatabase.add(final);
        throw final;
      }
      if (err instanceof UnrecoverableError) finalAttempt = true;
      options.onTurn?.({ platform: data.platform, ok: false, ms: Date.now() - started, errorCode: turnErrorCode(err) });
      throw err;
    } finally {
      inFlight.delete(release);
      // The thread moves on only when this message is settled for good.
      if (finalAttempt && !requeued) await redis.zrem(keys.pending, jobId);
      await lock.release();
    }
  }

  /** The thread's lock when this job is the thread's oldest pending message and no other run holds it. */
  async function takeTurn(jobId: string, keys: { pending: string; lock: string }): Promise<ThreadLock | undefined> {
    for (;;) {
      const [first] = await redis.zrange(keys.pending, '0', '0');
      if (!first || first === jobId) break;
      // A pending entry whose job no longer exists or already ended must not block the thread.
      const state = await jobState(first);
      if (state === 'gone' || state === 'completed' || state === 'failed') {
        await redis.zrem(keys.pending, first);
        continue;
      }
      return undefined;
    }
    // As long as BullMQ's own lock: after a crash the re-run finds the thread free when BullMQ
    // re-runs the job. A run that was only paused past it finds its lock taken (assertHeld) and
    // stops before posting, and the re-run edits what reply state says was posted already.
    const lock = createThreadLock(redis, keys.lock, {
      jobId,
      ttlMs: options.threadLockMs ?? lockMs,
      onRenewError: (err) => logger.warn({ jobId, err: describeError(err) }, 'thread lock renewal failed'),
    });
    return (await lock.acquire()) ? lock : undefined;
  }

  async function jobState(jobId: string): Promise<string> {
    const other = await lookup.getJob(jobId);
    return other ? await other.getState() : 'gone';
  }

  /** Answers one job; returns what the team's model calls used, when it ran. */
  async function answer(
    job: Job<TurnJob>,
    data: TurnJob,
    delivery: ChatDelivery | undefined,
    released: AbortSignal,
    finalAttempt: boolean,
  ): Promise<Pick<TurnInfo, 'usage' | 'costUsd'>> {
    const runId = data.runId ?? job.id!;
    if (delivery && !(await delivery.open())) return {}; // answered before this re-run
    let outcome: TurnOutcome;
    try {
      outcome = await options.runner.run(
        { runId, message: incomingOf(data) },
        { signal: released, attempt: job.attemptsMade + 1, finalAttempt, onEvent: delivery?.onEvent },
      );
    } catch (err) {
      await delivery?.settle();
      if (released.aborted) throw err; // not a failure: the job goes back to the queue (processJob)
      if (isDatabaseOutage(err)) throw err; // waited out in the queue (processJob)
      logger.warn({ jobId: job.id, err: describeError(err), transient: isTransient(err), attemptsLeft: !finalAttempt }, 'turn failed');
      if (willRetry(err, finalAttempt)) {
        await delivery?.note(`Hit a snag (${userFacingError(err)}). Retrying…`);
        throw err;
      }
      // Final: say so in the thread, never leave the placeholder hanging.
      const text = userFacingError(err);
      await options.conversation.recordFailure(incomingOf(data), text).catch(() => {});
      if (delivery) await deliver(job, delivery, { outcome: { kind: 'error', text } }, finalAttempt);
      const final = new UnrecoverableError(text);
      final.cause = err;
      throw final;
    }
    await delivery?.settle();
    if (delivery) await deliver(job, delivery, chatAnswerOf(outcome, options.clock, runId), finalAttempt);
    return outcome.status === 'completed' ? { usage: outcome.result.usage, costUsd: outcome.result.costUsd } : {};
  }

  function chatDeliveryFor(jobId: string, runId: string, data: ChatJob, lock: ThreadLock, held?: PostedRef): ChatDelivery {
    const adapter = options.adapters[data.platform];
    if (!adapter) throw new UnrecoverableError(`no ${data.platform} adapter is configured in this worker`);
    const streaming = {
      off: streamingOff,
      rotateMs: options.streamRotateMs ?? PLATFORM_LIMITS.slack.streamRotateMs,
      intervalMs: PLATFORM_LIMITS.slack.streamAppendIntervalMs,
    };
    const budget = editBudgets[data.platform];
    return createChatDelivery({ jobId, runId, job: data, adapter, replies, lock, budget, clock: options.clock, logger, streaming, held });
  }

  async function deliver(job: Job<TurnJob>, delivery: ChatDelivery, chatAnswer: ChatAnswer, finalAttempt: boolean) {
    try {
      await delivery.deliver(chatAnswer);
    } catch (err) {
      // A retry delivers again (reply state says what is posted); on the last try, or when the platform
      // refuses the message itself (Slack invalid_blocks, Discord 50035), say it in plain text instead.
      if (willRetry(err, finalAttempt)) throw err;
      logger.error({ jobId: job.id, err: describeError(err) }, 'answer could not be delivered; posting it as plain text');
      await delivery.deliverPlain(plainAnswer(chatAnswer)).catch((e) =>
        logger.error({ jobId: job.id, err: describeError(e) }, 'plain-text answer could not be posted either'),
      );
      const final = new UnrecoverableError(`answer not delivered: ${describeError(err)}`);
      final.cause = err;
      throw final;
    }
  }

  async function noticeFinalFailure(job: Job<TurnJob>, err: Error, toldAlready: boolean): Promise<void> {
    const parsed = TurnJobSchema.safeParse(job.data);
    if (!parsed.success) return; // nowhere to say it
    const data = parsed.data;
    const jobId = job.id!;
    // Readers of the run's events learn it ended, unless the run already said so itself.
    await endRunLog(data.runId ?? jobId, err).catch(() => {});
    const adapter = data.platform === 'api' ? undefined : options.adapters[data.platform];
    if (!adapter) return;
    try {
      await redis.zrem(threadKeys(queueName, data.threadKey).pending, jobId);
      const text = userFacingError(err);
      // History first, as the processor does (a no-op when the turn stored its reply already).
      await options.conversation
        .recordFailure(incomingOf(data), text)
        .catch((e) => logger.warn({ jobId, err: describeError(e) }, 'could not record the failure'));
      // Said in the thread already, without the database (it was down): a notice now would be a second one.
      if (!toldAlready) await postFailureNotice({ adapter, replies, logger }, jobId, data as ChatJob, `⚠️ ${text}`);
    } catch (e) {
      logger.error({ jobId, err: describeError(e) }, 'could not post the failure notice');
    }
  }

  /** Ends a run's event log with `run_error` when a job failed for good without the runner ending it. */
  async function endRunLog(runId: string, err: Error) {
    const last = (await options.events.read(runId)).at(-1);
    if (!last || !isTerminal(last.event)) await options.events.append(runId, runError(err));
  }

  return {
    worker,
    async close(deadlineMs = DEFAULTS.shutdownDeadlineMs) {
      const graceful = worker.close();
      if (!(await settlesWithin(graceful, deadlineMs))) {
        // Turns still running are stopped and their jobs put back in the queue for another worker,
        // rather than left active until BullMQ's stall check notices them (up to a minute later).
        logger.warn({ running: inFlight.size }, 'shutdown deadline passed; releasing unfinished jobs');
        for (const release of inFlight) release.abort(new Error('worker shutting down'));
        // Forced close can itself hang (BullMQ, right after Redis came back): it gets a deadline too.
        if (!(await settlesWithin(graceful, RELEASE_GRACE_MS))) await settlesWithin(worker.close(true), RELEASE_GRACE_MS);
      }
      await Promise.all([...notices]);
      await lookup.close();
      redis.disconnect();
      budgetRedis.disconnect();
    },
  };
}

/** How long released turns get to wind down and requeue before the worker closes regardless. */
const RELEASE_GRACE_MS = 5_000;

function attemptsLeft(job: Job): boolean {
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1);
}

/** The code of a turn's failure, also when it was wrapped to stop BullMQ's retries. */
function turnErrorCode(err: unknown): string {
  return errorCodeOf(err instanceof UnrecoverableError ? err.cause : err);
}

function incomingOf(data: TurnJob): IncomingMessage {
  return {
    platform: data.platform,
    workspace: data.workspace,
    threadKey: data.threadKey,
    externalId: data.messageId,
    user: { platformUserId: data.userId, displayName: data.userName ?? null },
    text: data.text,
  };
}
