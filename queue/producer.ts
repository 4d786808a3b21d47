import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { LIMITS, QUEUE } from '../src/constants.js';
import { MovebotError } from '../src/errors.js';
import { withTimeout } from '../src/util/timeout.js';
import type { Logger } from '../src/logger.js';
import { chatJobId, type TurnJob, TurnJobSchema } from '../src/ports/turn-job.js';
import { CHAT_QUEUE_NAME, type EnqueueResult, type LimitHit, type MessageQueue } from '../src/ports/message-queue.js';
import { createQuotas, type QuotaOptions } from './quotas.js';
import { redisOptionsFromUrl, threadKeys } from './redis.js';

/**
 * KEYS: BullMQ's job hash (default `bull` prefix), a short-lived claim on the job id. A job that
 * exists already is a duplicate delivery; so is one whose claim is taken. The claim makes two
 * deliveries at the same moment (a double click, Slack's message + app_mention pair) one: the second
 * sees it before the first has added its job, or been refused by a limit. It expires on its own, so
 * a delivery whose add failed can be retried a few seconds later; a refused one keeps it longer
 * (LIMITS.refusedMemoMs), so a redelivery is not refused (and answered) twice.
 * KEYS[3]: the thread's pending set, ARGV[2]: the job id. A claimed delivery also gets the count of
 * messages waiting in its thread, not counting itself (a retry whose add failed has a place): one
 * round trip instead of three on the ingress path.
 */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return -1 end
