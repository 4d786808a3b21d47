import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LIMITS } from '../src/constants.js';
import type { Logger } from '../src/logger.js';
import type { LimitHit } from '../src/ports/message-queue.js';
import type { TurnJob } from '../src/ports/turn-job.js';
import { withTimeout } from '../src/util/timeout.js';

/**
 * The ingress limits, checked by the producer at enqueue (the one way in for Slack, Discord and the
 * HTTP API), before a message takes a place in its thread's order. Anyone who can mention the bot
 * could otherwise queue unlimited turns, each ~10 model calls plus Firecrawl and Brave requests.
 *
 * - user_turns: turns a minute per user (per platform and workspace), a rate-limiter-flexible
 *   RateLimiterRedis counter shared by every web replica.
 * - workspace_budget: estimated model cost per workspace per UTC day. The cost of a finished run is
 *   in PostgreSQL (`runs.cost_usd`, written by the worker); the web role reads the workspace's spend
 *   since UTC midnight with one query over today's runs (index `runs_started_idx`, joined to the
 *   session whose thread key names the workspace) and keeps it in Redis for LIMITS.spendCacheMs, so
 *   one query serves every replica for 30 s. We read instead of keeping a Redis counter fed by the
 *   worker because the database is already the one place cost is accounted (run_totals, /metrics):
 *   nothing can drift. It is a soft cap: runs in flight, and those finished in the last 30 s, are
 *   not counted yet. If the database is slow or down the message is let through (ingress must keep
 *   working through a database outage; the worker waits it out), and this process does not ask again
 *   for LIMITS.spendLookupBackoffMs.
 * - thread_pending: messages waiting (or being answered) in one thread: the size of the thread's
 *   pending set, which the producer checks again atomically as it registers the message.
 */
export interface QuotaOptions {
  /** Turns a minute per user; 0: no limit. */
  turnsPerMinute: number;
  /** US dollars per workspace per UTC day; 0 (or no `spentToday`): no limit. */
  dailyBudgetUsd: number;
  /** Messages waiting per thread; 0: no limit. */
  pendingPerThread: number;
  /** The workspace's model cost since `since` (see workspaceSpendQuery). */
  spentToday?: (workspace: WorkspaceRef, since: Date) => Promise<number>;
  /** Milliseconds since the epoch (tests move the day). */
  now?: () => number;
}

/** A workspace as its sessions' thread keys name it: `slack:T1:…`, `discord:G1:…`, `api:…`. */
export interface WorkspaceRef {
  platform: TurnJob['platform'];
  workspace: string;
  /** The thread key prefix every session of the workspace has. */
  threadKeyPrefix: string;
}

export function workspaceOf(job: Pick<TurnJob, 'platform' | 'workspace'>): WorkspaceRef {
  // API sessions are `api:{sessionId}`: the HTTP API is one workspace ('api').
  const threadKeyPrefix = job.platform === 'api' ? 'api:' : `${job.platform}:${job.workspace}:`;
  return { platform: job.platform, workspace: job.workspace, threadKeyPrefix };
}

export interface Quotas {
  /**
   * The first limit this message is over, checked in the order thread, budget, user. Passing the
   * user limit spends one of the user's turns; give it back with `refund` if the message is not
   * queued after all.
   */
  check(job: TurnJob, threadPending: () => Promise<number>): Promise<LimitHit | undefined>;
  /** Gives back the turn `check` spent (the message was refused later, or could not be added). */
  refund(job: TurnJob): Promise<void>;
  /** The limit a thread-full refusal reports (for the producer's atomic re-check). */
  threadFull(): LimitHit;
  readonly pendingPerThread: number;
}

/** The smallest shape of a database we need (db/database.ts Queryable), without importing db/. */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * The workspace's spend since `since` from the runs table: today's runs (by the `started_at` index)
 * of the sessions whose thread key starts with the workspace's prefix. Runs still going cost 0.
 */
