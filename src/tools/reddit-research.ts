import type { Clock } from '../clock.js';
import { DEFAULTS } from '../constants.js';
import { describeError, isMovebotError, MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BraveSearch, SearchResult } from './brave-search.js';
import type { ToolCache } from './tool-cache.js';

/** What a multi-query search research run found. */
export interface ResearchRun {
  /** The queries whose results are included, in the order they were asked. */
  queries: string[];
  /** De-duplicated results, interleaved by rank across queries, at most `maxResults`. */
  results: SearchResult[];
  /** Set when later queries were skipped: Brave rate-limited us, or a later query failed. */
  stoppedEarly?: 'rate_limited' | 'error';
  /** True when served from the cache without any search request. */
  cached: boolean;
}

export type RedditResearch = ResearchRun;

export interface ResearchDeps {
  search: BraveSearch;
  cache: ToolCache;
  clock: Clock;
  /** How long a complete run stays cached (default 24 h). */
  ttlMs?: number;
  /** How many results a run keeps (default 20). */
  maxResults?: number;
  /** Results asked for per query (default 10); the merge keeps the best-ranked of each query first. */
  perQueryCount?: number;
  logger?: Logger;
}

/** One research question: its cache key, the queries to ask, and which result URLs are relevant. */
export interface ResearchSpec {
  cacheKey: string;
  /** Asked one after another; a later one only while fewer than `enough` results are kept. */
  queries: string[];
  keep?: (url: URL) => boolean;
  /** Results asked for per query (default: the deps' `perQueryCount`). */
  count?: number;
  /** Brave's extra excerpts per page (see SearchOptions). */
  extraSnippets?: boolean;
  /** Longest text kept per result (see SearchOptions). */
  maxSnippetChars?: number;
  /** Once this many results are kept, the remaining queries are not asked (default: ask them all). */
  enough?: number;
}

/** The research engine: single runs, and runs started together whose queries keep a given order. */
export interface ResearchRunner {
  /** One research: from the cache, or asked now; a run already under way for the same key is joined. */
  run(spec: ResearchSpec): Promise<ResearchRun>;
  /**
   * Several researches started together: their cache reads side by side, then the first queries of those
   * not cached handed to the search client in the order given (on Brave's free plan, one request a
   * second, that order decides whose data comes first). Runs already under way are joined as they are.
   */
  runInOrder(specs: ResearchSpec[]): Promise<ResearchRun>[];
}

type StoredRun = Omit<ResearchRun, 'cached'>;

/** A run cut short still has value, but the skipped queries deserve another try soon. */
const PARTIAL_TTL_MS = 3600_000;
const MAX_CITY_CHARS = 80;

/**
 * The engine shared by the Reddit migration and city research tools: read-through cache, queries asked
 * one by one (the client throttles), stop on 429, de-duplicate by normalised URL. Concurrent runs for the
 * same key share one set of requests.
 */
