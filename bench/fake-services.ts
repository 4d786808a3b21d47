/**
 * Starts the OpenAI, Firecrawl and Brave fakes with fixed latencies in their own process, so a
 * benchmark's CPU figures count only our code. Prints one JSON line with their URLs, then serves
 * until stdin closes.
 */
import { createBraveFake } from '../test/fakes/brave-fake.js';
import { createFirecrawlFake } from '../test/fakes/firecrawl-fake.js';
import { createOpenAIFake } from '../test/fakes/openai-fake.js';
import { scriptTeam } from '../test/helpers/team-script.js';

const latency = {
  llm: Number(process.env.BENCH_LLM_MS ?? 300),
  firecrawl: Number(process.env.BENCH_FIRECRAWL_MS ?? 400),
  brave: Number(process.env.BENCH_BRAVE_MS ?? 100),
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
const brave = await createBraveFake({ latencyMs: latency.brave });
process.stdout.write(
  `${JSON.stringify({ openai: openai.baseURL, firecrawl: firecrawl.apiUrl, brave: brave.apiUrl, latency })}\n`,
);
process.stdin.resume();
process.stdin.on('end', async () => {
  await Promise.all([openai.close(), firecrawl.close(), brave.close()]);
  process.exit(0);
});
