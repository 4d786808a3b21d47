import type { RedisOptions } from 'bullmq';

/**
 * BullMQ brings its own ioredis; passing plain options (not a client built from another ioredis
 * major) keeps the two from mixing. Workers need `maxRetriesPerRequest: null`.
 */
export function redisOptionsFromUrl(url: string, overrides: Partial<RedisOptions> = {}): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    ...overrides,
  };
}

/** Redis keys for per-thread ordering, shared by the producer and the worker. */
export const threadKeys = (queueName: string, threadKey: string) => {
  const safe = Buffer.from(threadKey).toString('base64url');
  return {
    /** Sorted set of job ids waiting in this thread, scored by arrival time. */
    pending: `movebot:${queueName}:thread:${safe}:pending`,
    /** Held by the job currently answering in this thread. */
    lock: `movebot:${queueName}:thread:${safe}:lock`,
  };
};
