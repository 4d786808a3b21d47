/**
 * `npm run bench:recovery` (needs DATABASE_URL and REDIS_URL:
 * `bash scripts/test-services.sh npm run bench:recovery`).
 *
 * Crash recovery: how soon a worker killed mid-answer (SIGKILL, after the Slack stream opened, the
 * model thinking) has its job resumed by a second worker that is already running, and what the short
 * locks cost in Redis. The web role runs in this process (test/helpers/system.ts, Slack streaming on);
 * the workers run in child processes (this file with RECOVERY_BENCH_WORKER=1) that print a line when
 * their BullMQ worker takes a job up, so a kill hits a real process.
 *
 * Per run: kill → job resumed (the surviving worker's next `active` for the job), kill → the re-run's
 * first model request, kill → answer complete (the one stream message has its feedback buttons and is
 * not streaming). Checks one `chat.startStream` per thread, one bot message, nothing left streaming.
 * Goal: resumed within 10 s (p50 and max).
 *
 * Redis cost: top-level commands seen by MONITOR (commands run inside Lua scripts not counted) over a
 * window with one worker idle, and over the same window with one job waiting on a long model call
 * (nothing else happening); the difference per second is the cost per active job. Measured for the
 * settings under test and for the old 30 s / 30 s. The long job must not be taken for a stalled one
 * (one `active`, one model request).
 *
 * Knobs: BENCH_RUNS (5), BENCH_LOCK_MS / BENCH_STALLED_MS (default QUEUE's), BENCH_COST=0 (skip the
 * Redis cost), BENCH_COST_WINDOW_MS (new settings; the old ones get 60 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { startServices } from '../adapters/server/services.js';
import { loadConfig } from '../src/config.js';
import { QUEUE } from '../src/constants.js';
import { silentLogger } from '../src/logger.js';

const now = () => performance.timeOrigin + performance.now();

if (process.env.RECOVERY_BENCH_WORKER === '1') {
  // Child: one worker role, reporting when it takes a job up and the event loop's longest block per turn.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const services = await startServices(loadConfig('worker'), {
    role: 'worker',
    logger: silentLogger,
    queueName: process.env.TEST_QUEUE_NAME,
    worker: { lockDurationMs: Number(process.env.BENCH_LOCK_MS), stalledIntervalMs: Number(process.env.BENCH_STALLED_MS) },
  });
  const worker = services.worker!.worker;
  worker.on('active', (job) => process.stdout.write(`active ${job.id} ${now()}\n`));
  worker.on('completed', (job) => {
    process.stdout.write(`completed ${job.id} ${now()} ${(loop.max / 1e6).toFixed(1)}\n`);
    loop.reset();
  });
  process.stdout.write('ready\n');
  await new Promise(() => {});
}

const { waitFor } = await import('../test/fakes/fake-http.js');
const { startSystem } = await import('../test/helpers/system.js');
type TestSystem = Awaited<ReturnType<typeof startSystem>>;

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('bench:recovery needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:recovery)');
  process.exit(2);
}
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LOCK_MS = Number(process.env.BENCH_LOCK_MS ?? QUEUE.lockDurationMs);
const STALLED_MS = Number(process.env.BENCH_STALLED_MS ?? QUEUE.stalledIntervalMs);
const OLD = { lockMs: 30_000, stalledMs: 30_000 };
const GOAL_MS = 10_000;
const COST_WINDOW_MS = Number(process.env.BENCH_COST_WINDOW_MS ?? Math.max(20_000, 3 * LOCK_MS));

interface Child {
  proc: ChildProcess;
  /** job id → times it was taken up. */
  active: Map<string, number[]>;
  completed: Map<string, number>;
  /** Longest event-loop block during each completed turn (ms). */
  blocks: number[];
}
const children = new Set<Child>();
/** Longest event-loop block of every turn a worker completed (ms). */
const turnBlocks: number[] = [];

async function startWorker(system: TestSystem, settings: { lockMs: number; stalledMs: number }): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/recovery-bench.ts'], {
    env: {
      ...process.env,
      ...system.env,
      RECOVERY_BENCH_WORKER: '1',
      TEST_QUEUE_NAME: system.queueName,
      BENCH_LOCK_MS: String(settings.lockMs),
      BENCH_STALLED_MS: String(settings.stalledMs),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const child: Child = { proc, active: new Map(), completed: new Map(), blocks: [] };
  children.add(child);
  const lines = createInterface({ input: proc.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      const [kind, jobId, at, block] = line.split(' ');
      if (kind === 'ready') resolve();
      else if (kind === 'active') child.active.set(jobId!, [...(child.active.get(jobId!) ?? []), Number(at)]);
      else if (kind === 'completed') {
        child.completed.set(jobId!, Number(at));
        child.blocks.push(Number(block));
        turnBlocks.push(Number(block));
      }
    });
    proc.once('exit', () => reject(new Error('worker process exited before it was ready')));
  });
  await ready;
  return child;
}

