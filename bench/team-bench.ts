/**
 * `npm run bench:team` (needs DATABASE_URL; `bash scripts/test-services.sh npm run bench:team`).
 *
 * Runs full team turns against fakes with fixed latencies (in another process) and prints wall time
 * against the critical path, and our own CPU per run.
 * Goals: wall ≤ 1.10 × critical path; ≤ 40 ms own CPU per full run.
 *
 * Brave's free plan: `BENCH_BRAVE_INTERVAL_MS=1000` (or `-- --brave-free-plan`) makes the Brave fake
 * answer 429 to requests less than a second apart and runs the service with BRAVE_MIN_INTERVAL_MS=1000;
 * it defaults to 10 runs after 3 warm-up turns. Goals there: ≤ 3 Brave slots on the critical path of a
 * cold analysis, no 429, wall ≤ 1.10 × critical path.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createRuntime } from '../adapters/server/runtime.js';
import { createBenchDatabase } from './bench-database.js';
import { startFakeServices } from './start-fakes.js';

const BRAVE_INTERVAL_MS = process.argv.includes('--brave-free-plan')
  ? 1000
  : Number(process.env.BENCH_BRAVE_INTERVAL_MS ?? 0);
const FREE_PLAN = BRAVE_INTERVAL_MS > 0;
// A free-plan turn takes seconds: fewer of them (the CPU goal is for the default run).
const RUNS = Number(process.env.BENCH_RUNS ?? (FREE_PLAN ? 10 : 40));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (FREE_PLAN ? 3 : 40));
// NerdWallet's cities, two new ones per turn (warm-up included), so no turn finds its cost page,
// Reddit search or destination research cached: every measured turn does the full work.
const CITIES = Object.keys(
  JSON.parse(readFileSync(new URL('../../data/nerdwallet_cities.json', import.meta.url), 'utf8')) as Record<string, unknown>,
);
if (2 * (RUNS + WARMUP + 1) > CITIES.length) {
  console.error(`bench:team: BENCH_RUNS + BENCH_WARMUP must stay below ${Math.floor(CITIES.length / 2)} (two new cities per turn)`);
  process.exit(2);
}

if (!process.env.DATABASE_URL) {
  console.error('bench:team needs DATABASE_URL (run: bash scripts/test-services.sh npm run bench:team)');
  process.exit(2);
}
const fakes = await startFakeServices(FREE_PLAN ? { BENCH_BRAVE_INTERVAL_MS: String(BRAVE_INTERVAL_MS) } : {});
const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench');
const config = loadConfig('cli', { ...process.env, ...fakes.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
const runtime = await createRuntime(config, { logger: silentLogger });

const { llm, firecrawl, brave } = fakes.latency;
/**
 * Intake, then the slowest analyst chain, then synthesis. The Brave part of a chain is the longest run
 * of Brave requests the turn made one after another (each sent after the previous one's reply), read
 * from the fake's log: `slots` requests of `brave` ms, with the plan's interval between neighbours (on
 * the free plan every request waits for the one before, so that is all of them). Every request in it
 * feeds an analyst, so the last analyst's data is in only after all of them.
 */
const criticalPathOf = (slots: number) => {
  const braveChain = slots > 0 ? slots * brave + (slots - 1) * BRAVE_INTERVAL_MS : 0;
  return llm + Math.max(firecrawl + llm, braveChain + llm) + llm;
};

// Warm-up: module loading and JIT are not what we measure. V8 keeps compiling on background threads,
// which process.cpuUsage counts, for a few dozen turns: after one warm-up turn a run measured 66 ms, after 40 39 ms.
for (let i = 0; i < WARMUP; i++) await turn(RUNS + 1 + i, 'warmup');
const ratios: number[] = [];
const walls: number[] = [];
const paths: number[] = [];
const slotCounts: number[] = [];
const requestCounts: number[] = [];
let rateLimited = 0;
const profiler = process.env.BENCH_PROFILE ? await startProfiler() : undefined;
const cpu0 = process.cpuUsage();
for (let i = 1; i <= RUNS; i++) {
  const { wall, slots, requests, limited } = await turn(i, 'bench');
  const path = criticalPathOf(slots);
  walls.push(wall);
  paths.push(path);
  slotCounts.push(slots);
  requestCounts.push(requests);
  rateLimited += limited;
  ratios.push(wall / path);
}
const cpu = process.cpuUsage(cpu0);
await profiler?.stop(process.env.BENCH_PROFILE!);
const cpuPerRun = (cpu.user + cpu.system) / 1000 / RUNS;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const worst = (xs: number[]) => Math.max(...xs);

const plan = FREE_PLAN ? `Brave ${brave} ms, 1 request per ${BRAVE_INTERVAL_MS} ms (free plan)` : `Brave ${brave} ms, no interval`;
console.log(`bench:team — ${RUNS} full cold runs after ${WARMUP} warm-up, fakes: LLM ${llm} ms, Firecrawl ${firecrawl} ms, ${plan}`);
console.log(`Brave requests     median ${median(requestCounts)}, most ${worst(requestCounts)} per turn; ${rateLimited} answered 429   goal: no 429`);
console.log(`Brave slots        median ${median(slotCounts)}, most ${worst(slotCounts)} on the critical path${FREE_PLAN ? '   goal ≤ 3' : ''}`);
console.log(`critical path      median ${median(paths).toFixed(0)} ms (intake + slowest analyst chain + synthesis)`);
console.log(`wall (median)      ${median(walls).toFixed(0)} ms`);
console.log(`wall / critical    median ${median(ratios).toFixed(3)} ×, worst ${worst(ratios).toFixed(3)} ×   goal ≤ 1.10 ×`);
console.log(`own CPU per run    ${cpuPerRun.toFixed(1)} ms   goal ≤ 40 ms${FREE_PLAN || WARMUP < 40 ? ' (after 40 warm-up turns; this run had fewer)' : ''}`);

await runtime.close();
await database.drop();
fakes.stop();

/** BENCH_PROFILE=file.cpuprofile records only the measured runs, not start-up. */
async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function turn(i: number, tag: string): Promise<{ wall: number; slots: number; requests: number; limited: number }> {
  const [from, to] = [CITIES[2 * i]!, CITIES[2 * i + 1]!];
  const t0 = performance.now();
  const result = await runtime.conversation.handle({
    platform: 'cli',
    workspace: 'bench',
    threadKey: `cli:bench:${tag}-${i}`,
    user: { platformUserId: `u${i}` },
    text: `Should I move from ${from} to ${to}?`,
  });
  const wall = performance.now() - t0;
  if (result.outcome?.kind !== 'recommendation') throw new Error(`run ${i} did not recommend: ${result.reply.content}`);
  const requests = await fakes.braveRequests();
  // A cold analysis starts on an idle lane: the next turn's first request must not wait out this one's interval.
  if (FREE_PLAN) await new Promise((resolve) => setTimeout(resolve, BRAVE_INTERVAL_MS));
  return { wall, slots: longestChain(requests), requests: requests.length, limited: requests.filter((r) => r.status === 429).length };
}

/** The most requests that ran one after another: earliest-finishing first, each sent after the last one's reply. */
function longestChain(requests: Array<{ receivedAt: number; repliedAt?: number }>): number {
  let chain = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const r of [...requests].sort((a, b) => (a.repliedAt ?? a.receivedAt) - (b.repliedAt ?? b.receivedAt))) {
    if (r.receivedAt < lastEnd) continue;
    chain++;
    lastEnd = r.repliedAt ?? r.receivedAt;
  }
  return chain;
}
