/**
 * A local fake of the Firecrawl v2 scrape API, for tests and benchmarks. Point the real SDK at it:
 *
 *   const fake = await createFirecrawlFake({ pages: { 'https://www.nerdwallet.com/cost-of-living-calculator/compare/boston-ma-vs-austin-tx': '# Cost…' } });
 *   const firecrawl = new Firecrawl({ apiKey: 'fc-test', apiUrl: fake.apiUrl });
 *   const doc = await firecrawl.scrape(url, { formats: ['markdown'] });   // doc.markdown, doc.metadata
 *   fake.requests[0].url;  fake.requests[0].authorization;  // 'Bearer fc-test'
 *   await fake.close();
 *
 * Endpoint: POST /v2/scrape with `{ url, formats, onlyMainContent, timeout?, origin, … }` →
 * `{ success: true, data: { markdown, metadata: { title, sourceURL, url, statusCode, … } } }`.
 *
 * Pages: `pages` is a map url → markdown | FirecrawlPage, or a function (url, request) returning one
 * (or undefined); `setPage(url, page)` adds one later. A FirecrawlPage can set `statusCode` (the target
 * site's status: Firecrawl still answers `success: true`), `title`, `json` (for a `json` format),
 * `delayMs`, or `error` (the scrape fails with HTTP 500 `{ success: false, code, error }`).
 * An unknown URL fails like a real unreachable site: HTTP 500, `code: 'SCRAPE_ALL_ENGINES_FAILED'`.
 *
 * Auth: every request needs `Authorization: Bearer <key>` (401 `{ success: false, error }` otherwise);
 * with the `apiKey` option only that key is accepted. The header is recorded as sent.
 *
 * Failures and timing: `latencyMs` (all requests), `failNext(402 | 429 | 500 | 502 | 'reset', { count,
 * body })`. When the request's `timeout` (ms) is shorter than the page's delay, the fake answers 408
 * `SCRAPE_TIMEOUT` after `timeout` ms, as Firecrawl does.
 *
 * What the SDK (@mendable/firecrawl-js 4.42) does with errors, checked in test/fakes-firecrawl.test.ts:
 * - any non-2xx or `success: false` → throws `SdkError` (exported; `name` 'FirecrawlSdkError') with
 *   `status`, `code` (body.code) and `message` = body.error. A dropped connection → `SdkError` without
 *   `status`, `code` 'ECONNRESET'.
 * - it retries ONLY 502 (up to 3 attempts in total, 0.5 s then 1 s apart) unless `maxRetries` is set;
 *   pass `new Firecrawl({ apiKey, apiUrl, maxRetries: 1 })` to turn retries off.
 * - its HTTP timeout for scrape is max(options.timeout ?? 300 s, client timeoutMs) + 30 s, so the client
 *   option cannot shorten it; with `scrape(url, { timeout: ms, autoResume: false })` it is ms + 5 s,
 *   and an axios timeout surfaces as `SdkError` with `code` 'ETIMEDOUT'. Enforce our own deadline.
 */
import { createFakeRecorder, type FailNextOptions } from './fake-bookkeeping.js';
import { bearerToken, delay, type FakeExchange, preciseNow, startHttpFake } from './fake-http.js';

/** A scripted page. */
export interface FirecrawlPage {
  markdown: string;
  title?: string;
  /** The target site's HTTP status, reported in metadata (default 200). */
  statusCode?: number;
  /** Returned as `data.json` when the request asks for a `json` format. */
  json?: unknown;
  /** Extra delay for this page, on top of `latencyMs`. */
  delayMs?: number;
  /** Makes the scrape fail with HTTP 500 and this message. */
  error?: string;
}

export type FirecrawlPages =
  | Record<string, string | FirecrawlPage>
  | ((
      url: string,
      request: FirecrawlRequest,
    ) => string | FirecrawlPage | undefined | Promise<string | FirecrawlPage | undefined>);

export interface FirecrawlRequest {
  method: string;
  path: string;
  /** The `url` to scrape ('' when absent). */
  url: string;
  formats: unknown[];
  onlyMainContent?: boolean;
  /** The server-side scrape timeout the client asked for, in ms. */
  timeout?: number;
  body: Record<string, unknown>;
  /** The Authorization header as sent (e.g. 'Bearer fc-test'), undefined when missing. */
  authorization?: string;
  receivedAt: number;
  repliedAt?: number;
  status?: number;
}

export interface FirecrawlFakeOptions {
  pages?: FirecrawlPages;
  /** When set, only `Bearer <apiKey>` is accepted. */
  apiKey?: string;
  /** Fixed delay before every reply, in ms. */
  latencyMs?: number;
}

export interface FirecrawlFake {
  url: string;
  /** What to pass as the SDK's `apiUrl` (the server root; the SDK appends /v2/scrape). */
  apiUrl: string;
  requests: FirecrawlRequest[];
  /** Peak number of scrapes handled at once. */
  readonly maxInFlight: number;
  setPage(url: string, page: string | FirecrawlPage): void;
  setLatency(ms: number): void;
  failNext(status: number | 'reset', options?: FailNextOptions): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<FirecrawlRequest[]>;
  /** Forgets recorded requests, queued failures and the in-flight peak (keeps pages). */
  reset(): void;
  close(): Promise<void>;
}

