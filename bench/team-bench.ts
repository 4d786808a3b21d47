/**
 * `npm run bench:team` (needs DATABASE_URL; `bash scripts/test-services.sh npm run bench:team`).
 *
 * Runs full team turns against fakes with fixed latencies (in another process) and prints wall time
 * against the critical path, and our own CPU per run.
 * Goals: wall ≤ 1.10 × critical path; ≤ 40 ms own CPU per full run.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createRuntime } from '../adapters/server/runtime.js';
import { createBenchDatabase } from './bench-database.js';
import { startFakeServices } from './start-fakes.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);
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
const fakes = await startFakeServices();
const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench');
const config = loadConfig('cli', { ...process.env, ...fakes.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
const runtime = await createRuntime(config, { logger: silentLogger });

const { llm, firecrawl, brave } = fakes.latency;
/**
 * Intake, then the slowest analyst chain, then synthesis. With no Brave interval (a paid plan) each
 * research asks its queries one after another, but the two researches run side by side: the lane
 * is the longer of city research (2 queries, skipped when the destination is cached) and Reddit
 * research (4).
 */
const criticalPathOf = (braveQueries: number) => llm + Math.max(firecrawl + llm, braveQueries * brave + llm) + llm;

// Warm-up: module loading and JIT are not what we measure. V8 keeps compiling on background threads,
// which process.cpuUsage counts, for a few dozen turns: after one warm-up turn a run measured 66 ms, after 40 39 ms.
for (let i = 0; i < WARMUP; i++) await turn(RUNS + 1 + i, 'warmup');
const ratios: number[] = [];
const walls: number[] = [];
const profiler = process.env.BENCH_PROFILE ? await startProfiler() : undefined;
const cpu0 = process.cpuUsage();
for (let i = 1; i <= RUNS; i++) {
  const { wall, braveQueries } = await turn(i, 'bench');
  walls.push(wall);
  ratios.push(wall / criticalPathOf(braveQueries));
}
const cpu = process.cpuUsage(cpu0);
await profiler?.stop(process.env.BENCH_PROFILE!);
const cpuPerRun = (cpu.user + cpu.system) / 1000 / RUNS;
walls.sort((a, b) => a - b);
ratios.sort((a, b) => a - b);
const median = walls[Math.floor(walls.length / 2)]!;

console.log(`bench:team — ${RUNS} full runs, fakes: LLM ${llm} ms, Firecrawl ${firecrawl} ms, Brave ${brave} ms`);
console.log(`critical path      ${criticalPathOf(4)} ms (intake + slowest analyst chain + synthesis)`);
console.log(`wall (median)      ${median.toFixed(0)} ms`);
console.log(`wall / critical    median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)} ×, worst ${ratios.at(-1)!.toFixed(3)} ×   goal ≤ 1.10 ×`);
console.log(`own CPU per run    ${cpuPerRun.toFixed(1)} ms   goal ≤ 40 ms`);

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

async function turn(i: number, tag: string): Promise<{ wall: number; braveQueries: number }> {
  const [from, to] = [CITIES[2 * i]!, CITIES[2 * i + 1]!];
  const t0 = performance.now();
  let braveQueries = 0;
  const result = await runtime.conversation.handle({
    platform: 'cli',
    workspace: 'bench',
    threadKey: `cli:bench:${tag}-${i}`,
    user: { platformUserId: `u${i}` },
    text: `Should I move from ${from} to ${to}?`,
  }, {
    emit: (e) => {
      if (e.type === 'tool_call_completed' && !e.cached && e.analyst === 'sentiment-analyst') braveQueries = Math.max(braveQueries, 2);
      if (e.type === 'tool_call_completed' && !e.cached && e.analyst === 'migration-researcher') braveQueries = Math.max(braveQueries, 4);
    },
  });
  if (result.outcome?.kind !== 'recommendation') throw new Error(`run ${i} did not recommend: ${result.reply.content}`);
  return { wall: performance.now() - t0, braveQueries };
}
