/**
 * `npm run bench:relay` (needs DATABASE_URL and REDIS_URL: `bash scripts/test-services.sh npm run bench:relay`).
 *
 * The run event relay: a worker-side writer appends events to a run's Redis Stream and a client reads
 * them as SSE from a real web role (GET /teams/{id}/runs/{run_id}/stream). Per event it measures the
 * time from the append call to the client parsing it, against a floor measured in the same run: the
 * same appends read by a bare XREAD BLOCK loop on loopback (no HTTP, no SSE). Goal: extra latency per
 * event (relay minus floor) p50/p99 ≤ 2 ms.
 */
import { randomUUID } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import { Redis } from 'ioredis';
import { startServices } from '../adapters/server/services.js';
import { createRedisRunEventLog } from '../queue/run-event-stream.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createBenchDatabase } from './bench-database.js';

const EVENTS = 400;
const GAP_MS = 3;
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('bench:relay needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:relay)');
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL;
const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench_relay');
const web = await startServices(
  loadConfig('web', { DATABASE_URL: database.url, REDIS_URL: redisUrl, PORT: '0', HOST: '127.0.0.1' }),
  { role: 'web', logger: silentLogger, queueName: `movebot-bench-${randomUUID()}` },
);
const writer = createRedisRunEventLog({ redisUrl, logger: silentLogger });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends EVENTS content deltas, each carrying its send time, and a completion. */
async function write(runId: string) {
  await writer.append(runId, { type: 'run_queued', runId, sessionId: 's' });
  for (let i = 0; i < EVENTS; i++) {
    await writer.append(runId, { type: 'content_delta', text: String(performance.timeOrigin + performance.now()) });
    await sleep(GAP_MS);
  }
  const metrics = { input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0, duration: 0 };
  await writer.append(runId, { type: 'run_completed', content: '', kind: 'answer', metrics });
}

async function relay(): Promise<number[]> {
  const runId = randomUUID();
  await writer.append(runId, { type: 'run_queued', runId, sessionId: 's' });
  const res = await fetch(`${web.url}/teams/move-decision-team/runs/${runId}/stream`);
  const latencies: number[] = [];
  const parser = createParser({
    onEvent(m) {
      const now = performance.timeOrigin + performance.now();
      if (m.event === 'TeamRunContent') latencies.push(now - Number(JSON.parse(m.data).content));
    },
  });
  const writing = write(runId);
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  await writing;
  return latencies;
}

async function floor(): Promise<number[]> {
  const runId = randomUUID();
  const reader = new Redis(redisUrl);
  const latencies: number[] = [];
  const writing = write(runId);
  let last = '0-0';
  for (let done = false; !done; ) {
    const reply = (await reader.xread('BLOCK', 5_000, 'STREAMS', `movebot:run:${runId}:events`, last)) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      last = id;
      const event = JSON.parse(fields[1]!);
      if (event.type === 'content_delta') latencies.push(performance.timeOrigin + performance.now() - Number(event.text));
      if (event.type === 'run_completed') done = true;
    }
  }
  await writing;
  reader.disconnect();
  return latencies;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
try {
  await relay(); // warm-up
  const f = await floor();
  const r = await relay();
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(2)} ms   p99 ${pct(xs, 99).toFixed(2)} ms   (${xs.length} events)`;
  console.log(row('floor (XREAD on loopback)', f));
  console.log(row('relay (web role SSE)', r));
  const extra50 = pct(r, 50) - pct(f, 50);
  const extra99 = pct(r, 99) - pct(f, 99);
  console.log(`extra per event: p50 ${extra50.toFixed(2)} ms, p99 ${extra99.toFixed(2)} ms   goal ≤ 2 ms each: ${extra50 <= 2 && extra99 <= 2 ? 'met' : 'NOT met'}`);
} finally {
  await writer.close();
  await web.stop();
  await database.drop();
}
