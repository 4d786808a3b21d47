import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../src/clock.js';
import { isMovebotError } from '../src/errors.js';
import { type BraveSearch, createBraveSearch } from '../src/tools/brave-search.js';
import { createCityResearch } from '../src/tools/city-research.js';
import { createRedditResearch, normaliseResultUrl } from '../src/tools/reddit-research.js';
import { type CacheSource, createMemoryCache, type ToolCache } from '../src/tools/tool-cache.js';
import {
  type BraveFake,
  type BraveResult,
  createBraveFake,
  defaultBraveResults,
} from './fakes/brave-fake.js';

const KEY = 'brave-research-key-42';
const DAY = 24 * 3600_000;

let fake: BraveFake;
let search: BraveSearch;
let cacheClock: ReturnType<typeof createManualClock>;
let cache: ToolCache;
let writes: Array<{ key: string; ttlMs: number; source: CacheSource }>;

beforeEach(async () => {
  fake = await createBraveFake({ apiKey: KEY });
  search = createBraveSearch({ apiKey: KEY, apiUrl: fake.apiUrl, clock: systemClock, minIntervalMs: 0 });
  cacheClock = createManualClock();
  const memory = createMemoryCache(cacheClock);
  writes = [];
  // The real in-memory cache, observed: which keys, TTLs and sources the tool stores.
  cache = {
    get: (key) => memory.get(key),
    async set(key, value, ttlMs, source) {
      writes.push({ key, ttlMs, source });
      await memory.set(key, value, ttlMs, source);
    },
  };
});

afterEach(async () => {
  await fake.close();
});

const reddit = (path: string, title = path): BraveResult => ({
  title,
  url: `https://www.reddit.com${path}`,
  description: `About ${title}`,
});

function research() {
  return createRedditResearch({ search, cache, clock: systemClock });
}

