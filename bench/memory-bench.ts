/**
 * `npm run bench:memory` (needs a real PostgreSQL with pgvector:
 * `bash scripts/test-services.sh npm run bench:memory`).
 *
 * Per-user memory recall as the product runs it, `createMemoryStore(db).nearest(userId, vector, 5)`,
 * against a throw-away database (the real migrations, so the shared HNSW index is present) filled with
 * synthetic memories in cumulative tiers. Most rows belong to background users; each tier adds 20
 * "needle" users with exactly 50 memories spread evenly through that tier's new rows, and the queries
 * ask for those needles (their rows sit on 50 different pages: the worst case for the exact scan).
 * For contrast it runs the naive `WHERE user_id = $1 ORDER BY embedding <=> $2 LIMIT 5`, which the HNSW
 * index serves by filtering *after* the approximate scan and so returns fewer than 5 rows for a needle.
 * Goal: recall p99 ≤ 10 ms at 1M rows, and always 5 of 5 rows.
 *
 * Knobs:
 * - BENCH_TIERS: cumulative row counts, each optionally `rows:dims` (default
 *   `10000:1536,100000:1536,1000000:256`). Tiers with the same dimension share one database and are
 *   filled cumulatively; a new dimension starts a new database. 1M × 1536 is impractical on a 2-core
 *   machine (the HNSW build alone would take well over an hour), hence 256 at 1M.
 * - BENCH_DIMS: one dimension for every tier (overrides the per-tier ones).
 * - BENCH_QUERIES: timed queries per measurement (default 300; 20 more warm up first).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pgvector from 'pgvector';
import { createDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createMemoryStore } from '../db/repositories/memory-repository.js';

const K = 5;
const PER_NEEDLE = 50;
const NEEDLES_PER_TIER = 20;
const BATCH = 50_000;
const WARMUP = 20;
const GOAL_P99_MS = 10;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const TIERS = (process.env.BENCH_TIERS ?? '10000:1536,100000:1536,1000000:256').split(',').map((spec) => {
  const [rows, dims] = spec.split(':').map(Number);
  return { rows: rows!, dims: Number(process.env.BENCH_DIMS ?? dims ?? 1536) };
});
const NAIVE_SQL = `SELECT id FROM memories WHERE user_id = $1 ORDER BY embedding <=> $2::vector LIMIT ${K}`;

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  console.error('bench:memory needs DATABASE_URL (run: bash scripts/test-services.sh npm run bench:memory)');
  process.exit(2);
}

interface Series {
  name: string;
  url: string;
  db: Database;
  dims: number;
  rows: number;
  /** First id and count of the background users (contiguous ids from one INSERT). */
  background: { first: number; count: number };
}
interface Timing {
  p50: number;
  p99: number;
  minRows: number;
  maxRows: number;
  meanRows: number;
}

const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
let series: Series | undefined;
const results: Array<{ rows: number; dims: number; fill: string; recall: Timing; naive: Timing; naivePlan: string; forced: Timing; iterative: Timing }> = [];

async function dropSeries(): Promise<void> {
  if (!series) return;
  const { name, db } = series;
  series = undefined;
  await db.close().catch(() => {});
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void dropSeries().finally(() => process.exit(130)));
}

const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const ms = (n: number) => `${n.toFixed(2)} ms`;
const randomVector = (dims: number) => Array.from({ length: dims }, () => Math.random() - 0.5);
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

