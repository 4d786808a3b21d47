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
  queries: string[];
  keep?: (url: URL) => boolean;
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
export function createResearchRunner(deps: ResearchDeps): (spec: ResearchSpec) => Promise<ResearchRun> {
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

  async function run(spec: ResearchSpec): Promise<ResearchRun> {
    const hit = await readCache(spec.cacheKey);
    if (hit) return { ...hit, cached: true };

    const started = deps.clock.now();
    const perQuery: SearchResult[][] = [];
    const asked: string[] = [];
    let stoppedEarly: ResearchRun['stoppedEarly'];
    for (const query of spec.queries) {
      try {
        perQuery.push(await deps.search.search(query, { count: perQueryCount }));
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
      const source = {
        kind: 'brave-search',
        url: deps.search.searchUrl(firstQuery, { count: perQueryCount }),
      };
      await deps.cache
        .set(spec.cacheKey, stored, stoppedEarly ? Math.min(ttlMs, PARTIAL_TTL_MS) : ttlMs, source)
        .catch((err: unknown) =>
          deps.logger?.warn({ err: describeError(err) }, 'research cache write failed'),
        );
    }
    return { ...stored, cached: false };
  }

  return (spec) => {
    const existing = pending.get(spec.cacheKey);
    if (existing) return existing;
    const promise = run(spec).finally(() => pending.delete(spec.cacheKey));
    pending.set(spec.cacheKey, promise);
    return promise;
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

/** The Migration Researcher's tool: what Reddit says about moving from one city to another. */
export function createRedditResearch(deps: ResearchDeps): {
  research(fromCity: string, toCity: string): Promise<RedditResearch>;
} {
  const runResearch = createResearchRunner(deps);
  return {
    async research(fromCity, toCity) {
      const a = cleanCity(fromCity);
      const b = cleanCity(toCity);
      return runResearch({
        cacheKey: `reddit-migration:v1:${cityKey(a)}->${cityKey(b)}`,
        queries: [
          `site:reddit.com should I move from ${a} to ${b}`,
          `site:reddit.com moved from ${a} to ${b}`,
          `site:reddit.com ${a} to ${b} relocation`,
          `site:reddit.com ${b} vs ${a}`,
        ],
        keep: (url) => isRedditHost(url.hostname),
      });
    },
  };
}