describe('reddit migration research', () => {
  it('asks the four phrasings and keeps each reddit thread once', async () => {
    fake.setResults((q) => {
      if (q.includes('should I move')) {
        return [
          reddit('/r/Austin/comments/aaa111/should_i_move/'),
          reddit('/r/Austin/comments/bbb222/boston_vs_austin/'),
          { title: 'Blog', url: 'https://example.com/boston-to-austin', description: 'not reddit' },
        ];
      }
      if (q.includes('moved from')) {
        return [
          {
            ...reddit('/r/Austin/comments/aaa111/should_i_move'),
            url: 'https://old.reddit.com/r/austin/comments/aaa111/',
          },
          reddit('/r/Boston/comments/ccc333/moved/?utm_source=share#top'),
        ];
      }
      if (q.includes('relocation')) return [reddit('/r/Austin/comments/bbb222/boston_vs_austin/?context=3')];
      return [
        {
          ...reddit('/r/Boston/comments/ccc333/moved'),
          url: 'http://reddit.com/r/Boston/comments/ccc333/moved',
        },
      ];
    });

    const result = await research().research('Boston', 'Austin');

    expect(fake.requests.map((r) => r.q)).toEqual([
      'site:reddit.com should I move from Boston to Austin',
      'site:reddit.com moved from Boston to Austin',
      'site:reddit.com Boston to Austin relocation',
      'site:reddit.com Austin vs Boston',
    ]);
    expect(result.queries).toHaveLength(4);
    expect(result.results.map((r) => normaliseResultUrl(r.url))).toEqual([
      'reddit.com/comments/aaa111', // rank 1 of query 1 (query 2's rank 1 is the same thread on old.reddit)
      'reddit.com/comments/bbb222', // rank 1 of query 3
      'reddit.com/comments/ccc333', // rank 1 of query 4; the rest are repeats or not reddit
    ]);
    expect(result.stoppedEarly).toBeUndefined();
    expect(result.cached).toBe(false);
  });

  it('keeps at most maxResults, taking every phrasing’s best hits first', async () => {
    const tool = createRedditResearch({ search, cache, clock: systemClock, maxResults: 6 });
    const result = await tool.research('Denver', 'Seattle');
    expect(result.results).toHaveLength(6);
    const firstOfEach = await Promise.all(fake.requests.map((r) => defaultBraveResults(r.q)[0]?.url));
    expect(result.results.slice(0, 4).map((r) => r.url)).toEqual(firstOfEach);
  });

  it('stops at the first 429 and returns what it found', async () => {
    fake.rateLimitAfter(2);
    const result = await research().research('Boston', 'Austin');

    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(result.stoppedEarly).toBe('rate_limited');
    expect(result.queries).toHaveLength(2);
    expect(result.results.length).toBeGreaterThan(0);
    const firstTwo = fake.requests.slice(0, 2).flatMap((r) => defaultBraveResults(r.q).map((x) => x.url));
    expect(result.results.every((r) => firstTwo.includes(r.url))).toBe(true);
    // Partial results are kept, but only briefly, so the skipped phrasings get another chance soon.
    expect(writes[0]?.ttlMs).toBeLessThan(DAY);
  });

  it('does not cache an empty result caused by a rate limit', async () => {
    fake.rateLimitAfter(0);
    const limited = await research().research('Boston', 'Austin');
    expect(limited).toMatchObject({ results: [], stoppedEarly: 'rate_limited', cached: false });
    expect(writes).toHaveLength(0);

    fake.rateLimitAfter(null);
    const retry = await research().research('Boston', 'Austin');
    expect(retry.results.length).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(1 + 4);
  });

  it('throws when the first query fails with anything but a rate limit', async () => {
    fake.failNext(500);
    const error = await research()
      .research('Boston', 'Austin')
      .catch((e: unknown) => e);
    expect(isMovebotError(error, 'search_failed')).toBe(true);
    expect(String(error)).not.toContain(KEY);
    expect(writes).toHaveLength(0);
  });

  it('stops with what it has when a later query fails', async () => {
    let calls = 0;
    fake.setResults((q) => {
      calls++;
      if (calls === 2) fake.failNext(502);
      return defaultBraveResults(q);
    });
    const result = await research().research('Boston', 'Austin');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 502]);
    expect(result.stoppedEarly).toBe('error');
    expect(result.queries).toHaveLength(2);
  });

  it('serves a repeat within the TTL from the cache without any request, whatever the spelling', async () => {
    const tool = research();
    const first = await tool.research('Boston', 'Austin');
    const requestsAfterFirst = fake.requests.length;

    const again = await tool.research('  boston ', 'AUSTIN');

    expect(fake.requests).toHaveLength(requestsAfterFirst);
    expect(again).toEqual({ ...first, cached: true });
    expect(writes).toHaveLength(1);
    expect(writes[0]?.ttlMs).toBe(DAY);
    expect(writes[0]?.source).toEqual({
      kind: 'brave-search',
      url: search.searchUrl('site:reddit.com should I move from Boston to Austin', { count: 10 }),
    });
    expect(writes[0]?.source.url).not.toContain(KEY);
  });

  it('searches again once the cached entry has expired, and keeps directions apart', async () => {
    const tool = research();
    await tool.research('Boston', 'Austin');
    await tool.research('Austin', 'Boston');
    expect(fake.requests).toHaveLength(8);

    cacheClock.advance(DAY + 1);
    await tool.research('Boston', 'Austin');
    expect(fake.requests).toHaveLength(12);
  });

  it('shares one set of requests between concurrent runs for the same pair', async () => {
    const tool = research();
    const [a, b] = await Promise.all([tool.research('Boston', 'Austin'), tool.research('Boston', 'Austin')]);
    expect(fake.requests).toHaveLength(4);
    expect(a.results).toEqual(b.results);
  });

  it('rejects a missing city without searching', async () => {
    await expect(research().research('Boston', '  ')).rejects.toMatchObject({ code: 'bad_request' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('city research', () => {
  it('asks two questions about the city, keeps non-reddit pages, and caches the run', async () => {
    fake.setResults((q) =>
      q.startsWith('site:reddit.com')
        ? [
            reddit('/r/Austin/comments/ddd444/living_here/'),
            { ...reddit('/r/x'), url: 'https://example.com/austin/' },
          ]
        : [
            {
              title: 'Austin guide',
              url: 'https://www.example.com/austin',
              description: '<b>Great</b> tacos',
            },
          ],
    );
    const tool = createCityResearch({ search, cache, clock: systemClock, ttlMs: DAY });

    const result = await tool.research('Austin');
    const again = await tool.research('austin');

    expect(fake.requests.map((r) => r.q)).toEqual([
      'Austin living there culture livability pros cons',
      'site:reddit.com living in Austin what is it like',
    ]);
    expect(result.results.map((r) => r.url)).toEqual([
      'https://www.example.com/austin',
      'https://www.reddit.com/r/Austin/comments/ddd444/living_here/',
    ]);
    expect(result.results[0]?.snippet).toBe('Great tacos');
    expect(again.cached).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it('stops at a 429 like the reddit research', async () => {
    fake.rateLimitAfter(1);
    const result = await createCityResearch({ search, cache, clock: systemClock }).research('Austin');
    expect(result.stoppedEarly).toBe('rate_limited');
    expect(result.queries).toEqual(['Austin living there culture livability pros cons']);
  });
});

describe('normaliseResultUrl', () => {
  it('collapses reddit host variants, slugs, queries and trailing slashes', () => {
    const same = [
      'https://www.reddit.com/r/Austin/comments/Abc123/title/',
      'https://old.reddit.com/r/austin/comments/abc123',
      'http://reddit.com/r/Austin/comments/abc123/title?utm=1#c',
      'https://np.reddit.com/r/Austin/comments/abc123/other_slug/',
    ].map(normaliseResultUrl);
    expect(new Set(same).size).toBe(1);
    expect(normaliseResultUrl('https://WWW.Example.com/Path/?q=1')).toBe('example.com/Path');
    expect(normaliseResultUrl('ftp://example.com/x')).toBeUndefined();
    expect(normaliseResultUrl('not a url')).toBeUndefined();
  });
});