const ERROR_BODIES: Record<number, { error: string; code?: string }> = {
  401: { error: 'Unauthorized: Invalid token' },
  402: { error: 'Payment required to access this resource. Insufficient credits to perform this request.' },
  408: { error: 'Scrape timed out', code: 'SCRAPE_TIMEOUT' },
  429: {
    error: 'Rate limit exceeded. Consumed (req/min): 11, Remaining (req/min): 0. Please retry after 60s.',
  },
  500: {
    error: 'An unexpected error occurred. Please contact help@firecrawl.com for help.',
    code: 'UNKNOWN_ERROR',
  },
  502: { error: 'Bad Gateway' },
};

/** A Firecrawl-style error body for `status`. */
export function firecrawlErrorBody(status: number, error?: string, code?: string) {
  const known = ERROR_BODIES[status] ?? { error: `Request failed with status ${status}` };
  return { success: false, ...known, ...(error ? { error } : {}), ...(code ? { code } : {}) };
}

export async function createFirecrawlFake(options: FirecrawlFakeOptions = {}): Promise<FirecrawlFake> {
  let latencyMs = options.latencyMs ?? 0;
  const extraPages = new Map<string, string | FirecrawlPage>();
  const recorder = createFakeRecorder<FirecrawlRequest>('firecrawl-fake');

  async function findPage(url: string, request: FirecrawlRequest): Promise<FirecrawlPage | undefined> {
    const pages = options.pages;
    const found =
      extraPages.get(url) ?? (typeof pages === 'function' ? await pages(url, request) : pages?.[url]);
    return typeof found === 'string' ? { markdown: found } : found;
  }

  async function handle({ req, res, url: reqUrl, body: rawBody, signal }: FakeExchange): Promise<void> {
    const body = (rawBody && typeof rawBody === 'object' ? rawBody : {}) as Record<string, unknown>;
    const record: FirecrawlRequest = {
      method: req.method ?? 'GET',
      path: reqUrl.pathname,
      url: typeof body.url === 'string' ? body.url : '',
      formats: Array.isArray(body.formats) ? body.formats : [],
      onlyMainContent: typeof body.onlyMainContent === 'boolean' ? body.onlyMainContent : undefined,
      timeout: typeof body.timeout === 'number' ? body.timeout : undefined,
      body,
      authorization: req.headers.authorization,
      receivedAt: preciseNow(),
    };
    const reply = recorder.track(record, res);

    const token = bearerToken(req);
    if (!token || (options.apiKey !== undefined && token !== options.apiKey)) {
      return reply(401, firecrawlErrorBody(401));
    }
    if (req.method !== 'POST' || reqUrl.pathname !== '/v2/scrape') {
      return reply(
        404,
        firecrawlErrorBody(404, `firecrawl-fake: no endpoint ${req.method} ${reqUrl.pathname}`),
      );
    }
    const failure = recorder.failures.take();
    if (failure) {
      await delay(latencyMs, signal);
      return recorder.serveFailure(record, res, failure, (status) => firecrawlErrorBody(status));
    }
    if (!record.url)
      return reply(400, firecrawlErrorBody(400, 'Bad Request: url is required', 'BAD_REQUEST'));

    const page = await findPage(record.url, record);
    const wait = latencyMs + (page?.delayMs ?? 0);
    if (record.timeout !== undefined && wait > record.timeout) {
      await delay(record.timeout, signal);
      return reply(408, firecrawlErrorBody(408));
    }
    await delay(wait, signal);
    if (signal.aborted) return;
    if (!page) {
      return reply(
        500,
        firecrawlErrorBody(
          500,
          `All scraping engines failed! -- Double check the URL to make sure it's not broken. (firecrawl-fake has no page for ${record.url})`,
          'SCRAPE_ALL_ENGINES_FAILED',
        ),
      );
    }
    if (page.error) return reply(500, firecrawlErrorBody(500, page.error, 'SCRAPE_FAILED'));
    reply(200, { success: true, data: scrapeData(record, page) });
  }

  const server = await startHttpFake('firecrawl-fake', handle);
  return {
    url: server.url,
    apiUrl: server.url,
    requests: recorder.log.entries,
    get maxInFlight() {
      return recorder.inFlight.peak;
    },
    setPage(url, page) {
      extraPages.set(url, page);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    failNext: (status, failOptions) => recorder.failNext(status, failOptions),
    waitForRequests: (count, timeoutMs) => recorder.log.waitFor(count, timeoutMs),
    reset: () => recorder.reset(),
    close: () => server.close(),
  };
}

function scrapeData(request: FirecrawlRequest, page: FirecrawlPage) {
  const wants = (name: string) =>
    request.formats.some(
      (f) => f === name || (typeof f === 'object' && f !== null && 'type' in f && f.type === name),
    );
  const title = page.title ?? /^#\s+(.+)$/m.exec(page.markdown)?.[1] ?? request.url;
  return {
    ...(request.formats.length === 0 || wants('markdown') ? { markdown: page.markdown } : {}),
    ...(wants('json') && page.json !== undefined ? { json: page.json } : {}),
    metadata: {
      title,
      sourceURL: request.url,
      url: request.url,
      statusCode: page.statusCode ?? 200,
      contentType: 'text/html; charset=utf-8',
      scrapeId: `fake-${Math.round(request.receivedAt)}`,
      creditsUsed: 1,
    },
  };
}
