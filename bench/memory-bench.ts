/**
 * `npm run bench:memory` (needs a real PostgreSQL with pgvector:
 * `bash scripts/test-services.sh npm run bench:memory`).
 *
 * Fills a throw-away database (the real migrations) with synthetic memories, every user holding 50 of
 * them, and measures per-user recall as the product runs it: `MemoryStore.nearest` (exact scan over
 * one user's rows) together with the always-on `list`, plus the full-text fallback. For contrast it
 * also runs the naive query on the shared HNSW index, with and without pgvector's iterative scan,
 * and counts how many of the k rows each returns (filters apply after the index scan).
 * Goal: recall p99 ≤ 10 ms at 1M rows, and always k rows.
 *
 * Knobs: BENCH_SCALES (rows:dimensions, comma-separated; default 10000:1536,100000:1536,1000000:256),
 * BENCH_QUERIES (default 300). Vectors are random unit-free floats generated inside PostgreSQL.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pgvector from 'pgvector';
import { createDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createMemoryStore } from '../db/repositories/memory-repository.js';

const PER_USER = 50;
const K = 5;
const ALWAYS_ON = 8;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const GOAL_P99_MS = 10;
const SCALES = (process.env.BENCH_SCALES ?? '10000:1536,100000:1536,1000000:256').split(',').map((s) => {
  const [rows, dims] = s.split(':').map(Number);
  return { rows: rows!, dims: dims! };
});
const WORDS = ['walkable', 'dog', 'budget', 'remote', 'kids', 'income', 'rent', 'quiet', 'transit', 'weather',
  'hiking', 'nightlife', 'schools', 'commute', 'garden', 'coffee', 'music', 'beach', 'snow', 'taxes'];

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  console.error('bench:memory needs DATABASE_URL (run: bash scripts/test-services.sh npm run bench:memory)');
  process.exit(2);
}

const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
let current: { name: string; db?: Database } | undefined;

async function dropCurrent() {
  if (!current) return;
  const { name, db } = current;
  current = undefined;
  await db?.close().catch(() => {});
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void dropCurrent().finally(() => process.exit(130));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
const ms = (n: number) => `${n.toFixed(2)} ms`;
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

function randomVector(dims: number): number[] {
  return Array.from({ length: dims }, () => Math.random() - 0.5);
}

/** Times `fn` over QUERIES random (user, vector) pairs after a short warm-up. */
async function measure(
  users: number,
  dims: number,
  fn: (userId: string, vector: number[], i: number) => Promise<number>,
): Promise<{ p50: number; p99: number; minRows: number; meanRows: number }> {
  const times: number[] = [];
  const counts: number[] = [];
  for (let i = -20; i < QUERIES; i++) {
    const userId = String(1 + Math.floor(Math.random() * users));
    const vector = randomVector(dims);
    const t0 = performance.now();
    const rows = await fn(userId, vector, i);
    if (i >= 0) {
      times.push(performance.now() - t0);
      counts.push(rows);
    }
  }
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    minRows: Math.min(...counts),
    meanRows: counts.reduce((a, b) => a + b, 0) / counts.length,
  };
}

