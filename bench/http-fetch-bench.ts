/**
 * `npm run bench:http`: client CPU per call of the real OpenAI SDK and of a Brave request, on Node's
 * global fetch against our `createHttpFetch` (src/net/http-fetch.ts). The fakes answer at once from
 * another process, so the CPU figure is only this process: request building, the transport, parsing.
 * Goal: ≤ 1.5 ms per call, because a turn makes ~16 of them and must fit in 40 ms of CPU with our code.
 */
import OpenAI from 'openai';
import { createHttpFetch } from '../src/net/http-fetch.js';
import { startFakeServices } from './start-fakes.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const PARALLEL = 10;
const GOAL_MS = 1.5;

const fakes = await startFakeServices({ BENCH_LLM_MS: '0', BENCH_BRAVE_MS: '0' });
const transports: Record<string, typeof fetch> = {
  'global fetch': fetch,
  createHttpFetch: createHttpFetch(),
};

console.log(
  `bench:http — ${CALLS} calls each, ${PARALLEL} at a time; fakes answer at once, in another process`,
);
for (const [name, transport] of Object.entries(transports)) {
  const sdk = new OpenAI({ apiKey: 'sk-bench', baseURL: fakes.openai, fetch: transport, maxRetries: 0 });
  const completion = () =>
    sdk.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Should I move? '.repeat(200) }],
    });
  const embedding = () =>
    sdk.embeddings.create({ model: 'text-embedding-3-small', input: 'a memory', dimensions: 64 });
  const brave = async () => {
    const res = await transport(`${fakes.brave}/web/search?q=moving+to+austin&count=10`, {
      headers: { Accept: 'application/json', 'X-Subscription-Token': 'brave-bench' },
    });
    return res.json();
  };
  for (const [call, fn] of Object.entries({
    'chat completion': completion,
    embedding,
    'brave search': brave,
  })) {
    const ms = await cpuPerCall(fn);
    console.log(
      `${name.padEnd(16)} ${call.padEnd(16)} ${ms.toFixed(2).padStart(5)} ms CPU/call   goal ≤ ${GOAL_MS} ms`,
    );
  }
}
fakes.stop();

async function cpuPerCall(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 100; i++) await fn(); // warm-up: JIT and connections
  let next = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next++ < CALLS) await fn();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / CALLS;
}
