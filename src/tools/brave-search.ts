import type { Clock } from '../clock.js';
import { DEFAULTS } from '../constants.js';
import { MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createHttpFetch } from '../net/http-fetch.js';

/** One web result, cleaned of markup. Search results are untrusted text: quote them, never obey them. */
export interface SearchResult {
  /** Page title, plain text. */
  title: string;
  /** An http(s) URL as Brave returned it. */
  url: string;
  /** Description and extra snippets, plain text, at most `maxSnippetChars` (default 600) characters. */
  snippet: string;
}

export interface SearchOptions {
  /** How many results to ask for: 1–20 (Brave's maximum), default 10. */
  count?: number;
  /**
   * Asks Brave for up to five more excerpts of each page (`extra_snippets=true`): more of what people
   * wrote, in the same request. Plans without them simply return none.
   */
  extraSnippets?: boolean;
  /** How long a result's text may grow, description and extra snippets together: 100–1,500, default 600. */
  maxSnippetChars?: number;
  /** Aborts the wait for a throttle slot and the request itself. */
  signal?: AbortSignal;
}

/** The Brave Search client the research tools depend on. */
export interface BraveSearch {
  /** Web results for `query`; throws MovebotError 'rate_limited' on 429 and 'search_failed' otherwise. */
  search(query: string, options?: SearchOptions): Promise<SearchResult[]>;
  /** The request URL for `query`, for provenance; the key travels in a header, so it is not in it. */
  searchUrl(query: string, options?: SearchOptions): string;
}

export interface BraveSearchOptions {
  apiKey: string;
  /** Base URL, default `https://api.search.brave.com/res/v1`; tests pass the fake's `apiUrl`. */
  apiUrl?: string;
  /** Paces requests (`sleep`) and measures the interval between them (`now`). */
  clock: Clock;
  fetch?: typeof fetch;
  /** Pause between one request's end and the next one's start, across all callers (Brave free plan: 1/s). */
  minIntervalMs?: number;
  /** Per-request deadline, in ms. */
  timeoutMs?: number;
  logger?: Logger;
}

const MAX_SNIPPET_CHARS = 600;
const MAX_SNIPPET_LIMIT = 1_500;
const MAX_TITLE_CHARS = 200;
const DEFAULT_COUNT = 10;

interface BraveWebResult {
  title?: unknown;
  url?: unknown;
  description?: unknown;
  extra_snippets?: unknown;
}