async function kill(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    const exited = once(child.proc, 'exit');
    child.proc.kill('SIGKILL');
    await exited;
  }
  children.delete(child);
}

const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`;
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface RecoverySample {
  resumed: number;
  firstModelCall: number;
  complete: number;
  ok: boolean;
  note: string;
}

/** One answer whose worker is killed after the stream opened; a second worker is already running. */
async function recoveryRun(system: TestSystem, i: number): Promise<RecoverySample> {
  const slack = system.slack!;
  const openai = system.fakes.openai;
  const settings = { lockMs: LOCK_MS, stalledMs: STALLED_MS };
  while (children.size < 2) await startWorker(system, settings);
  const channel = `CR${i}`;
  const startsBefore = slack.callsTo('chat.startStream').length;
  const requestsBefore = openai.requests.length;
  openai.setLatency(1_500);
  const mention = slack.mentionEvent({ channel, user: `U${i}`, text: 'Should I move from Seattle to Austin?' });
  const res = await slack.sendEvent(system.slackEventsUrl, mention);
  if (res.status !== 200) throw new Error(`event answered ${res.status}`);
  const botMessages = () => slack.threadMessages(channel, mention.ts).filter((m) => m.user === slack.botUserId && !m.files?.length);
  await waitFor(() => botMessages().some((m) => m.streaming), { timeoutMs: 20_000, what: 'the open stream' });
  await openai.waitForRequests(requestsBefore + 1, 20_000);
  // Let the model think a little, then kill whichever worker runs the job.
  await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
  const running = [...children].find((c) => c.active.size > [...c.completed.keys()].length);
  if (!running) throw new Error(`run ${i}: no worker is running the job`);
  const id = [...running.active.keys()].find((k) => !running.completed.has(k))!;
  const killAt = now();
  await kill(running);
  openai.setLatency(0);
  const survivor = [...children][0]!;
  await waitFor(() => (survivor.active.get(id) ?? []).some((t) => t > killAt), { timeoutMs: 120_000, what: 'the job resumed' });
  const resumedAt = survivor.active.get(id)!.find((t) => t > killAt)!;
  await waitFor(() => openai.requests.some((r) => r.receivedAt > killAt), { timeoutMs: 60_000, what: 'the re-run model call' });
  const firstCallAt = openai.requests.find((r) => r.receivedAt > killAt)!.receivedAt;
  const answered = () => botMessages().some((m) => !m.streaming && JSON.stringify(m.blocks ?? []).includes('feedback_buttons'));
  await waitFor(answered, { timeoutMs: 60_000, what: 'the answer after the kill' });
  const completeAt = now();
  // The Stop button message goes once the answer is complete; give it a moment, then check the thread.
  await waitFor(() => botMessages().length === 1, { timeoutMs: 10_000, what: 'one bot message' }).catch(() => {});
  await waitFor(() => survivor.completed.has(id), { timeoutMs: 20_000, what: 'the job completed' });
  const messages = botMessages();
  const starts = slack.callsTo('chat.startStream').length - startsBefore;
  const streaming = messages.filter((m) => m.streaming).length;
  const ok = messages.length === 1 && starts === 1 && streaming === 0;
  return {
    resumed: resumedAt - killAt,
    firstModelCall: firstCallAt - killAt,
    complete: completeAt - killAt,
    ok,
    note: `${messages.length} bot message(s), ${starts} stream(s) started, ${streaming} left streaming`,
  };
}

/** Top-level Redis commands per second over a window, by command. */
async function redisRate(windowMs: number): Promise<{ perSecond: number; byCommand: Record<string, number> }> {
  const client = new Redis(process.env.REDIS_URL!);
  const monitor = await client.monitor();
  const byCommand: Record<string, number> = {};
  let total = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source.includes('lua')) return; // run inside a script: not a round trip
    const name = (args[0] ?? '').toLowerCase();
    const key = name === 'evalsha' || name === 'eval' ? `${name} (${args.length} args)` : name;
    byCommand[key] = (byCommand[key] ?? 0) + 1;
    total += 1;
  });
  await new Promise((r) => setTimeout(r, windowMs));
  monitor.disconnect();
  client.disconnect();
  const perSecond = total / (windowMs / 1000);
  for (const k of Object.keys(byCommand)) byCommand[k] = Number((byCommand[k]! / (windowMs / 1000)).toFixed(2));
  return { perSecond, byCommand };
}

interface CostSample {
  label: string;
  idle: number;
  busy: number;
  perJob: number;
  activations: number;
  modelCalls: number;
  byCommand: Record<string, number>;
}

/** One worker with `settings`: idle window, then a window with one job waiting on a long model call. */
async function cost(label: string, settings: { lockMs: number; stalledMs: number }, windowMs: number): Promise<CostSample> {
  const system = await startSystem({ platforms: ['slack'], role: 'web', slackStreaming: true });
  try {
    const worker = await startWorker(system, settings);
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = await redisRate(windowMs);
    const slack = system.slack!;
    const openai = system.fakes.openai;
    openai.setLatency(windowMs + 2 * settings.lockMs + 10_000); // one model call longer than the window and the lock
    const mention = slack.mentionEvent({ channel: 'CCOST', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    await slack.sendEvent(system.slackEventsUrl, mention);
    await openai.waitForRequests(1, 30_000);
    const before = openai.requests.length;
    await new Promise((r) => setTimeout(r, 500));
    const busy = await redisRate(windowMs);
    const activations = [...worker.active.values()].reduce((n, a) => n + a.length, 0);
    const modelCalls = openai.requests.length - before;
    await kill(worker);
    openai.setLatency(0);
    return {
      label,
      idle: idle.perSecond,
      busy: busy.perSecond,
      perJob: busy.perSecond - idle.perSecond,
      activations,
      modelCalls,
      byCommand: busy.byCommand,
    };
  } finally {
    for (const c of [...children]) await kill(c);
    await system.close();
  }
}

try {
  console.log(`bench:recovery — lock ${ms(LOCK_MS)}, stall check every ${ms(STALLED_MS)}, ${RUNS} kills`);
  const system = await startSystem({ platforms: ['slack'], role: 'web', slackStreaming: true });
  const samples: RecoverySample[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const s = await recoveryRun(system, i);
      samples.push(s);
      console.log(
        `  run ${i + 1}: resumed ${ms(s.resumed)}, re-run's first model call ${ms(s.firstModelCall)}, answer complete ${ms(s.complete)} — ${s.note}${s.ok ? '' : ' (NOT OK)'}`,
      );
    }
  } finally {
    for (const c of [...children]) await kill(c);
    await system.close();
  }
  const resumed = samples.map((s) => s.resumed);
  const complete = samples.map((s) => s.complete);
  const firstCall = samples.map((s) => s.firstModelCall);
  const met = pct(resumed, 50) <= GOAL_MS && Math.max(...resumed) <= GOAL_MS;
  console.log(`kill → job resumed:            p50 ${ms(pct(resumed, 50))}, max ${ms(Math.max(...resumed))}   goal ≤ ${ms(GOAL_MS)}: ${met ? 'met' : 'NOT met'}`);
  console.log(`kill → re-run's first model call: p50 ${ms(pct(firstCall, 50))}, max ${ms(Math.max(...firstCall))}`);
  console.log(`kill → answer complete:        p50 ${ms(pct(complete, 50))}, max ${ms(Math.max(...complete))}`);
  const okCount = samples.filter((s) => s.ok).length;
  console.log(`exactly one answer, nothing left streaming: ${okCount}/${samples.length} threads   goal ${samples.length}/${samples.length}: ${okCount === samples.length ? 'met' : 'NOT met'}`);
  console.log(`longest event-loop block in a worker during a turn: ${ms(Math.max(...turnBlocks))} over ${turnBlocks.length} turns (the lock survives blocks up to ~${ms(LOCK_MS / 4)}–${ms(LOCK_MS / 2)})`);

  if (process.env.BENCH_COST !== '0') {
    const results = [
      await cost(`now (${LOCK_MS / 1000} s lock, ${STALLED_MS / 1000} s stall check)`, { lockMs: LOCK_MS, stalledMs: STALLED_MS }, COST_WINDOW_MS),
      await cost('old (30 s lock, 30 s stall check)', OLD, 60_000),
    ];
    console.log('Redis round trips (top-level commands a second; one worker, one job waiting on a long model call):');
    for (const r of results) {
      console.log(
        `  ${r.label}: idle ${r.idle.toFixed(2)}/s, with the job ${r.busy.toFixed(2)}/s → ${r.perJob.toFixed(2)}/s per active job; ` +
          `long call kept its lock: ${r.activations === 1 ? 'yes' : 'NO'} (${r.activations} activation(s), ${r.modelCalls} new model calls in the window)`,
      );
      console.log(`    with the job, by command: ${JSON.stringify(r.byCommand)}`);
    }
  }
} finally {
  for (const c of [...children]) await kill(c);
}
process.exit(0);