async function openSeries(dims: number, maxRows: number): Promise<Series> {
  const name = `movebot_bench_mem_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl!);
  url.pathname = `/${name}`;
  const db = await createDatabase({ databaseUrl: url.toString(), maxConnections: 2 });
  series = { name, url: url.toString(), db, dims, rows: 0, background: { first: 0, count: 0 } };
  await migrate(db, { dimensions: dims });
  // About 50 memories per background user once the largest tier of this series is filled.
  const count = Math.max(100, Math.floor(maxRows / PER_NEEDLE));
  const { rows } = await db.query<{ first: string }>(
    `WITH u AS (INSERT INTO users (platform, workspace, platform_user_id)
       SELECT 'bench', 'W1', 'bg-' || g FROM generate_series(1, $1::int) g RETURNING id)
     SELECT min(id) AS first FROM u`,
    [count],
  );
  series.background = { first: Number(rows[0]!.first), count };
  return series;
}

/**
 * Adds rows until the table holds `target`. Secondary indexes are dropped for the load and rebuilt
 * from their migration definitions afterwards: inserting into a live HNSW index was ~7× slower here.
 */
async function fill(s: Series, target: number): Promise<{ needles: string[]; summary: string }> {
  const { db } = s;
  const { rows: needleRows } = await db.query<{ id: string }>(
    `INSERT INTO users (platform, workspace, platform_user_id)
     SELECT 'bench', 'W1', 'needle-' || $1::int || '-' || g FROM generate_series(1, $2::int) g RETURNING id`,
    [target, NEEDLES_PER_TIER],
  );
  const needles = needleRows.map((r) => r.id);
  const { rows: indexes } = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
     WHERE tablename = 'memories' AND indexname <> 'memories_pkey'`,
  );
  for (const ix of indexes) await db.query(`DROP INDEX ${ix.name}`);

  const from = s.rows + 1;
  const added = target - s.rows;
  // Needle rows are every `stride`-th new row, so each needle's 50 memories are spread over the tier.
  const stride = Math.floor(added / (NEEDLES_PER_TIER * PER_NEEDLE));
  if (stride < 1) throw new Error(`a tier must add at least ${NEEDLES_PER_TIER * PER_NEEDLE} rows`);
  let t0 = performance.now();
  for (let lo = from; lo <= target; lo += BATCH) {
    const hi = Math.min(target, lo + BATCH - 1);
    // The vector subquery mentions g so PostgreSQL draws a new vector per row, not one for all.
    await db.query(
      `INSERT INTO memories (user_id, content, topic, embedding, created_at, updated_at)
       SELECT CASE WHEN (g - $3) % $4 = 0 AND (g - $3) / $4 < $5
                   THEN ($6::bigint[])[1 + ((g - $3) / $4) % $7]
                   ELSE $8::bigint + g % $9::int END,
              'synthetic memory ' || g || ': likes ' || (ARRAY['walkable streets', 'dogs', 'quiet', 'transit',
                'hiking', 'low rent', 'good schools', 'sunshine'])[1 + g % 8],
              'preference',
              (SELECT array_agg(random() - 0.5) FROM generate_series(1, $10::int) WHERE g > 0)::vector,
              now() - g * interval '1 second', now() - g * interval '1 second'
       FROM generate_series($1::int, $2::int) g`,
      [lo, hi, from, stride, NEEDLES_PER_TIER * PER_NEEDLE, needles, NEEDLES_PER_TIER, s.background.first,
        s.background.count, s.dims],
    );
  }
  const insertTime = secs(t0);
  t0 = performance.now();
  const built = await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '4GB'`);
    const times: string[] = [];
    for (const ix of indexes) {
      const start = performance.now();
      await tx.query(ix.def);
      times.push(`${ix.name.replace('memories_', '')} ${secs(start)}`);
    }
    return times.join(', ');
  });
  const indexTime = secs(t0);
  t0 = performance.now();
  // A live table is vacuumed and analysed by autovacuum; doing it now keeps it out of the timings.
  await db.query('VACUUM ANALYZE memories');
  s.rows = target;
  const check = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM memories WHERE user_id = ANY($1::bigint[]) GROUP BY user_id',
    [needles],
  );
  if (check.rows.length !== NEEDLES_PER_TIER || check.rows.some((r) => Number(r.n) !== PER_NEEDLE)) {
    throw new Error(`needle users do not own exactly ${PER_NEEDLE} memories each`);
  }
  return {
    needles,
    summary: `insert ${added.toLocaleString('en-US')} rows ${insertTime}; indexes ${indexTime} (${built}); vacuum analyze ${secs(t0)}`,
  };
}

/** Times `run` for WARMUP + QUERIES random (needle, vector) pairs; `run` returns the rows it got. */
async function measure(
  needles: string[],
  dims: number,
  run: (userId: string, vector: number[]) => Promise<number>,
): Promise<Timing> {
  const times: number[] = [];
  const counts: number[] = [];
  for (let i = -WARMUP; i < QUERIES; i++) {
    const userId = pick(needles);
    const vector = randomVector(dims);
    const t0 = performance.now();
    const n = await run(userId, vector);
    if (i < 0) continue;
    times.push(performance.now() - t0);
    counts.push(n);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!;
  return {
    p50: at(0.5),
    p99: at(0.99),
    minRows: Math.min(...counts),
    maxRows: Math.max(...counts),
    meanRows: counts.reduce((a, b) => a + b, 0) / counts.length,
  };
}

const planOf = async (client: pg.Client, sql: string, params: unknown[]) =>
  (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']);
/** The scans in a plan, e.g. 'memories_user_idx (bitmap)' or 'memories_embedding_idx'. */
const indexesIn = (plan: string[]) =>
  [
    ...new Set(
      plan.flatMap((line) => {
        const m = /(Seq Scan|Bitmap Index Scan|Index Only Scan|Index Scan)(?: Backward)? (?:using|on) (\w+)/.exec(line);
        if (!m) return [];
        return m[1] === 'Seq Scan' ? [`seq scan`] : [m[1] === 'Bitmap Index Scan' ? `${m[2]} (bitmap)` : m[2]!];
      }),
    ),
  ].join(' + ') || '?';
const rowsLine = (t: Timing) =>
  t.minRows === K && t.maxRows === K
    ? `rows returned: always ${K} of ${K}`
    : `rows returned: min ${t.minRows}, mean ${t.meanRows.toFixed(2)}, max ${t.maxRows} of ${K}`;

async function measureTier(s: Series, needles: string[], fillSummary: string): Promise<void> {
  const store = createMemoryStore(s.db);
  const recall = await measure(needles, s.dims, async (u, v) => (await store.nearest(u, v, K)).length);

  // The naive query on its own connection, so the forcing SETs below stay off the store's pool.
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    const probe = [pick(needles), pgvector.toSql(randomVector(s.dims))];
    const nearestPlan = await planOf(
      client,
      `WITH mine AS MATERIALIZED (SELECT id, embedding FROM memories WHERE user_id = $1 AND embedding IS NOT NULL)
       SELECT id FROM mine ORDER BY embedding <=> $2::vector LIMIT ${K}`,
      probe,
    );
    const naivePlan = indexesIn(await planOf(client, NAIVE_SQL, probe));
    const naive = await measure(needles, s.dims, async (u, v) => (await client.query(NAIVE_SQL, [u, pgvector.toSql(v)])).rowCount ?? 0);
    // What the planner does once it trusts the HNSW index (bigger tables, stale statistics): forced here
    // by hiding the user_id index behind an expression.
    await client.query('SET enable_seqscan = off');
    const forcedSql = NAIVE_SQL.replace('user_id = $1', 'user_id + 0 = $1');
    const forcedPlan = indexesIn(await planOf(client, forcedSql, probe));
    const forced = await measure(needles, s.dims, async (u, v) => (await client.query(forcedSql, [u, pgvector.toSql(v)])).rowCount ?? 0);
    // pgvector 0.8's own answer to filtering after the scan: keep scanning until LIMIT rows pass.
    await client.query('SET hnsw.iterative_scan = relaxed_order');
    const iterative = await measure(needles, s.dims, async (u, v) => (await client.query(forcedSql, [u, pgvector.toSql(v)])).rowCount ?? 0);

    const ok = recall.minRows === K && recall.maxRows === K;
    const atGoalTier = s.rows >= 1_000_000;
    console.log(`  ${fillSummary}`);
    console.log(`  recall  nearest(needle, k=${K})     p50 ${ms(recall.p50)}  p99 ${ms(recall.p99)}  ${rowsLine(recall)}${ok ? '' : '  ← FAILED'}`);
    console.log(`          plan: ${indexesIn(nearestPlan)}${atGoalTier ? `; goal p99 ≤ ${GOAL_P99_MS} ms at 1M → ${recall.p99 <= GOAL_P99_MS ? 'met' : 'MISSED'}` : ` (goal p99 ≤ ${GOAL_P99_MS} ms applies at 1M)`}`);
    console.log(`  naive   planner's choice: ${naivePlan.padEnd(22)} p50 ${ms(naive.p50)}  p99 ${ms(naive.p99)}  ${rowsLine(naive)}`);
    console.log(`  naive   forced: ${forcedPlan.padEnd(32)} p50 ${ms(forced.p50)}  p99 ${ms(forced.p99)}  ${rowsLine(forced)}`);
    console.log(`  naive   forced + hnsw.iterative_scan          p50 ${ms(iterative.p50)}  p99 ${ms(iterative.p99)}  ${rowsLine(iterative)}`);
    results.push({ rows: s.rows, dims: s.dims, fill: fillSummary, recall, naive, naivePlan, forced, iterative });
    if (!ok) process.exitCode = 1;
  } finally {
    await client.end();
  }
}