export function createResearchRunner(deps: ResearchDeps): ResearchRunner {
  const ttlMs = deps.ttlMs ?? DEFAULTS.searchCacheTtlMs;
  const maxResults = deps.maxResults ?? 20;
  const perQueryCount = deps.perQueryCount ?? 10;
  const pending = new Map<string, Promise<ResearchRun>>();

  async function readCache(key: string): Promise<StoredRun | undefined> {
    try {
      return await deps.cache.get<StoredRun>(key);
    } catch (err) {
      // A cache outage should cost a search, not the answer.
      deps.logger?.warn({ key, err: describeError(err) }, 'research cache read failed');
      return undefined;
    }
  }

  /**
   * Asks the spec's queries and caches the run. Its first query reaches the search client before this
   * function's first await, so callers control the order in which runs queue up.
   */
  async function search(spec: ResearchSpec): Promise<ResearchRun> {
    const started = deps.clock.now();
    const options = {
      count: spec.count ?? perQueryCount,
      ...(spec.extraSnippets ? { extraSnippets: true } : {}),
      ...(spec.maxSnippetChars ? { maxSnippetChars: spec.maxSnippetChars } : {}),
    };
    const perQuery: SearchResult[][] = [];
    const asked: string[] = [];
    let stoppedEarly: ResearchRun['stoppedEarly'];
    for (const query of spec.queries) {
      if (spec.enough !== undefined && asked.length > 0) {
        if (mergeResults(perQuery, spec.keep, maxResults).length >= spec.enough) break;
      }
      try {
        perQuery.push(await deps.search.search(query, options));
        asked.push(query);
      } catch (err) {
        if (isMovebotError(err, 'rate_limited')) stoppedEarly = 'rate_limited';
        else if (asked.length === 0) throw err;
        else stoppedEarly = 'error';
        deps.logger?.warn({ query, err: describeError(err) }, 'research stopped early');
        break;
      }
    }
    const results = mergeResults(perQuery, spec.keep, maxResults);
    const stored: StoredRun = { queries: asked, results, ...(stoppedEarly ? { stoppedEarly } : {}) };
    deps.logger?.debug(
      { key: spec.cacheKey, results: results.length, stoppedEarly, ms: deps.clock.now() - started },
      'research done',
    );
    if (!(stoppedEarly && results.length === 0)) {
      const firstQuery = spec.queries[0] ?? '';
      const source = { kind: 'brave-search', url: deps.search.searchUrl(firstQuery, options) };
      await deps.cache
        .set(spec.cacheKey, stored, stoppedEarly ? Math.min(ttlMs, PARTIAL_TTL_MS) : ttlMs, source)
        .catch((err: unknown) =>
          deps.logger?.warn({ err: describeError(err) }, 'research cache write failed'),
        );
    }
    return { ...stored, cached: false };
  }

  function share(key: string, start: () => Promise<ResearchRun>): Promise<ResearchRun> {
    const existing = pending.get(key);
    if (existing) return existing;
    const promise = start().finally(() => pending.delete(key));
    pending.set(key, promise);
    return promise;
  }

  return {
    run: (spec) =>
      share(spec.cacheKey, async () => {
        const hit = await readCache(spec.cacheKey);
        return hit ? { ...hit, cached: true } : search(spec);
      }),
    runInOrder(specs) {
      const lookups = Promise.all(specs.map((spec) => (pending.has(spec.cacheKey) ? undefined : readCache(spec.cacheKey))));
      // Every run awaits the same promise, so they resume in the order given, each queuing its first
      // query before the next one resumes.
      return specs.map((spec, i) =>
        share(spec.cacheKey, async () => {
          const hit = (await lookups)[i];
          return hit ? { ...hit, cached: true } : search(spec);
        }),
      );
    },
  };
}

/** Round-robin by rank across queries, so every phrasing contributes its best hits before any its worst. */
function mergeResults(perQuery: SearchResult[][], keep: ResearchSpec['keep'], max: number): SearchResult[] {
  const seen = new Set<string>();
  const merged: SearchResult[] = [];
  const depth = Math.max(0, ...perQuery.map((list) => list.length));
  for (let rank = 0; rank < depth && merged.length < max; rank++) {
    for (const list of perQuery) {
      const result = list[rank];
      if (!result) continue;
      const parsed = URL.canParse(result.url) ? new URL(result.url) : undefined;
      const key = parsed && normaliseResultUrl(result.url);
      if (!parsed || !key || seen.has(key) || (keep && !keep(parsed))) continue;
      seen.add(key);
      merged.push(result);
      if (merged.length >= max) break;
    }
  }
  return merged;
}

export function isRedditHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'reddit.com' || host.endsWith('.reddit.com');
}

/**
 * The identity of a result URL for de-duplication: host lower-cased without `www.`, no scheme, query,
 * hash or trailing slash. Reddit's host variants (www., old., new., np., m.) collapse to reddit.com, and a
 * thread is identified by its id alone, so links with and without the title slug match.
 */