export function workspaceSpendQuery(db: SqlQueryable): NonNullable<QuotaOptions['spentToday']> {
  return async (workspace, since) => {
    const { rows } = await db.query<{ spent: number | string | null }>(
      `SELECT coalesce(sum(r.cost_usd), 0)::float8 AS spent
         FROM runs r JOIN sessions s ON s.id = r.session_id
        WHERE r.started_at >= $1 AND starts_with(s.thread_key, $2)`,
      [since, workspace.threadKeyPrefix],
    );
    return Number(rows[0]?.spent ?? 0);
  };
}

const DAY_MS = 24 * 3600_000;

export function createQuotas(
  redis: Redis,
  keyPrefix: string,
  options: QuotaOptions,
  logger?: Logger,
): Quotas {
  const now = options.now ?? Date.now;
  const turns =
    options.turnsPerMinute > 0
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${keyPrefix}:turns`,
          points: options.turnsPerMinute,
          duration: 60,
        })
      : undefined;
  const userKey = (job: TurnJob) => `${job.platform}:${job.workspace}:${job.userId}`;
  const budgetOn = options.dailyBudgetUsd > 0 && options.spentToday !== undefined;
  /** Look-ups in flight in this process, so a burst from one workspace asks the database once. */
  const inFlight = new Map<string, Promise<number | undefined>>();
  let databaseBackoffUntil = 0;

  const threadFull = (): LimitHit => ({
    limit: 'thread_pending',
    max: options.pendingPerThread,
    retryAfterMs: LIMITS.threadRetryAfterMs,
  });

  /** The workspace's spend today, from Redis or the database; undefined when it cannot be known now. */
  async function spent(workspace: WorkspaceRef, dayStart: number): Promise<number | undefined> {
    const day = new Date(dayStart).toISOString().slice(0, 10);
    const key = `${keyPrefix}:spend:${Buffer.from(workspace.threadKeyPrefix).toString('base64url')}:${day}`;
    const cached = await redis.get(key);
    if (cached !== null) return Number(cached);
    if (now() < databaseBackoffUntil) return undefined;
    let lookup = inFlight.get(key);
    if (!lookup) {
      lookup = withTimeout(
        options.spentToday!(workspace, new Date(dayStart)),
        LIMITS.spendLookupTimeoutMs,
        () => new Error(`no answer within ${LIMITS.spendLookupTimeoutMs} ms`),
      ).then(
        async (value) => {
          await redis.set(key, String(value), 'PX', LIMITS.spendCacheMs).catch(() => undefined);
          return value;
        },
        (err: unknown) => {
          databaseBackoffUntil = now() + LIMITS.spendLookupBackoffMs;
          logger?.warn({ err: (err as Error).message, workspace: workspace.threadKeyPrefix }, 'workspace spend unknown; budget not enforced for now');
          return undefined;
        },
      );
      inFlight.set(key, lookup);
      void lookup.finally(() => inFlight.delete(key));
    }
    return lookup;
  }

  return {
    pendingPerThread: options.pendingPerThread,
    threadFull,
    async check(job, threadPending) {
      if (options.pendingPerThread > 0 && (await threadPending()) >= options.pendingPerThread) return threadFull();
      if (budgetOn) {
        const t = now();
        const dayStart = Math.floor(t / DAY_MS) * DAY_MS;
        const usd = await spent(workspaceOf(job), dayStart);
        if (usd !== undefined && usd >= options.dailyBudgetUsd) {
          return { limit: 'workspace_budget', max: options.dailyBudgetUsd, retryAfterMs: dayStart + DAY_MS - t };
        }
      }
      if (turns) {
        try {
          await turns.consume(userKey(job));
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) throw err; // Redis trouble: the enqueue fails as a whole
          return { limit: 'user_turns', max: options.turnsPerMinute, retryAfterMs: Math.max(err.msBeforeNext, 1_000) };
        }
      }
      return undefined;
    },
    async refund(job) {
      await turns?.reward(userKey(job)).catch(() => undefined);
    },
  };
}
