import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { ChatAdapter, ChatAnswer, PostedRef, ReplyTarget } from '../adapters/chat-adapter.js';
import { PLATFORM_LIMITS } from '../adapters/chat-adapter.js';
import { createReplyStateStore } from '../db/repositories/reply-state.js';
import { type IncomingMessage, userFacingError } from '../src/conversation/conversation-service.js';
import { DEFAULTS } from '../src/constants.js';
import { describeError, MovebotError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { Message, TokenUsage } from '../src/ports/session-store.js';
import type { Runtime } from '../src/runtime.js';
import { createProgressBoard } from '../src/team/progress.js';
import { reportFileName } from '../src/team/report.js';
import type { Recommendation, TeamOutcome } from '../src/team/types.js';
import { extractCityPair } from '../src/tools/city-resolver.js';
import { type ChatJob, ChatJobSchema } from './chat-job.js';
import { createEditBudget, EDIT_BUDGET_REDIS_OPTIONS } from './edit-budget.js';
import { postFailureNotice } from './failure-notice.js';
import { CHAT_QUEUE_NAME } from './message-queue.js';
import { redisOptionsFromUrl, threadKeys } from './redis.js';
import { createThreadLock, type ThreadLock } from './thread-lock.js';
import { createThrottledSender } from './throttle.js';

export interface ChatWorkerOptions {
  runtime: Runtime;
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
  /** Called after every finished turn (metrics). */
  onTurn?: (info: TurnInfo) => void;
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
 * The worker role: runs the team for each queued chat message and replies through the platform.
 * Messages of one thread are answered one at a time in arrival order; other threads run in parallel.
 */
export function createChatWorker(options: ChatWorkerOptions): ChatWorker {
  const { runtime, logger } = options;
  const queueName = options.queueName ?? CHAT_QUEUE_NAME;
  const replies = createReplyStateStore(runtime.db);
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'worker redis error'));
  const lockMs = options.lockDurationMs ?? 30_000;
  // Shared by all workers through Redis; its own client, so an outage skips progress instead of holding answers.
  const budgetRedis = new Redis(options.redisUrl, EDIT_BUDGET_REDIS_OPTIONS);
  budgetRedis.on('error', (err) => logger.debug({ err: err.message }, 'edit budget redis error'));
  const budgetFor = (platform: ChatJob['platform']) =>
    createEditBudget({
      redis: budgetRedis,
      perMinute: options.progressEditsPerMinute ?? PLATFORM_LIMITS[platform].progressEditsPerMinute,
      clock: runtime.clock,
      keyPrefix: `movebot:${queueName}:edit-budget:`,
      onError: (err) =>
        logger.debug({ err: describeError(err) }, 'edit budget unavailable; progress edit skipped'),
    });
  const editBudgets = { slack: budgetFor('slack'), discord: budgetFor('discord') };
  // For looking up other jobs of a thread (a stale pending entry must not block it forever).
  const lookup = new Queue<ChatJob>(queueName, { connection: redisOptionsFromUrl(options.redisUrl) });
  // Turns being answered, so a shutdown past its deadline can stop them and put their jobs back.
  const inFlight = new Set<AbortController>();
  // Failure notices being posted; closing waits for them, they need Redis and the database.
  const notices = new Set<Promise<void>>();

  const worker = new Worker<ChatJob>(queueName, (job, token) => processJob(job, token), {
    connection: redisOptionsFromUrl(options.redisUrl),
    concurrency: options.concurrency ?? DEFAULTS.workerConcurrency,
    lockDuration: lockMs,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
  });
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, err: err.message }, 'chat job failed');
    // Final failures the processor never saw (a job that stalled too often is failed by BullMQ without
    // running it) must still be said in the thread; the claim in reply state keeps it to one notice.
    if (!job?.finishedOn) return;
    const notice = noticeFinalFailure(job, err);
    notices.add(notice);
    void notice.finally(() => notices.delete(notice));
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));

  async function processJob(job: Job<ChatJob>, token?: string): Promise<void> {
    const parsed = ChatJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid chat job: ${parsed.error.message}`);
    const data = parsed.data;
    const keys = threadKeys(queueName, data.threadKey);
    const jobId = job.id!;

    const lock = await takeTurn(jobId, keys);
    if (!lock) {
      // Another message of this thread goes first (or another run of this one is still going); look
      // again shortly without spending an attempt.
      await job.moveToDelayed(Date.now() + (options.threadRetryMs ?? 250), token);
      throw new DelayedError();
    }
    const started = Date.now();
    let finalAttempt = !attemptsLeft(job);
    const release = new AbortController();
    inFlight.add(release);
    try {
      const spent = await answer(job, data, lock, release.signal);
      finalAttempt = true;
      options.onTurn?.({ platform: data.platform, ok: true, ms: Date.now() - started, ...spent });
    } catch (err) {
      if (release.signal.aborted) {
        // Released at the shutdown deadline: back in the queue at once, no attempt spent. The re-run
        // finds the placeholder in reply state and edits it, so the thread still gets one answer.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (err instanceof UnrecoverableError) finalAttempt = true;
      options.onTurn?.({ platform: data.platform, ok: false, ms: Date.now() - started, errorCode: errorCodeOf(err) });
      throw err;
    } finally {
      inFlight.delete(release);
      // The thread moves on only when this message is settled for good.
      if (finalAttempt) await redis.zrem(keys.pending, jobId);
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
    job: Job<ChatJob>,
    data: ChatJob,
    lock: ThreadLock,
    released: AbortSignal,
  ): Promise<Pick<TurnInfo, 'usage' | 'costUsd'>> {
    const adapter = options.adapters[data.platform];
    if (!adapter) throw new UnrecoverableError(`no ${data.platform} adapter is configured in this worker`);
    const jobId = job.id!;
    const state = await replies.get(jobId);
    if (state?.status === 'answered') return {};

    const target: ReplyTarget = data;
    let ref: PostedRef | null = state?.placeholder ?? null;
    if (!ref) {
      await lock.assertHeld();
      ref = await adapter.postPlaceholder(target, initialText(data.text));
      await replies.savePlaceholder(jobId, data.platform, data.channel, ref);
    }
    const placeholder = ref;
    const board = createProgressBoard();
    const budgetKey = `${data.platform}:${data.workspace}`;
    const progress = createThrottledSender(
      // Out of budget, this update is dropped; the next one (or the answer) catches the thread up.
      async (text) => {
        if (await editBudgets[data.platform].tryTake(budgetKey)) {
          await adapter.updateProgress(target, placeholder, text);
        }
      },
      PLATFORM_LIMITS[data.platform].editIntervalMs,
      (err) => logger.debug({ err: describeError(err) }, 'progress update failed'),
    );
    const incoming = incomingOf(data);

    let chatAnswer: ChatAnswer;
    let spent: Pick<TurnInfo, 'usage' | 'costUsd'> = {};
    try {
      const turn = await runtime.conversation.handle(incoming, {
        emit: (event) => {
          if (event.type !== 'done' && board.apply(event)) progress.push(board.render());
        },
        signal: released,
      });
      await progress.stop();
      spent = { usage: turn.usage, costUsd: turn.costUsd };
      chatAnswer = answerFrom(turn.outcome ?? outcomeFromStored(turn.reply), runtime);
    } catch (err) {
      await progress.stop();
      if (released.aborted) throw err; // not a failure: the job goes back to the queue (processJob)
      const transient = isTransient(err);
      logger.warn({ jobId, err: describeError(err), transient, attemptsLeft: attemptsLeft(job) }, 'turn failed');
      if (transient && attemptsLeft(job)) {
        await adapter
          .updateProgress(target, placeholder, `Hit a snag (${userFacingError(err)}). Retrying…`)
          .catch(() => {});
        throw err;
      }
      // Final: say so in the thread, never leave the placeholder hanging.
      const text = userFacingError(err);
      await runtime.conversation.recordFailure(incoming, text).catch(() => {});
      chatAnswer = { outcome: { kind: 'error', text } };
    }
    await lock.assertHeld();
    try {
      await adapter.deliverAnswer(target, placeholder, chatAnswer, {
        alreadyPosted: Object.keys(state?.parts ?? {}),
        onPosted: (partKey, id) => replies.addPart(jobId, partKey, id),
      });
    } catch (err) {
      // A retry delivers again (reply state says what is posted); on the last try, or when the platform
      // refuses the message itself (Slack invalid_blocks, Discord 50035), say it in plain text instead.
      if (isTransient(err) && attemptsLeft(job)) throw err;
      logger.error({ jobId, err: describeError(err) }, 'answer could not be delivered; posting it as plain text');
      await postFailureNotice({ adapter, replies, logger }, jobId, data, plainAnswer(chatAnswer)).catch((e) =>
        logger.error({ jobId, err: describeError(e) }, 'plain-text answer could not be posted either'),
      );
      const final = new UnrecoverableError(`answer not delivered: ${describeError(err)}`);
      final.cause = err;
      throw final;
    }
    await replies.markAnswered(jobId, chatAnswer.outcome.kind === 'error' ? 'failed' : 'answered');
    if (chatAnswer.outcome.kind === 'error') throw new UnrecoverableError(chatAnswer.outcome.text);
    return spent;
  }

  async function noticeFinalFailure(job: Job<ChatJob>, err: Error): Promise<void> {
    const parsed = ChatJobSchema.safeParse(job.data);
    const adapter = parsed.success ? options.adapters[parsed.data.platform] : undefined;
    if (!parsed.success || !adapter) return; // nowhere to say it
    const data = parsed.data;
    const jobId = job.id!;
    try {
      await redis.zrem(threadKeys(queueName, data.threadKey).pending, jobId);
      const text = userFacingError(err);
      // History first, as the processor does (a no-op when the turn stored its reply already).
      await runtime.conversation
        .recordFailure(incomingOf(data), text)
        .catch((e) => logger.warn({ jobId, err: describeError(e) }, 'could not record the failure'));
      await postFailureNotice({ adapter, replies, logger }, jobId, data, `⚠️ ${text}`);
    } catch (e) {
      logger.error({ jobId, err: describeError(e) }, 'could not post the failure notice');
    }
  }

  return {
    worker,
    async close(deadlineMs = DEFAULTS.shutdownDeadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close();
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), deadlineMs);
      });
      if ((await Promise.race([graceful, expired])) === 'expired') {
        // Turns still running are stopped and their jobs put back in the queue for another worker,
        // rather than left active until BullMQ's stall check notices them (up to a minute later).
        logger.warn({ running: inFlight.size }, 'shutdown deadline passed; releasing unfinished jobs');
        for (const release of inFlight) release.abort(new Error('worker shutting down'));
        const released = new Promise<'stuck'>((resolve) => {
          timer = setTimeout(() => resolve('stuck'), RELEASE_GRACE_MS);
        });
        if ((await Promise.race([graceful, released])) === 'stuck') await worker.close(true);
      }
      clearTimeout(timer);
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

/** Unknown errors (network, a bug) may pass on a retry; our own say whether they can. */
function isTransient(err: unknown): boolean {
  return err instanceof MovebotError ? err.transient : true;
}

function errorCodeOf(err: unknown): string {
  const cause = err instanceof UnrecoverableError ? err.cause : err;
  return cause instanceof MovebotError ? cause.code : 'internal';
}

function incomingOf(data: ChatJob): IncomingMessage {
  return {
    platform: data.platform,
    workspace: data.workspace,
    threadKey: data.threadKey,
    externalId: data.messageId,
    user: { platformUserId: data.userId, displayName: data.userName ?? null },
    text: data.text,
  };
}

/** The answer the platform would not take in its rich form, as plain text. */
function plainAnswer(answer: ChatAnswer): string {
  const { outcome } = answer;
  if (outcome.kind === 'error') return `⚠️ ${outcome.text}`;
  return `⚠️ I couldn't post my answer here in full, so here it is as plain text:\n\n${outcome.text}`;
}

function initialText(text: string): string {
  const pair = extractCityPair(text);
  return pair.from && pair.to ? `Looking into ${pair.from} → ${pair.to}…` : 'Thinking about your question…';
}

function answerFrom(outcome: TeamOutcome, runtime: Runtime): ChatAnswer {
  if (outcome.kind !== 'recommendation') return { outcome };
  return {
    outcome,
    report: { fileName: reportFileName(outcome.recommendation, runtime.clock), markdown: outcome.markdown },
  };
}

/** Rebuilds the outcome of a turn answered before (the job re-ran after storing its answer). */
function outcomeFromStored(reply: Message): TeamOutcome {
  const meta = reply.metadata as { kind?: string; report?: string; recommendation?: Recommendation };
  if (meta.kind === 'recommendation' && meta.recommendation && meta.report) {
    return { kind: 'recommendation', text: reply.content, recommendation: meta.recommendation, markdown: meta.report };
  }
  return { kind: 'answer', text: reply.content };
}
