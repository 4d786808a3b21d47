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

const PHRASES =
  'site:reddit.com ("Boston to Austin" OR "moved to Austin" OR "moving to Austin" OR "relocating to Austin" OR "Austin vs Boston" OR "Boston vs Austin") Boston';
const LOOSER = 'site:reddit.com moving from Boston to Austin';

/** Few threads for the phrase query (so the looser one is asked too), the default twenty otherwise. */
function fewThreadsFirst(threads = 2) {
  fake.setResults((q) =>
    q === PHRASES
      ? Array.from({ length: threads }, (_, i) => reddit(`/r/Austin/comments/few${i}/moved/`))
      : defaultBraveResults(q),
  );
}

describe('reddit migration research', () => {
  it('asks one query with Brave operators, 20 threads with extra snippets, and keeps each reddit thread once', async () => {
    fake.setResults(() => [
      reddit('/r/Austin/comments/aaa111/should_i_move/'),
      { title: 'Blog', url: 'https://example.com/boston-to-austin', description: 'not reddit' },
      { ...reddit('/r/Austin/comments/aaa111/should_i_move'), url: 'https://old.reddit.com/r/austin/comments/aaa111/' },
      reddit('/r/Boston/comments/ccc333/moved/?utm_source=share#top'),
      { ...reddit('/r/Boston/comments/ccc333/moved'), url: 'http://reddit.com/r/Boston/comments/ccc333/moved' },
      ...Array.from({ length: 8 }, (_, i) => reddit(`/r/Austin/comments/more${i}/thread/`)),
    ]);

    const result = await research().research('Boston, MA', 'Austin, TX');

    // The phrases use the names people write ("Austin", not "Austin, TX"); the threads found are enough.
    expect(fake.requests.map((r) => r.q)).toEqual([
      'site:reddit.com ("Boston to Austin" OR "moved to Austin" OR "moving to Austin" OR "relocating to Austin" OR "Austin vs Boston" OR "Boston vs Austin") Boston',
    ]);
    expect(fake.requests[0]?.count).toBe(20);
    expect(result.queries).toHaveLength(1);
    expect(result.results.map((r) => normaliseResultUrl(r.url))).toEqual([
      'reddit.com/comments/aaa111',
      'reddit.com/comments/ccc333',
      ...Array.from({ length: 8 }, (_, i) => `reddit.com/comments/more${i}`),
    ]);
    expect(result.stoppedEarly).toBeUndefined();
    expect(result.cached).toBe(false);
  });

  it('asks a looser query too when the phrases find few threads, each phrasing’s best hits first', async () => {
    fewThreadsFirst();
    const tool = createRedditResearch({ search, cache, clock: systemClock, maxResults: 6 });
    const result = await tool.research('Boston', 'Austin');
    expect(fake.requests.map((r) => r.q)).toEqual([PHRASES, LOOSER]);
    expect(result.results).toHaveLength(6);
    const looser = defaultBraveResults(LOOSER).map((r) => r.url);
    expect(result.results.map((r) => r.url)).toEqual([
      'https://www.reddit.com/r/Austin/comments/few0/moved/',
      looser[0],
      'https://www.reddit.com/r/Austin/comments/few1/moved/',
      ...looser.slice(1, 4),
    ]);
  });

  it('keeps phrases within Brave’s query limits and out of reach of quotes in a typed city', async () => {
    const long = `Springfield ${'very '.repeat(12)}long`;
    await research().research(long, 'Say "hi" to (Austin), TX');
    const [q] = fake.requests.map((r) => r.q);
    expect(q!.length).toBeLessThanOrEqual(400);
    expect(q!.split(' ').length).toBeLessThanOrEqual(50);
    expect(q).toContain('"moved to Say hi to"');
    expect(q!.match(/"/g)!.length % 2).toBe(0);
  });

  it('stops at the first 429 and returns what it found', async () => {
    fewThreadsFirst();
    fake.rateLimitAfter(1);
    const result = await research().research('Boston', 'Austin');

    expect(fake.requests.map((r) => r.status)).toEqual([200, 429]);
    expect(result.stoppedEarly).toBe('rate_limited');
    expect(result.queries).toEqual([PHRASES]);
    expect(result.results.map((r) => r.url)).toEqual([
      'https://www.reddit.com/r/Austin/comments/few0/moved/',
      'https://www.reddit.com/r/Austin/comments/few1/moved/',
    ]);
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
    expect(fake.requests).toHaveLength(1 + 1);
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
      // Few threads from the first query, and the next request (the looser query) fails.
      if (++calls === 1) fake.failNext(502);
      return q === PHRASES ? [reddit('/r/Austin/comments/few0/moved/')] : defaultBraveResults(q);
    });
    const result = await research().research('Boston', 'Austin');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 502]);
    expect(result.stoppedEarly).toBe('error');
    expect(result.queries).toEqual([PHRASES]);
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
      url: search.searchUrl(PHRASES, { count: 20, extraSnippets: true }),
    });
    expect(writes[0]?.source.url).toContain('extra_snippets=true');
    expect(writes[0]?.source.url).not.toContain(KEY);
  });

  it('searches again once the cached entry has expired, and keeps directions apart', async () => {
    const tool = research();
    await tool.research('Boston', 'Austin');
    await tool.research('Austin', 'Boston');
    expect(fake.requests).toHaveLength(2);

    cacheClock.advance(DAY + 1);
    await tool.research('Boston', 'Austin');
    expect(fake.requests).toHaveLength(3);
  });

  it('shares one set of requests between concurrent runs for the same pair', async () => {
    const tool = research();
    const [a, b] = await Promise.all([tool.research('Boston', 'Austin'), tool.research('Boston', 'Austin')]);
    expect(fake.requests).toHaveLength(1);
    expect(a.results).toEqual(b.results);
  });

  it('rejects a missing city without searching', async () => {
    await expect(research().research('Boston', '  ')).rejects.toMatchObject({ code: 'bad_request' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('city research', () => {
  it('asks one question about the city with extra snippets, keeps every kind of page, and caches the run', async () => {
    fake.setResults(() => [
      { title: 'Austin guide', url: 'https://www.example.com/austin', description: '<b>Great</b> tacos' },
      reddit('/r/Austin/comments/ddd444/living_here/'),
    ]);
    const tool = createCityResearch({ search, cache, clock: systemClock, ttlMs: DAY });

    const result = await tool.research('Austin, TX');
    const again = await tool.research('austin tx');

    expect(fake.requests.map((r) => r.q)).toEqual(['living in Austin, TX culture vibe livability pros and cons']);
    expect(fake.requests[0]?.count).toBe(20);
    expect(result.results.map((r) => r.url)).toEqual([
      'https://www.example.com/austin',
      'https://www.reddit.com/r/Austin/comments/ddd444/living_here/',
    ]);
    expect(result.results[0]?.snippet).toBe('Great tacos');
    expect(again.cached).toBe(true);
    expect(fake.requests).toHaveLength(1);
    expect(writes[0]?.source.url).toContain('extra_snippets=true');
  });

  it('stops at a 429 like the reddit research', async () => {
    fake.rateLimitAfter(0);
    const result = await createCityResearch({ search, cache, clock: systemClock }).research('Austin');
    expect(result.stoppedEarly).toBe('rate_limited');
    expect(result.queries).toEqual([]);
    expect(writes).toHaveLength(0);
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