export function normaliseResultUrl(raw: string): string | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = url.hostname.toLowerCase().replace(/^www\./, '');
  const path = url.pathname.replace(/\/+$/, '');
  if (!isRedditHost(host)) return `${host}${path}`;
  const thread = /\/comments\/([a-z0-9]+)/i.exec(path)?.[1];
  return thread ? `reddit.com/comments/${thread.toLowerCase()}` : `reddit.com${path.toLowerCase()}`;
}

/** A city name as typed, trimmed and bounded, for use inside a search query. */
export function cleanCity(city: string): string {
  const cleaned = city.replace(/\s+/g, ' ').trim().slice(0, MAX_CITY_CHARS);
  if (!cleaned) throw new MovebotError('bad_request', 'A city name is required');
  return cleaned;
}

/** The cache-key form of a city: case, punctuation and spacing do not matter. */
export function cityKey(city: string): string {
  return cleanCity(city)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Brave's limits on a query. */
const MAX_QUERY_CHARS = 400;
const MAX_QUERY_WORDS = 50;
/** Fewer Reddit threads than this from the phrase query, and a looser one is asked too. */
const ENOUGH_THREADS = 8;

/**
 * A city as people name it in a post, for an exact phrase: "Austin, TX" → "Austin", "New York
 * (Manhattan), NY" → "New York". Double quotes are dropped: they would end the phrase.
 */
export function placeName(city: string): string {
  const name = cleanCity(city)
    .replace(/\([^)]*\)/g, ' ')
    .replace(/,.*$/, '')
    .replace(/"/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!name) throw new MovebotError('bad_request', 'A city name is required');
  return name;
}

/** `prefix ("p1" OR "p2" …) suffix`, with as many of the phrases as Brave's 400 characters and 50 words allow. */
function anyPhrase(prefix: string, phrases: string[], suffix: string): string {
  for (let n = phrases.length; n > 0; n--) {
    const query = `${prefix} (${phrases
      .slice(0, n)
      .map((p) => `"${p}"`)
      .join(' OR ')}) ${suffix}`;
    if (query.length <= MAX_QUERY_CHARS && query.split(' ').length <= MAX_QUERY_WORDS) return query;
  }
  return `${prefix} ${phrases[0] ?? ''} ${suffix}`.slice(0, MAX_QUERY_CHARS).trim();
}

/**
 * What Reddit says about moving from one city to another, in one request: Brave's operators join every
 * way people write about the move ("Seattle to Austin", "moved to Austin", "Austin vs Seattle", …), 20
 * threads with Brave's extra excerpts, so there is more to quote word for word. Only when that finds few
 * threads is a looser query asked as well.
 */
export function redditMigrationSpec(fromCity: string, toCity: string): ResearchSpec {
  const a = cleanCity(fromCity);
  const b = cleanCity(toCity);
  const from = placeName(a);
  const to = placeName(b);
  return {
    cacheKey: `reddit-migration:v2:${cityKey(a)}->${cityKey(b)}`,
    queries: [
      anyPhrase(
        'site:reddit.com',
        [`${from} to ${to}`, `moved to ${to}`, `moving to ${to}`, `relocating to ${to}`, `${to} vs ${from}`, `${from} vs ${to}`],
        from,
      ),
      `site:reddit.com moving from ${a} to ${b}`,
    ],
    keep: (url) => isRedditHost(url.hostname),
    count: 20,
    extraSnippets: true,
    maxSnippetChars: 900,
    enough: ENOUGH_THREADS,
  };
}

/** The Migration Researcher's tool: what Reddit says about moving from one city to another. */
export function createRedditResearch(
  deps: ResearchDeps,
  runner: ResearchRunner = createResearchRunner(deps),
): {
  research(fromCity: string, toCity: string): Promise<RedditResearch>;
} {
  return {
    async research(fromCity, toCity) {
      return runner.run(redditMigrationSpec(fromCity, toCity));
    },
  };
}
