/**
 * Starts the OpenAI, Firecrawl and Brave fakes with fixed latencies in their own process, so a
 * benchmark's CPU figures count only our code. Prints one JSON line with their URLs, then serves
 * until stdin closes. `BENCH_BRAVE_INTERVAL_MS` makes the Brave fake answer 429 to requests closer
 * than that (Brave's free plan: 1000). A `brave-requests` line on stdin is answered with one JSON line:
 * the Brave requests received since the previous one (query, status, arrival and reply times).
 */
import { createInterface } from 'node:readline';
import { createBraveFake } from '../test/fakes/brave-fake.js';
import { createFirecrawlFake } from '../test/fakes/firecrawl-fake.js';
import { createOpenAIFake } from '../test/fakes/openai-fake.js';
import { scriptTeam } from '../test/helpers/team-script.js';

const latency = {
  llm: Number(process.env.BENCH_LLM_MS ?? 300),
  firecrawl: Number(process.env.BENCH_FIRECRAWL_MS ?? 400),
  brave: Number(process.env.BENCH_BRAVE_MS ?? 100),
  braveIntervalMs: Number(process.env.BENCH_BRAVE_INTERVAL_MS ?? 0),
};
const openai = await createOpenAIFake({ latencyMs: latency.llm, embeddingDimensions: Number(process.env.BENCH_DIMS ?? 64) });
scriptTeam(openai);
const page = (from: string, to: string) =>
  `# Cost of living: ${from} vs ${to}\n\nThe cost of living in ${to} is 18% lower than in ${from}.\n\n| Category | Difference |\n|---|---|\n| Housing | 31% lower |\n| Food | 6% lower |\n| Transportation | 4% higher |\n\nMedian rent: $2,350 vs $1,700\n`;
const firecrawl = await createFirecrawlFake({
  latencyMs: latency.firecrawl,
  pages: (url: string) => {
    const m = /compare\/([a-z-]+)-([a-z]{2})-vs-([a-z-]+)-([a-z]{2})$/.exec(url);
    return m ? page(`${m[1]}, ${m[2]!.toUpperCase()}`, `${m[3]}, ${m[4]!.toUpperCase()}`) : undefined;
  },
});
const brave = await createBraveFake({
  latencyMs: latency.brave,
  ...(latency.braveIntervalMs > 0 ? { minIntervalMs: latency.braveIntervalMs } : {}),
});
process.stdout.write(
  `${JSON.stringify({ openai: openai.baseURL, firecrawl: firecrawl.apiUrl, brave: brave.apiUrl, latency })}\n`,
);
let braveReported = 0;
const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  if (line.trim() !== 'brave-requests') return;
  const fresh = brave.requests.slice(braveReported);
  braveReported = brave.requests.length;
  const summary = fresh.map(({ q, count, status, receivedAt, repliedAt }) => ({ q, count, status, receivedAt, repliedAt }));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
});
commands.on('close', async () => {
  await Promise.all([openai.close(), firecrawl.close(), brave.close()]);
  process.exit(0);
});
