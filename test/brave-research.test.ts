import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { createBraveResearch } from '../src/tools/brave-research.js';
import { type BraveSearch, createBraveSearch } from '../src/tools/brave-search.js';
import { cityResearchSpec } from '../src/tools/city-research.js';
import { redditMigrationSpec } from '../src/tools/reddit-research.js';
import { createMemoryCache, type ToolCache } from '../src/tools/tool-cache.js';
import { type BraveFake, createBraveFake, defaultBraveResults } from './fakes/brave-fake.js';

const KEY = 'brave-plan-key';
/** Brave's free plan, scaled down: one request per 100 ms, enforced by the fake (429 when closer). */
const INTERVAL_MS = 100;

let fake: BraveFake;
let urls: string[];
let search: BraveSearch;

beforeEach(async () => {
  fake = await createBraveFake({ apiKey: KEY, minIntervalMs: INTERVAL_MS });
  urls = [];
  const recording: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  search = createBraveSearch({ apiKey: KEY, apiUrl: fake.apiUrl, clock: systemClock, minIntervalMs: INTERVAL_MS, fetch: recording });
});

afterEach(async () => {
  await fake.close();
});

const isReddit = (q: string) => q.startsWith('site:reddit.com');
const PHRASES = redditMigrationSpec('Seattle, WA', 'Austin, TX').queries[0]!;
const LOOSER = redditMigrationSpec('Seattle, WA', 'Austin, TX').queries[1]!;
const CITY = cityResearchSpec('Austin, TX').queries[0]!;

/** A cache whose reads of Reddit keys answer late, so the city's read finishes first. */
function slowRedditReads(cache: ToolCache): ToolCache {
  return {
    async get<T>(key: string) {
      if (key.startsWith('reddit-migration:')) await new Promise((resolve) => setTimeout(resolve, 50));
      return cache.get<T>(key);
    },
    set: (key, value, ttlMs, source) => cache.set(key, value, ttlMs, source),
  };
}

/** What the two analysts do at the start of a run: start the plan, then ask their tools. */
async function analysts(research: ReturnType<typeof createBraveResearch>) {
  research.searchPlan.start('Seattle, WA', 'Austin, TX');
  const [reddit, city, shared] = await Promise.all([
    research.redditResearch.research('Seattle, WA', 'Austin, TX'),
    research.cityResearch.research('Austin, TX'),
    research.redditResearch.research('Seattle, WA', 'Austin, TX'),
  ]);
  return { reddit, city, shared };
}

describe('the Brave research plan of one comparison', () => {
  it('asks Reddit first and the city second, once each, on a one-request-per-interval lane, with no 429', async () => {
    const research = createBraveResearch({ search, cache: slowRedditReads(createMemoryCache(systemClock)), clock: systemClock });
    const { reddit, city, shared } = await analysts(research);

    expect(fake.requests.map((r) => r.q)).toEqual([PHRASES, CITY]);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(PHRASES).toBe(
      'site:reddit.com ("Seattle to Austin" OR "moved to Austin" OR "moving to Austin" OR "relocating to Austin" OR "Austin vs Seattle" OR "Seattle vs Austin") Seattle',
    );
    // Both with Brave's extra excerpts and Brave's maximum of 20 results.
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      expect(new URL(url).searchParams.get('extra_snippets')).toBe('true');
      expect(new URL(url).searchParams.get('count')).toBe('20');
    }
    expect(reddit.results).toHaveLength(20);
    expect(shared).toBe(reddit);
    expect(city.results.length).toBeGreaterThan(0);
    // The extra excerpts are in the text the analysts read (and quotes are checked against).
    expect(reddit.results[0]?.snippet).toContain('More about');
  });

  it('asks the looser Reddit query third, only when the phrases find few threads', async () => {
    fake.setResults((q) =>
      q === PHRASES
        ? [{ title: 'Seattle to Austin?', url: 'https://www.reddit.com/r/Austin/comments/one1/s2a/', description: 'Did it, no regrets.' }]
        : defaultBraveResults(q),
    );
    const research = createBraveResearch({ search, cache: createMemoryCache(systemClock), clock: systemClock });
    const { reddit, shared } = await analysts(research);

    expect(fake.requests.map((r) => r.q)).toEqual([PHRASES, CITY, LOOSER]);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(reddit.queries).toEqual([PHRASES, LOOSER]);
    expect(reddit.results[0]?.url).toBe('https://www.reddit.com/r/Austin/comments/one1/s2a/');
    expect(reddit.results.length).toBeGreaterThan(1);
    expect(shared).toBe(reddit);
  });

  it('costs one request when the destination was researched before, and none when both were', async () => {
    const cache = createMemoryCache(systemClock);
    const research = createBraveResearch({ search, cache, clock: systemClock });
    await research.cityResearch.research('Austin, TX');
    fake.requests.length = 0;

    const first = await analysts(research);
    expect(fake.requests.map((r) => r.q)).toEqual([PHRASES]);
    expect(first.city.cached).toBe(true);

    const again = await analysts(research);
    expect(fake.requests).toHaveLength(1);
    expect(again.reddit.cached).toBe(true);
    expect(again.city.cached).toBe(true);
  });

  it('leaves a city the tools reject to the tools', async () => {
    const research = createBraveResearch({ search, cache: createMemoryCache(systemClock), clock: systemClock });
    expect(() => research.searchPlan.start('Seattle', '  ')).not.toThrow();
    await expect(research.redditResearch.research('Seattle', '  ')).rejects.toMatchObject({ code: 'bad_request' });
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps up to 900 characters of a Reddit result, 600 of a city page', async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    fake.setResults((q) => [
      {
        title: isReddit(q) ? 'Moved to Austin' : 'Austin guide',
        url: isReddit(q) ? 'https://www.reddit.com/r/Austin/comments/long1/x/' : 'https://www.example.com/austin',
        description: words(40),
        extra_snippets: [words(60), words(80)],
      },
    ]);
    const research = createBraveResearch({ search, cache: createMemoryCache(systemClock), clock: systemClock });
    const { reddit, city } = await analysts(research);
    expect(reddit.results[0]!.snippet.length).toBeGreaterThan(600);
    expect(reddit.results[0]!.snippet.length).toBeLessThanOrEqual(900);
    expect(city.results[0]!.snippet.length).toBeLessThanOrEqual(600);
  });
});
