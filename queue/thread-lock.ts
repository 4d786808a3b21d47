import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MovebotError } from '../src/errors.js';

/**
 * The lock one run of a thread's job holds while it answers, so two runs never post into a thread at
 * once. Its value names the run (job id + a fresh id per attempt), not just the job: BullMQ re-runs a
 * job it wrongly thinks stalled (a long pause, a Redis blip) while the first run goes on, and a lock
 * any run of the same job could take back let both read empty reply state and each post an answer.
 * The holder renews it while it runs, so it lapses only when the holder is gone (killed, hung).
 */
export interface ThreadLock {
  /** Takes the lock when it is free or has lapsed; false while another run holds it. */
  acquire(): Promise<boolean>;
  /** Throws when another run has taken the lock since (this run hung past its lifetime): checked before posting. */
  assertHeld(): Promise<void>;
  /** Stops renewing and frees the lock if it is still this run's. */
  release(): Promise<void>;
}

const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export function createThreadLock(
  redis: Redis,
  key: string,
  options: { jobId: string; ttlMs: number; onRenewError?: (err: unknown) => void },
): ThreadLock {
  const owner = `${options.jobId}:${randomUUID()}`;
  const { ttlMs } = options;
  let renewal: NodeJS.Timeout | undefined;

  return {
    async acquire() {
      if ((await redis.set(key, owner, 'PX', ttlMs, 'NX')) !== 'OK') return false;
      // Four renewals per lifetime: a few missed ones (a slow Redis) do not lose the lock.
      renewal = setInterval(() => {
        redis.eval(RENEW, 1, key, owner, ttlMs).catch((err) => options.onRenewError?.(err));
      }, ttlMs / 4);
      renewal.unref();
      return true;
    },
    async assertHeld() {
      const holder = await redis.get(key);
      if (holder === owner) return;
      throw new MovebotError(
        'queue_unavailable',
        `another run of job ${options.jobId} holds its thread now`,
        {
          cause: { holder },
          // This run's job may still be retried; the reply state tells the retry what was posted.
          transient: true,
        },
      );
    },
    async release() {
      clearInterval(renewal);
      await redis.eval(RELEASE, 1, key, owner);
    },
  };
}
