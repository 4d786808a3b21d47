import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMessageQueue } from '../queue/producer.js';
import { workspaceOf } from '../queue/quotas.js';
import { threadKeys } from '../queue/redis.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { formatWait, type LimitHit, limitReplyText } from '../src/ports/message-queue.js';
import { chatJobId, type TurnJob } from '../src/ports/turn-job.js';

/**
 * The ingress limits below the wire: the producer's refusals and duplicates on real Redis (random
 * queue names), its behaviour when the workspace spend cannot be read, and the limits' configuration
 * and wording. The drills at the wire are in ingress-limits.test.ts.
 */

const REDIS_URL = process.env.REDIS_URL!;
const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

describe('the producer: duplicates, refusals and an unreachable database', () => {
  const job = (over: Partial<TurnJob> = {}): TurnJob => ({
    platform: 'slack',
    workspace: 'TP',
    channel: 'CP',
    messageId: randomUUID(),
    userId: 'UP',
    text: 'Should I move?',
    threadKey: `slack:TP:CP:${randomUUID()}`,
    receivedAt: new Date().toISOString(),
    ...over,
  });

  it('a redelivered refused message is a duplicate: refused and counted once', async () => {
    const hits: LimitHit[] = [];
    const queue = createMessageQueue({
      redisUrl: REDIS_URL,
      queueName: `movebot-test-${randomUUID()}`,
      limits: { turnsPerMinute: 1, dailyBudgetUsd: 0, pendingPerThread: 0 },
      onLimited: (hit) => hits.push(hit),
    });
    try {
      const first = job();
      expect(await queue.enqueue(first)).toMatchObject({ enqueued: true });
      expect(await queue.enqueue(first)).toEqual({ enqueued: false, jobId: chatJobId(first) });
      const second = job();
      const refused = await queue.enqueue(second);
      expect(refused).toMatchObject({ enqueued: false, limited: { limit: 'user_turns', max: 1 } });
      expect(await queue.enqueue(second)).toEqual({ enqueued: false, jobId: chatJobId(second) });
      expect(hits.map((h) => h.limit)).toEqual(['user_turns']);
    } finally {
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });

  it('a burst into one thread never overfills it; a retry of a message that has its place keeps it', async () => {
    const queueName = `movebot-test-${randomUUID()}`;
    const queue = createMessageQueue({
      redisUrl: REDIS_URL,
      queueName,
      limits: { turnsPerMinute: 0, dailyBudgetUsd: 0, pendingPerThread: 10 },
    });
    try {
      const threadKey = `slack:TP:CP:${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 15 }, () => queue.enqueue(job({ threadKey }))));
      expect(results.filter((r) => r.enqueued)).toHaveLength(10);
      expect(results.filter((r) => r.limited?.limit === 'thread_pending')).toHaveLength(5);
      expect(await redis.zcard(threadKeys(queueName, threadKey).pending)).toBe(10);

      // A message whose add failed after it took its place (its claim expired): the retry is taken.
      const other = `slack:TP:CP:${randomUUID()}`;
      const retried = job({ threadKey: other });
      const pending = threadKeys(queueName, other).pending;
      await redis.zadd(pending, 1, chatJobId(retried));
      for (let i = 0; i < 9; i++) await redis.zadd(pending, 2 + i, `other-${i}`);
      expect(await queue.enqueue(retried)).toMatchObject({ enqueued: true });
      expect(await queue.enqueue(job({ threadKey: other }))).toMatchObject({ limited: { limit: 'thread_pending' } });
    } finally {
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });

  it('lets messages through when the spend cannot be read (database down or slow), without waiting long', async () => {
    for (const spentToday of [
      async () => {
        throw new Error('connection refused');
      },
      () => new Promise<number>(() => {}), // hangs
    ]) {
      const queue = createMessageQueue({
        redisUrl: REDIS_URL,
        queueName: `movebot-test-${randomUUID()}`,
        limits: { turnsPerMinute: 0, dailyBudgetUsd: 1, pendingPerThread: 0, spentToday },
      });
      try {
        const started = Date.now();
        expect(await queue.enqueue(job())).toMatchObject({ enqueued: true });
        expect(Date.now() - started).toBeLessThan(1_500);
        // Backing off: the next message does not ask the database again.
        const again = Date.now();
        expect(await queue.enqueue(job())).toMatchObject({ enqueued: true });
        expect(Date.now() - again).toBeLessThan(300);
      } finally {
        await queue.queue.obliterate({ force: true }).catch(() => {});
        await queue.close();
      }
    }
  });

  it('asks the database once for a burst from one workspace, and names workspaces by thread key prefix', async () => {
    let lookups = 0;
    const queue = createMessageQueue({
      redisUrl: REDIS_URL,
      queueName: `movebot-test-${randomUUID()}`,
      limits: {
        turnsPerMinute: 0,
        dailyBudgetUsd: 1,
        pendingPerThread: 0,
        spentToday: async (workspace) => {
          lookups++;
          return workspace.workspace === 'TRICH' ? 0 : 2;
        },
      },
    });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => queue.enqueue(job({ workspace: 'TRICH' }))));
      expect(results.every((r) => r.enqueued)).toBe(true);
      expect(lookups).toBe(1);
      expect(await queue.enqueue(job({ workspace: 'TPOOR' }))).toMatchObject({ enqueued: false, limited: { limit: 'workspace_budget', max: 1 } });
    } finally {
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
    expect(workspaceOf({ platform: 'slack', workspace: 'T1' }).threadKeyPrefix).toBe('slack:T1:');
    expect(workspaceOf({ platform: 'discord', workspace: '@dm' }).threadKeyPrefix).toBe('discord:@dm:');
    expect(workspaceOf({ platform: 'api', workspace: 'api' }).threadKeyPrefix).toBe('api:');
  });
});

describe('configuration and wording of the limits', () => {
  it('reads LIMIT_* (0 turns a limit off) and names every wrong one', () => {
    expect(loadConfig('web', {}).limits).toEqual({ turnsPerMinute: 5, dailyBudgetUsd: 5, pendingPerThread: 10 });
    expect(loadConfig('web', { LIMIT_TURNS_PER_MINUTE: '0', LIMIT_DAILY_BUDGET_USD: '2.50', LIMIT_PENDING_PER_THREAD: '' }).limits).toEqual({
      turnsPerMinute: 0,
      dailyBudgetUsd: 2.5,
      pendingPerThread: 10,
    });
    let error: unknown;
    try {
      loadConfig('web', { LIMIT_TURNS_PER_MINUTE: '1.5', LIMIT_DAILY_BUDGET_USD: 'five', LIMIT_PENDING_PER_THREAD: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'LIMIT_DAILY_BUDGET_USD',
      'LIMIT_PENDING_PER_THREAD',
      'LIMIT_TURNS_PER_MINUTE',
    ]);
  });

  it('says which limit and when to retry', () => {
    expect(limitReplyText({ limit: 'user_turns', max: 5, retryAfterMs: 39_200 })).toBe(
      "You're asking faster than I can answer: at most 5 questions a minute. Try again in 40 s.",
    );
    expect(limitReplyText({ limit: 'workspace_budget', max: 5, retryAfterMs: 5 * 3600_000 + 11 * 60_000 + 1 })).toBe(
      "This workspace has used today's budget for questions ($5.00 a day). It resets tomorrow at 00:00 UTC (in 5 h 12 min); please try again then.",
    );
    expect(formatWait(500)).toBe('1 s');
    expect(formatWait(60_000)).toBe('60 s');
    expect(formatWait(91_000)).toBe('2 min');
    expect(formatWait(3600_000)).toBe('1 h');
  });
});