local count = redis.call('ZCARD', KEYS[3])
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then count = count - 1 end
return count`;

/**
 * KEYS: the arrival counter, the thread's pending set. ARGV: the job id, the pending limit (0: none).
 * Takes the message's place in its thread's order, unless the thread already holds the limit
 * (checked here, atomically, so a burst cannot overfill it): then -1 and no place is taken. A retry
 * of a message that already has its place (its add failed) keeps it.
 */
const REGISTER_ARRIVAL = `
local limit = tonumber(ARGV[2])
if limit > 0 and not redis.call('ZSCORE', KEYS[2], ARGV[1]) and redis.call('ZCARD', KEYS[2]) >= limit then return -1 end
local arrival = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], 'NX', arrival, ARGV[1])
return 1`;

export interface MessageQueueOptions {
  redisUrl: string;
  queueName?: string;
  logger?: Logger;
  /** How long an enqueue may wait for Redis before the ingress request fails (and the platform retries). */
  timeoutMs?: number;
  /**
   * The ingress limits (queue/quotas.ts). Without them nothing is limited: the web role passes the
   * configured ones (LIMIT_* variables); tools and tests that own a queue may leave them out.
   */
  limits?: QuotaOptions;
  /** Called for each message refused by a limit (the web role counts them in /metrics). */
  onLimited?: (hit: LimitHit, job: TurnJob) => void;
}

/** The BullMQ-backed MessageQueue used by the web role. */
export function createMessageQueue(options: MessageQueueOptions): MessageQueue & { readonly queue: Queue } {
  const queueName = options.queueName ?? CHAT_QUEUE_NAME;
  // Fail fast at ingress: a Slack request must not hang until its 3 s ack deadline.
  const queue = new Queue<TurnJob>(queueName, {
    connection: redisOptionsFromUrl(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: options.timeoutMs ?? QUEUE.enqueueTimeoutMs,
    }),
  });
  queue.on('error', (err) => options.logger?.warn({ err: err.message }, 'queue connection error'));
  // Our own small client for the per-thread ordering keys (BullMQ's client is internal).
  const redis = new Redis(options.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: options.timeoutMs ?? QUEUE.enqueueTimeoutMs,
    lazyConnect: true,
  });
  redis.on('error', () => {});
  // Every caller waits on the same first connection; concurrent enqueues must not race it. A failed
  // first attempt is forgotten, so the next enqueue tries again once Redis is back (ioredis itself
  // reconnects only a connection that once succeeded or is still retrying).
  let firstConnect: Promise<void> | undefined;
  const connected = async () => {
    if (!firstConnect && (redis.status === 'wait' || redis.status === 'end')) {
      firstConnect = redis.connect().catch((err: unknown) => {
        firstConnect = undefined;
        throw err;
      });
    }
    if (firstConnect) await firstConnect;
  };

  const quotas = options.limits ? createQuotas(redis, `movebot:${queueName}:limits`, options.limits, options.logger) : undefined;

  /**
   * Claims the job id, checks the limits, registers the message in its thread's order and adds its
   * job. A duplicate delivery adds nothing and spends no quota: it is recognised before any limit is
   * looked at. A refused message takes no place in its thread and keeps no quota.
   */
  async function add(job: TurnJob, jobId: string): Promise<EnqueueResult> {
    await connected();
    const claim = `movebot:${queueName}:enqueuing:${jobId}`;
    const pending = threadKeys(queueName, job.threadKey).pending;
    const waitingInThread = Number(
      await redis.eval(CLAIM, 3, `bull:${queueName}:${jobId}`, claim, pending, QUEUE.enqueueClaimMs, jobId),
    );
    if (waitingInThread < 0) return { enqueued: false, jobId };
    const refuse = async (limited: LimitHit): Promise<EnqueueResult> => {
      await redis.pexpire(claim, LIMITS.refusedMemoMs).catch(() => undefined);
      options.onLimited?.(limited, job);
      options.logger?.info({ jobId, limit: limited.limit, platform: job.platform, workspace: job.workspace }, 'message refused by a limit');
      return { enqueued: false, jobId, limited };
    };
    let limited: LimitHit | undefined;
    try {
      // Messages waiting in the thread, not counting this one (read with the claim).
      limited = await quotas?.check(job, async () => waitingInThread);
    } catch (err) {
      await redis.del(claim).catch(() => undefined);
      throw err;
    }
    if (limited) return refuse(limited);
    // The message takes its place in its thread's order (an arrival counter, so two in one
    // millisecond never tie) before the job exists, so the worker can hold later messages of the
    // thread back. If the add below fails, the worker drops the orphaned entry and the platform's
    // retry re-enqueues.
    let registered: unknown;
    try {
      registered = await redis.eval(REGISTER_ARRIVAL, 2, `movebot:${queueName}:arrivals`, pending, jobId, quotas?.pendingPerThread ?? 0);
    } catch (err) {
      await Promise.all([redis.del(claim).catch(() => undefined), quotas?.refund(job)]);
      throw err;
    }
    if (registered === -1 && quotas) {
      await quotas.refund(job);
      return refuse(quotas.threadFull());
    }
    try {
      await queue.add('chat', job, {
        jobId,
        attempts: QUEUE.attempts,
        backoff: { type: 'exponential', delay: QUEUE.retryDelayMs },
        removeOnComplete: { age: QUEUE.keepCompletedSeconds, count: 10_000 },
        removeOnFail: { age: QUEUE.keepFailedSeconds },
      });
    } catch (err) {
      // The platform's retry may try again at once, and the turn it did not get is given back.
      await Promise.all([redis.del(claim).catch(() => undefined), quotas?.refund(job)]);
      throw err;
    }
    return { enqueued: true, jobId };
  }

  return {
    queue,
    async enqueue(raw) {
      const parsed = TurnJobSchema.parse(raw);
      const jobId = chatJobId(parsed);
      // Each job is one run: its events and stop requests are filed under this id.
      const job = { ...parsed, runId: parsed.runId ?? randomUUID() };
      const timeoutMs = options.timeoutMs ?? QUEUE.enqueueTimeoutMs;
      try {
        return await withTimeout(add(job, jobId), timeoutMs, () => new Error(`Redis did not answer within ${timeoutMs} ms`));
      } catch (err) {
        throw new MovebotError('queue_unavailable', `could not enqueue the message: ${(err as Error).message}`, {
          cause: err,
          transient: true,
        });
      }
    },
    async hasPending(threadKey) {
      await connected();
      return (await redis.zcard(threadKeys(queueName, threadKey).pending)) > 0;
    },
    async counts() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      return {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        completed: c.completed ?? 0,
      };
    },
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
