/**
 * A local fake of the Brave Search web API, for tests and benchmarks.
 *
 *   const fake = await createBraveFake({ apiKey: 'brave-test' });
 *   const search = createBraveSearch({ apiKey: 'brave-test', apiUrl: fake.apiUrl, clock: systemClock });
 *   await search.search('site:reddit.com moved from Boston to Austin', { count: 10 });
 *   fake.requests[0].q;  fake.requests[0].receivedAt;
 *   await fake.close();
 *
 * Endpoint: GET {apiUrl}/web/search?q=…&count=…&offset=… where `apiUrl` is `http://127.0.0.1:PORT/res/v1`
 * (the same path as the real `https://api.search.brave.com/res/v1`). Reply:
 * `{ type: 'search', query: { original }, web: { type: 'search', results: [{ title, url, description,
 * extra_snippets?, age? }] } }`. `count` defaults to 20 and is capped at 20, like Brave.
 *
 * Results: `results(query)` (option or `setResults`) returns the list for a query, before `count` is
 * applied; the default, `defaultBraveResults`, gives distinct reddit.com thread URLs for
 * `site:reddit.com` queries and example.com pages otherwise, derived from the query text, with
 * `<strong>` tags in descriptions as Brave sends them.
 *
 * Auth: `X-Subscription-Token` is required (401 without); with the `apiKey` option any other token gets
 * a 401 too. The token is recorded (`requests[i].token`): this is test data.
 *
 * Rate limits: every reply carries Brave's `X-RateLimit-Limit/-Policy/-Remaining/-Reset` headers.
 * `rateLimitAfter(n)` lets n more requests through, then answers 429 (Brave's `ErrorResponse` body,
 * code `RATE_LIMITED`) until `rateLimitAfter(null)`. `minIntervalMs` (option) answers 429 to any request
 * arriving sooner than that after the previous accepted one, like the free plan's 1 request/second.
 * `failNext(status | 'reset', { count, body, headers })` injects other failures; `latencyMs` delays all.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createFakeRecorder, type FailNextOptions } from './fake-bookkeeping.js';
import { delay, type FakeExchange, preciseNow, startHttpFake } from './fake-http.js';

export interface BraveResult {
  title: string;
  url: string;
  description: string;
  extra_snippets?: string[];
  age?: string;
}

export interface BraveRequest {
  /** The `q` parameter ('' when absent). */
  q: string;
  /** The `count` parameter as sent, or undefined. */
  count?: number;
  offset?: number;
  path: string;
  /** The X-Subscription-Token as sent, or undefined. */
  token?: string;
  headers: IncomingHttpHeaders;
  receivedAt: number;
  repliedAt?: number;
  status?: number;
}

export type BraveResultsFn = (query: string, request: BraveRequest) => BraveResult[] | Promise<BraveResult[]>;

export interface BraveFakeOptions {
  results?: BraveResultsFn;
  /** When set, only this X-Subscription-Token is accepted. */
  apiKey?: string;
  /** Fixed delay before every reply, in ms. */
  latencyMs?: number;
  /** Answer 429 to requests arriving sooner than this after the previous accepted one. */
  minIntervalMs?: number;
}

export interface BraveFake {
  url: string;
  /** What to configure as the Brave API base URL: `http://127.0.0.1:PORT/res/v1`. */
  apiUrl: string;
  requests: BraveRequest[];
  /** Peak number of requests handled at once. */
  readonly maxInFlight: number;
  setResults(fn: BraveResultsFn): void;
  setLatency(ms: number): void;
  /** Lets `n` more requests through, then answers 429 until called with null. */
  rateLimitAfter(n: number | null): void;
  failNext(status: number | 'reset', options?: FailNextOptions): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<BraveRequest[]>;
  /** Forgets recorded requests, queued failures, the rate limit and the in-flight peak. */
  reset(): void;
  close(): Promise<void>;
}

const MONTHLY_QUOTA = 2000;
const MONTH_SECONDS = 30 * 24 * 3600;

/** Brave's `ErrorResponse` body. */
export function braveErrorBody(status: number, code: string, detail: string) {
  return {
    type: 'ErrorResponse',
    error: { id: crypto.randomUUID(), status, code, detail, meta: {} },
    time: Date.now(),
  };
}

const DEFAULT_ERRORS: Record<number, [string, string]> = {
  401: ['SUBSCRIPTION_TOKEN_INVALID', 'The provided subscription token is invalid.'],
  422: ['VALIDATION', 'Unable to validate request parameter(s).'],
  429: ['RATE_LIMITED', 'Request rate limit exceeded for plan.'],
  500: ['INTERNAL_ERROR', 'An internal error occurred.'],
};

function errorFor(status: number) {
  const [code, detail] = DEFAULT_ERRORS[status] ?? ['ERROR', `HTTP ${status}`];
  return braveErrorBody(status, code, detail);
}

