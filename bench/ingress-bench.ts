/**
 * `npm run bench:ingress` (needs DATABASE_URL and REDIS_URL: `bash scripts/test-services.sh npm run bench:ingress`).
 *
 * Slack ingress on the web role: BURST signed `app_mention` events POSTed at once to `/slack/events`
 * of a web-only process (a child process, no worker running, so the web role has the cores), against
 * a floor measured side by side in the same run: a bare `node:http` server (another child process)
 * that reads the body, checks the v0 signature with Bolt's own `verifySlackRequest` and adds the same
 * BullMQ job. Each process enqueues to its own random queue on the test Redis. For each: acks p50/p99
 * (from the burst's start to each response) and CPU per event (the process's user + system CPU over
 * the burst, from process.cpuUsage, divided by the events). Goals: CPU per event ≤ 1.5× the floor's;
 * acks p99 ≤ 50 ms, or ≤ 1.5× the floor's p99 where even the floor cannot ack that fast here.
 *
 * Every event has its own user, channel and thread (no limit is hit; the limits are the defaults).
 * Both processes log nothing (silent logger), so neither pays for logging.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildMentionEvent, createTsGenerator, eventCallbackEnvelope, signSlackRequest } from '../test/fakes/slack-wire.js';

const BURST = 200;
const WARMUP_BURSTS = 3;
const ROUNDS = 3;
const SIGNING_SECRET = 'bench-signing-secret';
const BOT_USER = 'UBENCHBOT';
const TEAM = 'TBENCH';
const CPU_GOAL_RATIO = 1.5;
const P99_GOAL_MS = 50;
const P99_GOAL_RATIO = 1.5;

type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'cpu'; usage: NodeJS.CpuUsage }
  | { type: 'stopped' };


// ---------------------------------------------------------------------------------------- parent

async function main() {
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
    console.error('bench:ingress needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:ingress)');
    process.exit(2);
  }
  const { createBenchDatabase } = await import('./bench-database.js');
  const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench_ingress');
  const slackApi = await startSlackApi();
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    SLACK_API_URL: `${slackApi.url}/api/`,
    BENCH_SIGNING_SECRET: SIGNING_SECRET,
  };
  const web = await startChild('web', env);
  const floor = await startChild('floor', env);
  try {
    const nextTs = createTsGenerator(Math.floor(Date.now() / 1000));
    // Warm both up (JIT, connections, the workspace's spend cached), then measure alternating rounds.
    for (let i = 0; i < WARMUP_BURSTS; i++) {
      await burst(web, nextTs);
      await burst(floor, nextTs);
    }
    const results = { web: [] as BurstResult[], floor: [] as BurstResult[] };
    for (let i = 0; i < ROUNDS; i++) {
      results.web.push(await burst(web, nextTs));
      results.floor.push(await burst(floor, nextTs));
    }
    report(results.web, results.floor);
  } finally {
    await Promise.all([stopChild(web), stopChild(floor)]);
    slackApi.server.close();
    await database.drop();
  }
}

interface Child {
  name: string;
  proc: ChildProcess;
  url: string;
  next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>>;
}

async function startChild(name: 'web' | 'floor', env: NodeJS.ProcessEnv): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', name], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: Array<{ type: string; resolve: (m: ChildMessage) => void }> = [];
  proc.on('message', (m: ChildMessage) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`${name} exited (${code})`))));
  exited.catch(() => undefined);
  const next = <T extends ChildMessage['type']>(type: T) =>
    Promise.race([
      new Promise<Extract<ChildMessage, { type: T }>>((resolve) =>
        waiting.push({ type, resolve: resolve as (m: ChildMessage) => void }),
      ),
      exited,
    ]);
  const ready = await next('ready');
  return { name, proc, url: ready.url, next };
}

async function stopChild(child: Child) {
  child.proc.send({ type: 'stop' });
  await Promise.race([child.next('stopped').catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  child.proc.kill();
}

interface BurstResult {
  acks: number[];
  cpuMsPerEvent: number;
  failures: number;
}

async function cpuOf(child: Child): Promise<number> {
  child.proc.send({ type: 'cpu' });
  const { usage } = await child.next('cpu');
  return (usage.user + usage.system) / 1000;
}

/** BURST signed mentions at once; each from its own user in its own channel. */
async function burst(child: Child, nextTs: () => string): Promise<BurstResult> {
  const bodies = Array.from({ length: BURST }, (_, i) => {
    const user = `U${randomUUID().slice(0, 8).toUpperCase()}`;
    const event = buildMentionEvent(
      { channel: `C${i}${randomUUID().slice(0, 6).toUpperCase()}`, user, text: 'should I move from Austin to Denver?', ts: nextTs() },
      BOT_USER,
      TEAM,
    );
    return JSON.stringify(eventCallbackEnvelope(event, { teamId: TEAM, botUserId: BOT_USER, appId: 'ABENCH' }));
  });
  const signed = bodies.map((body) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return { body, timestamp, signature: signSlackRequest(SIGNING_SECRET, timestamp, body) };
  });
  const cpuBefore = await cpuOf(child);
  const started = performance.now();
  let failures = 0;
  const acks = await Promise.all(
    signed.map(async ({ body, timestamp, signature }) => {
      const res = await fetch(`${child.url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signature,
        },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
      return performance.now() - started;
    }),
  );
  // Work the process does after the last ack (e.g. a response's cleanup) still counts.
  await new Promise((r) => setTimeout(r, 100));
  const cpuAfter = await cpuOf(child);
  return { acks, cpuMsPerEvent: (cpuAfter - cpuBefore) / BURST, failures };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function report(web: BurstResult[], floor: BurstResult[]) {
  const summary = (rounds: BurstResult[]) => ({
    p50: median(rounds.map((r) => percentile(r.acks, 50))),
    p99: median(rounds.map((r) => percentile(r.acks, 99))),
    cpu: median(rounds.map((r) => r.cpuMsPerEvent)),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
  });
  const w = summary(web);
  const f = summary(floor);
  const cpuRatio = w.cpu / f.cpu;
  const p99Ratio = w.p99 / f.p99;
  const floorFast = f.p99 <= P99_GOAL_MS;
  const p99Ok = floorFast ? w.p99 <= P99_GOAL_MS : p99Ratio <= P99_GOAL_RATIO;
  const p99Goal = floorFast ? `≤ ${P99_GOAL_MS} ms` : `≤ ${P99_GOAL_RATIO}× floor (floor p99 > ${P99_GOAL_MS} ms here)`;
  const fmt = (n: number, d = 1) => n.toFixed(d);
  console.log(`\nbench:ingress — ${BURST} signed Slack events at once, median of ${ROUNDS} rounds (after ${WARMUP_BURSTS} warm-up bursts)`);
  console.log(`cores: ${availableParallelism()}, node ${process.version}\n`);
  console.log('| | acks p50 | acks p99 | CPU per event | non-200 |');
  console.log('|---|---|---|---|---|');
  console.log(`| web role (service) | ${fmt(w.p50)} ms | ${fmt(w.p99)} ms | ${fmt(w.cpu, 3)} ms | ${w.failures} |`);
  console.log(`| floor (node:http + verifySlackRequest + queue.add) | ${fmt(f.p50)} ms | ${fmt(f.p99)} ms | ${fmt(f.cpu, 3)} ms | ${f.failures} |`);
  console.log(`| ratio service / floor | ${fmt(w.p50 / f.p50, 2)}× | ${fmt(p99Ratio, 2)}× | ${fmt(cpuRatio, 2)}× | |`);
  console.log('');
  console.log(`CPU per event: ${fmt(cpuRatio, 2)}× floor   goal ≤ ${CPU_GOAL_RATIO}×   ${cpuRatio <= CPU_GOAL_RATIO ? 'MET' : 'NOT MET'}`);
  console.log(`acks p99: ${fmt(w.p99)} ms (${fmt(p99Ratio, 2)}× floor)   goal ${p99Goal}   ${p99Ok ? 'MET' : 'NOT MET'}`);
  if (w.failures || f.failures) console.log(`WARNING: ${w.failures + f.failures} events were not acknowledged with 200`);
}

/** auth.test and chat.postMessage, as much of Slack's Web API as the web role calls here. */
async function startSlackApi(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('auth.test')) {
        res.end(JSON.stringify({ ok: true, user_id: BOT_USER, bot_id: 'BBENCH', team_id: TEAM, user: 'movebot' }));
      } else {
        res.end(JSON.stringify({ ok: true, ts: '1.000001', channel: 'C1' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// ----------------------------------------------------------------------------------------- child

async function runChild(kind: 'web' | 'floor') {
  const send = (m: ChildMessage) => process.send!(m);
  let stop: () => Promise<void>;
  let url: string;
  if (kind === 'web') {
    const { startServices } = await import('../adapters/server/services.js');
    const { loadConfig } = await import('../src/config.js');
    const { silentLogger } = await import('../src/logger.js');
    const services = await startServices(
      loadConfig('web', {
        DATABASE_URL: process.env.DATABASE_URL,
        REDIS_URL: process.env.REDIS_URL,
        PORT: '0',
        HOST: '127.0.0.1',
        SLACK_BOT_TOKEN: 'xoxb-bench',
        SLACK_SIGNING_SECRET: process.env.BENCH_SIGNING_SECRET,
        SLACK_API_URL: process.env.SLACK_API_URL,
      }),
      { role: 'web', logger: silentLogger, queueName: `movebot-bench-ingress-${randomUUID()}` },
    );
    url = services.url!;
    stop = () => services.stop();
  } else {
    const floor = await startFloor(process.env.REDIS_URL!, process.env.BENCH_SIGNING_SECRET!);
    url = floor.url;
    stop = floor.stop;
  }
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    if (m.type === 'stop') {
      await stop().catch(() => undefined);
      send({ type: 'stopped' });
      process.exit(0);
    }
  });
  send({ type: 'ready', url });
}

/** The floor: read the body, verify it as Bolt does, add the same job; nothing else. */
async function startFloor(redisUrl: string, signingSecret: string) {
  const { verifySlackRequest } = await import('@slack/bolt');
  const { Queue } = await import('bullmq');
  const { redisOptionsFromUrl } = await import('../queue/redis.js');
  const { QUEUE } = await import('../src/constants.js');
  const { chatJobId } = await import('../src/ports/turn-job.js');
  const { normalizeSlackEvent } = await import('../adapters/slack/slack-normalize.js');
  const queue = new Queue(`movebot-bench-floor-${randomUUID()}`, {
    connection: redisOptionsFromUrl(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  });
  await queue.waitUntilReady();
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    try {
      verifySlackRequest({
        signingSecret,
        body,
        headers: {
          'x-slack-signature': String(req.headers['x-slack-signature']),
          'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
        },
      });
    } catch {
      res.writeHead(401).end();
      return;
    }
    const envelope = JSON.parse(body);
    const decision = normalizeSlackEvent({
      event: envelope.event,
      teamId: envelope.team_id,
      bot: { userId: BOT_USER },
      receivedAt: new Date(),
    });
    if (decision.action === 'enqueue') {
      const job = { ...decision.job, runId: randomUUID() };
      await queue.add('chat', job, {
        jobId: chatJobId(job),
        attempts: QUEUE.attempts,
        backoff: { type: 'exponential', delay: QUEUE.retryDelayMs },
        removeOnComplete: { age: QUEUE.keepCompletedSeconds, count: 10_000 },
        removeOnFail: { age: QUEUE.keepFailedSeconds },
      });
    }
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.close();
      server.closeAllConnections();
      await queue.close();
    },
  };
}

// Last, so every constant above is initialised before either side runs.
const role = process.argv[process.argv.indexOf('--child') + 1];
if (process.argv.includes('--child')) {
  await runChild(role === 'floor' ? 'floor' : 'web');
} else {
  await main();
}
