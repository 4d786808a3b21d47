/**
 * `npm run bench:first-delta` (needs DATABASE_URL and REDIS_URL:
 * `bash scripts/test-services.sh npm run bench:first-delta`).
 *
 * How soon the recommendation's words reach an API client once the model has written them. Full API
 * runs (web + worker, fakes in this process) stream over SSE; the OpenAI fake notes when it writes each
 * chunk of the synthesis. Per run it reports:
 * - the fake's time to first token (synthesis request in → first chunk out), the figure we pay anyway;
 * - the grounder's hold: the justification is released sentence by sentence once each is checked, so
 *   the first delta waits until its sentence is complete on the wire;
 * - extra: from the chunk that completed the first delta's text to the client parsing that delta
 *   (queue-free path: worker → Redis Stream → web role → SSE). Goal: ≤ 10 ms (p50 and p99).
 */
import { randomUUID } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import { parse as parsePartialJson } from 'partial-json';
import { startServices } from '../adapters/server/services.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startTeamFakes } from '../test/helpers/team-env.js';
import { createBenchDatabase } from './bench-database.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const LLM_MS = 200;
const CHUNK_CHARS = 8;
const CHUNK_DELAY_MS = 10;
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('bench:first-delta needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:first-delta)');
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
/** The synthesis stream of the run in flight: when it was asked for and what was written when. */
let synthesis: { chunks: Array<{ at: number; text: string }> } | undefined;
const fakes = await startTeamFakes({
  latencyMs: LLM_MS,
  openai: {
    streamChunkChars: CHUNK_CHARS,
    streamChunkDelayMs: CHUNK_DELAY_MS,
    onStreamChunk(req, content) {
      if (!synthesis || !req.system.includes('Combine the analysts')) return;
      const sofar = (synthesis.chunks.at(-1)?.text ?? '') + content;
      synthesis.chunks.push({ at: now(), text: sofar });
    },
  },
});
const database = await createBenchDatabase(process.env.DATABASE_URL, 'movebot_bench_first_delta');
const services = await startServices(
  loadConfig('all', { ...fakes.env, DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL, PORT: '0', HOST: '127.0.0.1' }),
  { role: 'all', logger: silentLogger, queueName: `movebot-bench-${randomUUID()}` },
);

interface Sample {
  ttft: number;
  hold: number;
  extra: number;
}

/** One API run, streamed: returns the synthesis timings. */
async function run(i: number): Promise<Sample> {
  synthesis = { chunks: [] };
  const form = new FormData();
  form.set('message', 'Should I move from Seattle to Austin? I love live music.');
  form.set('stream', 'true');
  form.set('user_id', `bench-${i}`);
  const res = await fetch(`${services.url}/teams/move-decision-team/runs`, { method: 'POST', body: form });
  let first: { at: number; text: string } | undefined;
  const parser = createParser({
    onEvent(m) {
      if (m.event === 'TeamRunContent' && !first) first = { at: now(), text: JSON.parse(m.data).content as string };
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  if (!first) throw new Error(`run ${i}: no content delta`);
  const chunks = synthesis.chunks;
  const justification = (text: string) => {
    try {
      const value = (parsePartialJson(text) as { detailed_justification?: unknown }).detailed_justification;
      return typeof value === 'string' ? value : '';
    } catch {
      return '';
    }
  };
  const started = chunks.find((c) => justification(c.text).length > 0);
  const complete = chunks.find((c) => justification(c.text).trimEnd().length >= first!.text.trimEnd().length);
  if (!chunks[0] || !started || !complete) throw new Error(`run ${i}: the synthesis stream was not observed`);
  const asked = fakes.openai.chatRequests.filter((r) => r.system.includes('Combine the analysts')).at(-1);
  return {
    ttft: chunks[0].at - (asked?.receivedAt ?? chunks[0].at),
    hold: complete.at - started.at,
    extra: first.at - complete.at,
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
try {
  await run(-1); // warm-up: module loading and JIT are not what we measure
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await run(i));
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(34)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(6)} ms`;
  console.log(`${RUNS} streamed API runs; fake model: ${LLM_MS} ms to first token, ${CHUNK_CHARS} chars every ${CHUNK_DELAY_MS} ms`);
  console.log(row("fake's time to first token", samples.map((s) => s.ttft)));
  console.log(row('grounder hold (first sentence)', samples.map((s) => s.hold)));
  const extra = samples.map((s) => s.extra);
  console.log(row('extra: written → at the client', extra));
  const met = pct(extra, 50) <= 10 && pct(extra, 99) <= 10;
  console.log(`goal: extra ≤ 10 ms (p50 and p99): ${met ? 'met' : 'NOT met'}`);
} finally {
  await services.stop();
  await fakes.close();
  await database.drop();
}