export async function createBraveFake(options: BraveFakeOptions = {}): Promise<BraveFake> {
  let latencyMs = options.latencyMs ?? 0;
  let results = options.results ?? defaultBraveResults;
  let allowance: number | null = null;
  let lastAcceptedAt = Number.NEGATIVE_INFINITY;
  let used = 0;
  const recorder = createFakeRecorder<BraveRequest>('brave-fake');

  const rateHeaders = (remainingThisSecond: number) => ({
    'x-ratelimit-limit': `1, ${MONTHLY_QUOTA}`,
    'x-ratelimit-policy': `1;w=1, ${MONTHLY_QUOTA};w=${MONTH_SECONDS}`,
    'x-ratelimit-remaining': `${remainingThisSecond}, ${Math.max(0, MONTHLY_QUOTA - used)}`,
    'x-ratelimit-reset': `1, ${MONTH_SECONDS}`,
  });

  async function handle({ req, res, url, signal }: FakeExchange): Promise<void> {
    const numberParam = (name: string) => {
      const value = url.searchParams.get(name);
      return value === null ? undefined : Number(value);
    };
    const tokenHeader = req.headers['x-subscription-token'];
    const record: BraveRequest = {
      q: url.searchParams.get('q') ?? '',
      count: numberParam('count'),
      offset: numberParam('offset'),
      path: url.pathname,
      token: typeof tokenHeader === 'string' ? tokenHeader : undefined,
      headers: req.headers,
      receivedAt: preciseNow(),
    };
    const reply = recorder.track(record, res);

    if (!record.token || (options.apiKey !== undefined && record.token !== options.apiKey)) {
      return reply(401, errorFor(401));
    }
    if (req.method !== 'GET' || url.pathname !== '/res/v1/web/search') {
      return reply(
        404,
        braveErrorBody(404, 'NOT_FOUND', `brave-fake: no endpoint ${req.method} ${url.pathname}`),
      );
    }
    const failure = recorder.failures.take();
    if (failure) {
      await delay(latencyMs, signal);
      const headers = { ...rateHeaders(0), ...failure.headers };
      return recorder.serveFailure(record, res, { ...failure, headers }, errorFor);
    }
    const tooSoon =
      options.minIntervalMs !== undefined && record.receivedAt - lastAcceptedAt < options.minIntervalMs;
    if (allowance === 0 || tooSoon) {
      await delay(latencyMs, signal);
      return reply(429, errorFor(429), rateHeaders(0));
    }
    if (!record.q.trim()) return reply(422, errorFor(422), rateHeaders(1));
    if (allowance !== null) allowance--;
    lastAcceptedAt = record.receivedAt;
    used++;

    const count = Math.min(20, Math.max(1, record.count ?? 20));
    const found = (await results(record.q, record)).slice(0, count);
    await delay(latencyMs, signal);
    if (signal.aborted) return;
    reply(
      200,
      {
        type: 'search',
        query: { original: record.q, more_results_available: false },
        web: {
          type: 'search',
          family_friendly: true,
          results: found.map((r) => ({ type: 'search_result', ...r })),
        },
      },
      rateHeaders(0),
    );
  }

  const server = await startHttpFake('brave-fake', handle);
  return {
    url: server.url,
    apiUrl: `${server.url}/res/v1`,
    requests: recorder.log.entries,
    get maxInFlight() {
      return recorder.inFlight.peak;
    },
    setResults(fn) {
      results = fn;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    rateLimitAfter(n) {
      allowance = n;
    },
    failNext: (status, failOptions) => recorder.failNext(status, failOptions),
    waitForRequests: (count, timeoutMs) => recorder.log.waitFor(count, timeoutMs),
    reset() {
      recorder.reset();
      allowance = null;
      lastAcceptedAt = Number.NEGATIVE_INFINITY;
    },
    close: () => server.close(),
  };
}

const SUBREDDITS = ['SameGrassButGreener', 'moving', 'relocating', 'AskAnAmerican'];

/**
 * Twenty plausible results derived from the query text: reddit threads (distinct per query) for
 * `site:reddit.com` queries, example.com pages otherwise.
 */
export function defaultBraveResults(query: string): BraveResult[] {
  const reddit = /\bsite:reddit\.com\b/i.test(query);
  const terms = query.replace(/\bsite:\S+/gi, '').trim();
  const slug =
    terms
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '') || 'search';
  return Array.from({ length: 20 }, (_, i) => {
    const id = hashId(`${query}#${i}`);
    const url = reddit
      ? `https://www.reddit.com/r/${SUBREDDITS[i % SUBREDDITS.length]}/comments/${id}/${slug}/`
      : `https://www.example.com/${slug}/${id}`;
    return {
      title: `${terms} (${reddit ? 'thread' : 'page'} ${i + 1})`,
      url,
      description: `People discuss <strong>${terms}</strong> &amp; share experiences (${i + 1}).`,
      extra_snippets: [`More about ${terms}.`],
      age: `${i + 1} months ago`,
    };
  });
}

function hashId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