try {
  const { rows } = await admin.query<{ pg: string; v: string }>(
    `SELECT current_setting('server_version') AS pg,
            (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS v`,
  );
  console.log(`bench:memory — PostgreSQL ${rows[0]!.pg}, pgvector ${rows[0]!.v}; ${QUERIES} timed queries per measurement`);
  console.log(`tiers: ${TIERS.map((t) => `${t.rows.toLocaleString('en-US')} rows × ${t.dims} dims`).join(', ')}`);
  console.log(`goal: recall p99 ≤ ${GOAL_P99_MS} ms at 1M rows, and every query returns ${K} of ${K} rows\n`);
  const started = performance.now();
  for (const [i, tier] of TIERS.entries()) {
    if (series && series.dims !== tier.dims) await dropSeries();
    if (!series) {
      const last = TIERS.findLastIndex((t, j) => j >= i && t.dims === tier.dims);
      await openSeries(tier.dims, TIERS[last]!.rows);
      if (tier.dims !== 1536) console.log(`(new database at ${tier.dims} dimensions, not the production 1536: see BENCH_TIERS)`);
    }
    console.log(`${tier.rows.toLocaleString('en-US')} memory rows × ${tier.dims} dims, HNSW index present:`);
    const { needles, summary } = await fill(series!, tier.rows);
    await measureTier(series!, needles, summary);
    console.log('');
  }
  console.log(`total ${secs(started)}\n`);
  console.log(`| rows | dims | recall p50 | recall p99 | rows returned | naive (planner) | naive rows (mean of ${K}) | naive on HNSW | HNSW rows (mean of ${K}) | iterative scan p99, rows |`);
  console.log('|---:|---:|---:|---:|---|---|---:|---:|---:|---|');
  for (const r of results) {
    console.log(
      `| ${r.rows.toLocaleString('en-US')} | ${r.dims} | ${ms(r.recall.p50)} | ${ms(r.recall.p99)} | ${r.recall.minRows === K && r.recall.maxRows === K ? `always ${K} of ${K}` : `min ${r.recall.minRows}`} | ` +
        `${r.naivePlan}, p99 ${ms(r.naive.p99)} | ${r.naive.meanRows.toFixed(2)} | p99 ${ms(r.forced.p99)} | ${r.forced.meanRows.toFixed(2)} | ` +
        `${ms(r.iterative.p99)}, ${rowsLine(r.iterative).replace('rows returned: ', '')} |`,
    );
  }
} finally {
  await dropSeries().catch((err) => console.error('could not drop the bench database:', err));
  await admin.end();
}