async function runScale(rows: number, dims: number) {
  const users = Math.max(1, Math.floor(rows / PER_USER));
  const name = `movebot_bench_mem_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  current = { name };
  const url = new URL(baseUrl!);
  url.pathname = `/${name}`;
  const db = await createDatabase({ databaseUrl: url.toString(), maxConnections: 2 });
  current.db = db;
  await migrate(db, { dimensions: dims });

  // Bulk loading is much faster without indexes: keep their exact definitions (from the migration),
  // drop them, load, and build them again.
  const { rows: indexes } = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
     WHERE tablename = 'memories' AND indexname <> 'memories_pkey'`,
  );
  for (const ix of indexes) await db.query(`DROP INDEX ${ix.name}`);

  let t0 = performance.now();
  await db.query(
    `INSERT INTO users (platform, workspace, platform_user_id)
     SELECT 'bench', 'W1', 'u' || g FROM generate_series(1, $1::int) g`,
    [users],
  );
  const batch = 25_000;
  for (let lo = 1; lo <= rows; lo += batch) {
    const hi = Math.min(rows, lo + batch - 1);
    // The subquery mentions g so PostgreSQL draws a new vector per row instead of one for all.
    await db.query(
      `INSERT INTO memories (user_id, content, topic, embedding, created_at, updated_at)
       SELECT 1 + (g % $3::int),
              'You like ' || w[1 + g % 20] || ' and ' || w[1 + (g / 20) % 20] || ' in memory ' || g,
              'preference',
              (SELECT array_agg(random() - 0.5) FROM generate_series(1, $4::int) WHERE g > 0)::vector,
              now() - g * interval '1 second', now() - g * interval '1 second'
       FROM generate_series($1::int, $2::int) g, (SELECT $5::text[] AS w) words`,
      [lo, hi, users, dims, WORDS],
    );
    if (((hi / batch) | 0) % 8 === 0 || hi === rows) process.stdout.write(`  loaded ${hi} rows (${secs(t0)})\n`);
  }
  const loadTime = secs(t0);

  t0 = performance.now();
  const build = await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '4GB'`);
    await tx.query('SET LOCAL max_parallel_maintenance_workers = 1');
    const times: string[] = [];
    for (const ix of indexes) {
      const s = performance.now();
      await tx.query(ix.def);
      times.push(`${ix.name} ${secs(s)}`);
    }
    return times.join(', ');
  });
  await db.query('ANALYZE memories');
  process.stdout.write(`  indexes: ${build} (total ${secs(t0)})\n`);

  const store = createMemoryStore(db);
  const plan = await db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN WITH mine AS MATERIALIZED (SELECT id, embedding FROM memories WHERE user_id = 7 AND embedding IS NOT NULL)
     SELECT id FROM mine ORDER BY embedding <=> $1::vector LIMIT ${K}`,
    [pgvector.toSql(randomVector(dims))],
  );
  const usesUserIndex = plan.rows.some((r) => r['QUERY PLAN'].includes('memories_user_idx'));

  const recall = await measure(users, dims, async (userId, vector) => {
    const [near, recent] = await Promise.all([
      store.nearest(userId, vector, K),
      store.list(userId, { limit: ALWAYS_ON }),
    ]);
    return recent.memories.length === ALWAYS_ON ? near.length : 0;
  });
  const nearestOnly = await measure(users, dims, async (u, v) => (await store.nearest(u, v, K)).length);
  const fullText = await measure(users, dims, async (u, _v, i) => {
    const found = await store.searchText(u, `Do I like ${WORDS[i & 15]} or ${WORDS[(i + 3) & 15]}?`, K);
    return found.length;
  });

  // The naive alternatives, on one pinned connection so the SETs apply. Left to itself the planner
  // may take the user_id index for a small table; `user_id + 0` and enable_seqscan = off force the
  // shared HNSW index, which is what it picks once the table is large and the filter looks unselective.
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const naiveSql = `SELECT id FROM memories WHERE user_id = $1 ORDER BY embedding <=> $2::vector LIMIT ${K}`;
  const naturalPlan = (
    await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${naiveSql}`, ['7', pgvector.toSql(randomVector(dims))])
  ).rows
    .map((r) => /using (\w+)/i.exec(r['QUERY PLAN'])?.[1])
    .filter(Boolean)
    .join(', ');
  const forcedSql = naiveSql.replace('user_id = $1', 'user_id + 0 = $1');
  await client.query('SET enable_seqscan = off');
  const naive = await measure(users, dims, async (u, v) => (await client.query(forcedSql, [u, pgvector.toSql(v)])).rowCount ?? 0);
  let iterative: Awaited<ReturnType<typeof measure>> | undefined;
  try {
    await client.query(`SET hnsw.iterative_scan = relaxed_order`);
    iterative = await measure(users, dims, async (u, v) => (await client.query(forcedSql, [u, pgvector.toSql(v)])).rowCount ?? 0);
  } catch {
    iterative = undefined; // pgvector before 0.8 has no iterative scans
  }
  await client.end();
  await dropCurrent();

  return { rows, dims, users, loadTime, build, usesUserIndex, naturalPlan, recall, nearestOnly, fullText, naive, iterative };
}

const results: Awaited<ReturnType<typeof runScale>>[] = [];
try {
  const { rows } = await admin.query<{ v: string; pg: string }>(
    `SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS v, version() AS pg`,
  );
  console.log(`PostgreSQL: ${rows[0]?.pg}\npgvector: ${rows[0]?.v}\nqueries per measurement: ${QUERIES}, k = ${K}\n`);
  for (const { rows: n, dims } of SCALES) {
    console.log(`${n} rows × ${dims} dims (${PER_USER} memories per user):`);
    const r = await runScale(n, dims);
    results.push(r);
    const row = (label: string, m: Awaited<ReturnType<typeof measure>> | undefined) =>
      m
        ? `  ${label.padEnd(34)} p50 ${ms(m.p50).padStart(10)}  p99 ${ms(m.p99).padStart(10)}  rows: min ${m.minRows}, mean ${m.meanRows.toFixed(2)} of ${K}`
        : `  ${label.padEnd(34)} not supported`;
    console.log(`  load ${r.loadTime}; exact scan uses memories_user_idx: ${r.usesUserIndex}`);
    console.log(`  planner's own choice for the naive query uses: ${r.naturalPlan || 'a sequential scan'}`);
    console.log(row('recall (nearest + always-on list)', r.recall));
    console.log(row('nearest only (exact per user)', r.nearestOnly));
    console.log(row('full-text fallback', r.fullText));
    console.log(row('HNSW, then WHERE user_id', r.naive));
    console.log(row('HNSW iterative_scan, then WHERE', r.iterative));
    console.log(`  goal: recall p99 ≤ ${GOAL_P99_MS} ms → ${r.recall.p99 <= GOAL_P99_MS ? 'met' : 'MISSED'}\n`);
  }
  console.log('| rows | dims | recall p50 | recall p99 | full-text p99 | naive HNSW rows (mean of 5) | iterative rows (mean) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.rows.toLocaleString('en-US')} | ${r.dims} | ${ms(r.recall.p50)} | ${ms(r.recall.p99)} | ${ms(r.fullText.p99)} | ` +
        `${r.naive.meanRows.toFixed(2)} | ${r.iterative ? r.iterative.meanRows.toFixed(2) : 'n/a'} |`,
    );
  }
} finally {
  await dropCurrent().catch((err) => console.error('could not drop the bench database:', err));
  await admin.end();
}
