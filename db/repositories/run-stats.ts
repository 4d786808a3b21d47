import type { User, UserKey } from '../../src/ports/session-store.js';
import type { Queryable } from '../database.js';
import { toUser } from './rows.js';

/**
 * Read-only queries for the operator console and the HTTP API: run statistics from the `runs` table
 * and user look-ups that must not create users as a side effect.
 */

export interface HourlyRuns {
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  completed: number;
  failed: number;
}

export interface DailyLatency {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  runs: number;
  p50Ms: number;
  p95Ms: number;
}

export interface DailyUsage {
  day: string;
  tokens: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Finished and failed runs per hour since `since` (hours without runs are absent). */
export async function runsPerHour(db: Queryable, since: Date): Promise<HourlyRuns[]> {
  const { rows } = await db.query<{ hour: string; completed: string; failed: string }>(
    `SELECT to_char(date_trunc('hour', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"') AS hour,
            count(*) FILTER (WHERE status = 'completed') AS completed,
            count(*) FILTER (WHERE status = 'failed') AS failed
       FROM runs WHERE started_at >= $1
      GROUP BY 1 ORDER BY 1`,
    [since],
  );
  return rows.map((r) => ({ hour: r.hour, completed: Number(r.completed), failed: Number(r.failed) }));
}

/** Median and 95th percentile wall time of finished runs per UTC day since `since`. */
export async function latencyPerDay(db: Queryable, since: Date): Promise<DailyLatency[]> {
  const { rows } = await db.query<{ day: string; runs: string; p50: number | null; p95: number | null }>(
    `SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS runs,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000) AS p95
       FROM runs WHERE started_at >= $1 AND finished_at IS NOT NULL AND status = 'completed'
      GROUP BY 1 ORDER BY 1`,
    [since],
  );
  return rows.map((r) => ({ day: r.day, runs: Number(r.runs), p50Ms: Math.round(Number(r.p50 ?? 0)), p95Ms: Math.round(Number(r.p95 ?? 0)) }));
}

/** Tokens and estimated cost per UTC day since `since`. */
export async function usagePerDay(db: Queryable, since: Date): Promise<DailyUsage[]> {
  const { rows } = await db.query<{ day: string; prompt: string; completion: string; total: string; cost: string }>(
    `SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
            coalesce(sum((usage->>'promptTokens')::bigint), 0) AS prompt,
            coalesce(sum((usage->>'completionTokens')::bigint), 0) AS completion,
            coalesce(sum((usage->>'totalTokens')::bigint), 0) AS total,
            coalesce(sum(cost_usd), 0) AS cost
       FROM runs WHERE started_at >= $1
      GROUP BY 1 ORDER BY 1`,
    [since],
  );
  return rows.map((r) => ({
    day: r.day,
    tokens: Number(r.total),
    promptTokens: Number(r.prompt),
    completionTokens: Number(r.completion),
    costUsd: Number(r.cost),
  }));
}

/** A user by platform identity, or undefined; unlike SessionStore.upsertUser it never creates one. */
export async function findUser(db: Queryable, key: UserKey): Promise<User | undefined> {
  const { rows } = await db.query(
    'SELECT * FROM users WHERE platform = $1 AND workspace = $2 AND platform_user_id = $3',
    [key.platform, key.workspace, key.platformUserId],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

export interface UserSummary extends User {
  sessions: number;
  memories: number;
}

/** Users with how many sessions and memories each has, most recently active first. */
export async function listUsers(
  db: Queryable,
  options: { platform?: string; limit?: number; offset?: number } = {},
): Promise<{ users: UserSummary[]; total: number }> {
  const params: unknown[] = [];
  let where = '';
  if (options.platform) {
    params.push(options.platform);
    where = 'WHERE u.platform = $1';
  }
  const total = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM users u ${where}`, params)).rows[0]?.n ?? 0);
  const { rows } = await db.query(
    `SELECT u.*,
            (SELECT count(*) FROM sessions s WHERE s.owner_user_id = u.id) AS session_count,
            (SELECT count(*) FROM memories m WHERE m.user_id = u.id) AS memory_count
       FROM users u ${where}
      ORDER BY u.updated_at DESC, u.id
      LIMIT ${Math.min(Math.max(options.limit ?? 50, 1), 500)} OFFSET ${Math.max(options.offset ?? 0, 0)}`,
    params,
  );
  return {
    users: rows.map((r) => ({ ...toUser(r), sessions: Number(r.session_count), memories: Number(r.memory_count) })),
    total,
  };
}

/** Every finished run of one source, status and (for failures) error code, summed for /metrics. */
export interface RunTotals {
  /** The session's platform: api, slack, discord or cli. */
  source: string;
  status: 'completed' | 'failed';
  /** A failed run's error code; undefined for completed runs. */
  code?: string;
  runs: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Summed wall time (finished_at - started_at, both from the database's clock). */
  seconds: number;
  /** How many runs took at most each of the given bucket bounds (cumulative, as Prometheus counts). */
  atMost: number[];
}

/** Upper bounds (seconds) of the run duration histogram; fixed by migration 12 (run_totals). */
export const RUN_DURATION_BUCKETS: readonly number[] = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300];

/**
 * Every run that ever finished, whichever process ran it, as the `run_totals` rows a trigger keeps
 * (migration 12), so a scrape costs the same at any table size and deleted sessions still count. A
 * failed run's code is the prefix describeError wrote ("llm_error: …"); errors that are not ours
 * have none and count as 'internal', as the worker and API label them.
 */
export async function runTotals(db: Queryable): Promise<RunTotals[]> {
  // Rows are per duration bucket; a bound counts every run in its bucket and below (cumulative).
  const atMost = RUN_DURATION_BUCKETS.map((_, i) => `sum(runs) FILTER (WHERE bucket <= ${i}) AS le${i}`).join(', ');
  const { rows } = await db.query<Record<string, string | null>>(
    `SELECT source, status, NULLIF(code, '') AS code, sum(runs) AS runs,
            sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, sum(cost_usd) AS cost,
            sum(seconds) AS seconds, ${atMost}
       FROM run_totals
      GROUP BY 1, 2, 3`,
  );
  return rows.map((r) => ({
    source: r.source!,
    status: r.status as RunTotals['status'],
    code: r.code ?? undefined,
    runs: Number(r.runs),
    promptTokens: Number(r.prompt),
    completionTokens: Number(r.completion),
    costUsd: Number(r.cost),
    seconds: Number(r.seconds),
    atMost: RUN_DURATION_BUCKETS.map((_, i) => Number(r[`le${i}`] ?? 0)),
  }));
}