export function createBraveSearch(options: BraveSearchOptions): BraveSearch {
  const apiUrl = (options.apiUrl ?? DEFAULTS.braveApiUrl).replace(/\/+$/, '');
  const doFetch = options.fetch ?? createHttpFetch();
  const timeoutMs = options.timeoutMs ?? DEFAULTS.searchTimeoutMs;
  const throttled = createThrottle(options.clock, options.minIntervalMs ?? DEFAULTS.braveMinIntervalMs);
  // Defence in depth: nothing we build should contain the key, but an upstream message might echo it.
  const scrub = (text: string) => (options.apiKey ? text.split(options.apiKey).join('[redacted]') : text);

  function searchUrl(query: string, searchOptions: SearchOptions = {}): string {
    const count = Math.min(20, Math.max(1, Math.floor(searchOptions.count ?? DEFAULT_COUNT)));
    const params = new URLSearchParams({ q: query.trim(), count: String(count) });
    if (searchOptions.extraSnippets) params.set('extra_snippets', 'true');
    return `${apiUrl}/web/search?${params}`;
  }

  /** One HTTP exchange; network failures and timeouts become MovebotErrors here. */
  async function exchange(
    url: string,
    query: string,
    signal?: AbortSignal,
  ): Promise<{ response: Response; body: unknown }> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    try {
      const response = await doFetch(url, {
        headers: { Accept: 'application/json', 'X-Subscription-Token': options.apiKey },
        signal: AbortSignal.any(signals),
      });
      const body: unknown = await response.json().catch(() => undefined);
      return { response, body };
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : 'could not be reached';
      options.logger?.warn({ query, reason }, 'brave search request failed');
      throw new MovebotError('search_failed', `Brave Search ${reason}`, {
        cause: new Error(scrub(err instanceof Error ? err.message : String(err))),
        transient: true,
      });
    }
  }

  async function search(query: string, searchOptions: SearchOptions = {}): Promise<SearchResult[]> {
    if (!query.trim()) throw new MovebotError('bad_request', 'Search query is empty');
    const url = searchUrl(query, searchOptions);
    const started = options.clock.now();
    const { response, body } = await throttled(
      () => exchange(url, query, searchOptions.signal),
      searchOptions.signal,
    );
    options.logger?.debug(
      { query, status: response.status, ms: options.clock.now() - started },
      'brave search',
    );
    if (response.status === 429) {
      throw new MovebotError('rate_limited', 'Brave Search rate limit reached', {
        cause: new Error(
          `HTTP 429; x-ratelimit-reset: ${response.headers.get('x-ratelimit-reset') ?? 'unknown'}`,
        ),
        transient: true,
      });
    }
    if (!response.ok) {
      throw new MovebotError('search_failed', `Brave Search answered HTTP ${response.status}`, {
        cause: new Error(scrub(`HTTP ${response.status}: ${errorDetail(body)}`)),
        transient: response.status >= 500,
      });
    }
    const web = (body as { web?: { results?: unknown } } | undefined)?.web;
    if (body === undefined || (web !== undefined && !Array.isArray(web.results))) {
      throw new MovebotError('search_failed', 'Brave Search returned an unreadable response', {
        transient: true,
      });
    }
    // No `web` section means no web results for this query.
    const results = (web?.results ?? []) as BraveWebResult[];
    const maxSnippet = Math.min(MAX_SNIPPET_LIMIT, Math.max(100, searchOptions.maxSnippetChars ?? MAX_SNIPPET_CHARS));
    return results.flatMap((r) => {
      const cleaned = toSearchResult(r, maxSnippet);
      return cleaned ? [cleaned] : [];
    });
  }

  return { search, searchUrl };
}

/**
 * Runs tasks one at a time, each starting at least `minIntervalMs` after the previous one FINISHED.
 * Spacing from the previous start would not do: a slow request followed by a fast one can reach Brave
 * less than a second apart and earn a 429. Counting from the finish guarantees the spacing on arrival,
 * at the price of one round trip per interval. A hung request holds the line for at most `timeoutMs`.
 */
function createThrottle(
  clock: Clock,
  minIntervalMs: number,
): <T>(task: () => Promise<T>, signal?: AbortSignal) => Promise<T> {
  // No interval (a paid plan): no lane either, so concurrent conversations search in parallel.
  if (minIntervalMs <= 0) return (task) => task();
  let chain: Promise<void> = Promise.resolve();
  let lastEnd = Number.NEGATIVE_INFINITY;
  return (task, signal) => {
    const turn = chain.then(async () => {
      const wait = lastEnd + minIntervalMs - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
      signal?.throwIfAborted();
      try {
        return await task();
      } finally {
        lastEnd = clock.now();
      }
    });
    chain = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  };
}

function errorDetail(body: unknown): string {
  const error = (body as { error?: { detail?: unknown; code?: unknown } } | undefined)?.error;
  const detail = [error?.code, error?.detail].filter((x) => typeof x === 'string').join(' ');
  return detail || 'no detail';
}

function toSearchResult(r: BraveWebResult, maxSnippetChars: number): SearchResult | undefined {
  if (typeof r.url !== 'string' || !/^https?:\/\//i.test(r.url)) return undefined;
  const parts = [r.description, ...(Array.isArray(r.extra_snippets) ? r.extra_snippets : [])]
    .filter((p): p is string => typeof p === 'string')
    .map(toPlainText)
    .filter((p, i, all) => p.length > 0 && all.indexOf(p) === i);
  return {
    title: truncate(toPlainText(typeof r.title === 'string' ? r.title : ''), MAX_TITLE_CHARS),
    url: r.url,
    snippet: truncate(parts.join(' '), maxSnippetChars),
  };
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
};

/** Strips tags, decodes entities and collapses whitespace: Brave marks matches with `<strong>`. */
export function toPlainText(html: string): string {
  const withoutTags = html.replace(/<[^>]*>/g, '');
  const decoded = withoutTags.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
  return decoded.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max * 0.6 ? cut.slice(0, atWord) : cut).trimEnd()}…`;
}
