import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE } from '../src/constants.js';
import { MovebotError } from '../src/errors.js';
import { withTimeout } from '../src/util/timeout.js';
import type { Logger } from '../src/logger.js';
import { chatJobId, type TurnJob, TurnJobSchema } from '../src/ports/turn-job.js';
import { CHAT_QUEUE_NAME, type MessageQueue } from '../src/ports/message-queue.js';
import { redisOptionsFromUrl, threadKeys } from './redis.js';

/**
 * KEYS: BullMQ's job hash (default `bull` prefix), the arrival counter, the thread's pending set, a
 * short-lived claim on the job id. The claim makes two deliveries at the same moment (a double click)
 * one: the second sees it before the first has added its job. It expires on its own, so a delivery
 * whose add failed can be retried a few seconds later.
 */
const REGISTER_ARRIVAL = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then return 0 end
local arrival = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], 'NX', arrival, ARGV[1])
return 1`;

export interface MessageQueueOptions {
  redisUrl: string;
  queueName?: string;
  logger?: Logger;
  /** How long an enqueue may wait for Redis before the ingress request fails (and the platform retries). */
  timeoutMs?: number;
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

  /** Registers the message in its thread's order and adds its job; a duplicate delivery adds nothing. */
  async function add(job: TurnJob, jobId: string): Promise<{ enqueued: boolean; jobId: string }> {
    await connected();
    // One round trip: a job that exists already is a duplicate delivery; otherwise the message
    // takes its place in its thread's order (an arrival counter, so two in one millisecond never
    // tie) before the job exists, so the worker can hold later messages of the thread back.
    // If the add below fails, the worker drops the orphaned entry and the platform's retry re-enqueues.
    const claim = `movebot:${queueName}:enqueuing:${jobId}`;
    const registered = await redis.eval(
      REGISTER_ARRIVAL,
      4,
      `bull:${queueName}:${jobId}`,
      `movebot:${queueName}:arrivals`,
      threadKeys(queueName, job.threadKey).pending,
      claim,
      jobId,
      QUEUE.enqueueClaimMs,
    );
    if (registered === 0) return { enqueued: false, jobId };
    try {
      await queue.add('chat', job, {
        jobId,
        attempts: QUEUE.attempts,
        backoff: { type: 'exponential', delay: QUEUE.retryDelayMs },
        removeOnComplete: { age: QUEUE.keepCompletedSeconds, count: 10_000 },
        removeOnFail: { age: QUEUE.keepFailedSeconds },
      });
    } catch (err) {
      await redis.del(claim).catch(() => undefined); // the platform's retry may try again at once
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
