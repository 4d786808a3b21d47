/**
 * `npm run bench:chat` (needs DATABASE_URL and REDIS_URL: `bash scripts/test-services.sh npm run bench:chat`).
 *
 * N concurrent Slack threads (BENCH_THREADS, default 200) as signed events to the real HTTP endpoint of
 * the real service (web and worker roles compiled, each in its own process as deployed), with fakes at
 * fixed latencies.
 * Prints ack p50/p99, time to first progress update, end-to-end p50/p99, throughput, overhead against
 * the fakes' critical path, peak RSS and errors.
 * Goals at 200 threads on this 2-core machine: ack p99 ≤ 50 ms, overhead ≤ 5 %, zero errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { createSlackFake } from '../test/fakes/slack-fake.js';
import { createBenchDatabase } from './bench-database.js';
import { startFakeServices } from './start-fakes.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 200);
// Channel ids unique to this run: job ids derive from (channel, ts), and Redis outlives a run.
const RUN = Date.now().toString(36).toUpperCase();
const channel = (i: number) => `C${RUN}X${i}`;
const SLACK_MS = Number(process.env.BENCH_SLACK_MS ?? 20);
const SECRET = 'bench-signing-secret';
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('bench:chat needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:chat)');
  process.exit(2);
}

const fakes = await startFakeServices();
const slack = await createSlackFake({ signingSecret: SECRET, latencyMs: SLACK_MS });
// Placeholder-and-edits, as this bench measured before native streaming existed, so its figures stay
// comparable from run to run (bench:chat-ux measures both ways of answering).
slack.disableStreaming();
const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench_chat');
const port = await freePort();
const cities = Object.values(
  JSON.parse(readFileSync(new URL('../../data/nerdwallet_cities.json', import.meta.url), 'utf8')) as Record<string, { display_name: string }>,
).map((c) => c.display_name);

// Web and worker as separate processes, as deployed (BENCH_ROLES=all runs them in one process).
const roles = process.env.BENCH_ROLES === 'all' ? ['all'] : ['web', 'worker'];
const services: ChildProcess[] = [];
try {
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  for (const role of roles) {
    // On one 2-core box the worker would starve the web role of CPU; in production they run on
    // separate machines. A lower priority for the worker stands in for that (BENCH_NICE=0 to turn off).
    const nice = role === 'worker' && process.env.BENCH_NICE !== '0' ? ['nice', '-n', '10'] : [];
    const [command, ...args] = [...nice, process.execPath, ...profile, 'dist/adapters/server/main.js', '--role', role];
    services.push(
      spawn(command!, args, {
        env: {
          ...process.env,
          ...fakes.env,
          DATABASE_URL: database.url,
          // A worker serves /health and /ready on PORT too; 0 keeps it off the web role's port.
          PORT: role === 'worker' ? '0' : String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
          WORKER_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? String(THREADS),
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_API_URL: slack.apiUrl,
        },
        stdio: ['ignore', process.env.BENCH_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
      }),
    );
  }
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${base}/ready`).catch(() => undefined))?.ok === true, 'the service to be ready', 60_000);

  const { llm, firecrawl, brave } = fakes.latency;
  // Intake, slowest analyst chain, synthesis, plus posting the placeholder and the final edit.
  const criticalPath = llm + Math.max(firecrawl + llm, 4 * brave + llm) + llm + 2 * SLACK_MS;

  const isFinal = (text: string) => !/^(Looking into|Thinking|Reading|Writing|Hit a snag)/.test(text) && !text.startsWith('• ');
  const mention = (i: number, offset: number) => {
    const from = cities[(i + offset) % cities.length]!;
    let to = cities[(i * 7 + 3 + offset) % cities.length]!;
    if (to === from) to = cities[(i + offset + 1) % cities.length]!;
    return slack.mentionEvent({ channel: channel(i + offset), user: `U${i}`, text: `Should I move from ${from} to ${to}?` });
  };
  const answered = (e: ReturnType<typeof mention>, ch: string) =>
    slack.threadMessages(ch, e.ts).some((m) => m.user === slack.botUserId && m.edited && isFinal(m.text));

  // Warm-up: connections, JIT and lazy module loads are start-up costs, not what we measure.
  const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
  const warm = Array.from({ length: WARMUP }, (_, i) => mention(i, 100_000));
  await Promise.all(warm.map((e) => slack.sendEvent(`${base}/slack/events`, e)));
  await until(async () => warm.every((e, i) => answered(e, channel(i + 100_000))), 'the warm-up threads', 120_000, () =>
    JSON.stringify(slack.threadMessages(channel(100_000), warm[0]!.ts).map((m) => [m.user, m.edited, m.text.slice(0, 80)])),
  );

  const threads = Array.from({ length: THREADS }, (_, i) => mention(i, 0));
  const cpuBefore = services.map((p) => cpuSeconds(p.pid!));
  const fakesCpuBefore = cpuSeconds(fakes.pid);
  const serversCpuBefore = serversCpuSeconds();
  const benchCpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const sent = new Map<number, number>();
  const acks = await Promise.all(
    threads.map(async (event, i) => {
      sent.set(i, Date.now());
      return slack.sendEvent(`${base}/slack/events`, event);
    }),
  );
  await until(async () => threads.every((e, i) => answered(e, channel(i))), 'every thread to be answered', Number(process.env.BENCH_TIMEOUT_MS ?? 600_000), () => {
    const missing = threads.findIndex((e, i) => !answered(e, channel(i)));
    return `${threads.filter((e, i) => answered(e, channel(i))).length}/${THREADS} answered; thread ${missing}: ${JSON.stringify(
      slack.threadMessages(channel(missing), threads[missing]!.ts).map((m) => [m.user, m.edited, m.text.slice(0, 80)]),
    )}`;
  });
  const wall = performance.now() - t0;
  const cpuUsed = services.map((p, i) => cpuSeconds(p.pid!) - cpuBefore[i]!);
  const fakesCpu = cpuSeconds(fakes.pid) - fakesCpuBefore;
  const serversCpu = serversCpuSeconds().map((s, i) => s - serversCpuBefore[i]!);
  const benchCpu = process.cpuUsage(benchCpuBefore);

  // Per thread, from the Slack side's call log: first progress edit and the final edit.
  const ackMs = acks.map((a) => a.ms).sort((a, b) => a - b);
  const firstProgress: number[] = [];
  const endToEnd: number[] = [];
  let errors = acks.filter((a) => a.status !== 200).length;
  threads.forEach((e, i) => {
    const start = sent.get(i)!;
    const updates = slack.callsTo('chat.update').filter((c) => c.args.channel === channel(i));
    const progress = updates.find((c) => !isFinal(String(c.args.text ?? '')));
    if (progress) firstProgress.push(progress.at - start);
    const final = updates.find((c) => isFinal(String(c.args.text ?? '')));
    if (final) endToEnd.push(final.at - start);
    else errors++;
    const replies = slack.threadMessages(channel(i), e.ts).filter((m) => m.user === slack.botUserId);
    if (replies.some((m) => /went wrong|couldn't|busy right now/.test(m.text))) errors++;
  });
  firstProgress.sort((a, b) => a - b);
  endToEnd.sort((a, b) => a - b);
  const rss = services.map((p, i) => `${roles[i]} ${peakRssMb(p.pid!)} MB`).join(', ');
  const p = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;
  const overhead = (p(endToEnd, 0.5) - criticalPath) / criticalPath;

  console.log(`bench:chat — ${THREADS} concurrent Slack threads; fakes: LLM ${llm} ms, Firecrawl ${firecrawl} ms, Brave ${brave} ms, Slack ${SLACK_MS} ms`);
  console.log(`ack               p50 ${p(ackMs, 0.5).toFixed(1)} ms, p99 ${p(ackMs, 0.99).toFixed(1)} ms   goal p99 ≤ 50 ms`);
  console.log(
    `first progress    p50 ${p(firstProgress, 0.5)} ms, p99 ${p(firstProgress, 0.99)} ms, in ${firstProgress.length} of ${THREADS} threads (progress edits share a budget per workspace)`,
  );
  console.log(`end to end        p50 ${p(endToEnd, 0.5)} ms, p99 ${p(endToEnd, 0.99)} ms (critical path ${criticalPath} ms)`);
  // Issue 13 set ≤ 10 % for 40 threads; the first goal, ≤ 5 %, was for 200.
  const overheadGoal = THREADS <= 40 ? 10 : 5;
  console.log(`overhead          ${(overhead * 100).toFixed(1)} % of the critical path at p50   goal ≤ ${overheadGoal} %`);
  console.log(`throughput        ${((THREADS / wall) * 1000).toFixed(1)} answers/s (${(wall / 1000).toFixed(1)} s for all)`);
  console.log(`peak RSS          ${rss}`);
  const perAnswer = (seconds: number) => (seconds * 1000) / THREADS;
  const allCpu = cpuUsed.reduce((a, b) => a + b, 0) + serversCpu[0]! + serversCpu[1]!;
  console.log(
    `our CPU           ${services.map((_, i) => `${roles[i]} ${perAnswer(cpuUsed[i]!).toFixed(0)} ms`).join(', ')} per answer`,
  );
  console.log(`CPU per answer    ${perAnswer(allCpu).toFixed(0)} ms (our processes + PostgreSQL + Redis)   goal ≤ 20 ms`);
  console.log(
    `other CPU         fakes ${fakesCpu.toFixed(1)} s, Slack fake + driver ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s, over ${(wall / 1000).toFixed(1)} s on ${cpus().length} cores`,
  );
  console.log(
    `servers' CPU      PostgreSQL ${((serversCpu[0]! * 1000) / THREADS).toFixed(0)} ms, Redis ${((serversCpu[1]! * 1000) / THREADS).toFixed(0)} ms per answer (local servers, whole instance)`,
  );
  console.log(`errors            ${errors}   goal 0`);
} finally {
  for (const p of services) {
    p.kill('SIGTERM');
    await new Promise((resolve) => p.once('exit', resolve));
  }
  await database.drop();
  await slack.close();
  fakes.stop();
}

/** User + system CPU time of a process so far, in seconds (Linux /proc, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds of this machine's PostgreSQL and Redis processes, including exited children (Postgres
 * backends end with their connections, and the postmaster reaps them). Zero for remote servers.
 */
function serversCpuSeconds(): [number, number] {
  const total: [number, number] = [0, 0];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (name !== 'postgres' && name !== 'redis-server') continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total[name === 'postgres' ? 0 : 1] += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  }
  return total;
}

function peakRssMb(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return (Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024).toFixed(0);
  } catch {
    return '?';
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(cond: () => Promise<boolean>, what: string, timeoutMs: number, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
