import Firecrawl, { type ScrapeOptions, SdkError } from '@mendable/firecrawl-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFirecrawlFake, type FirecrawlFake } from './fakes/firecrawl-fake.js';

const PAGE_URL = 'https://www.nerdwallet.com/cost-of-living-calculator/compare/boston-ma-vs-austin-tx';
const MARKDOWN = '# Cost of living: Boston vs Austin\n\nHousing is 48% cheaper in Austin.';

let fake: FirecrawlFake;
let firecrawl: Firecrawl;

beforeEach(async () => {
  fake = await createFirecrawlFake({ apiKey: 'fc-test-key', pages: { [PAGE_URL]: MARKDOWN } });
  firecrawl = new Firecrawl({ apiKey: 'fc-test-key', apiUrl: fake.apiUrl, maxRetries: 1 });
});

afterEach(async () => {
  await fake.close();
});

async function scrapeError(url: string, options: ScrapeOptions = { formats: ['markdown'] }) {
  const error = await firecrawl.scrape(url, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SdkError);
  return error as SdkError;
}

describe('firecrawl fake with the real SDK', () => {
  it('scrapes a known page to markdown and records the request', async () => {
    const doc = await firecrawl.scrape(PAGE_URL, { formats: ['markdown'], onlyMainContent: true });

    expect(doc.markdown).toBe(MARKDOWN);
    expect(doc.metadata?.sourceURL).toBe(PAGE_URL);
    expect(doc.metadata?.statusCode).toBe(200);
    expect(doc.metadata?.title).toBe('Cost of living: Boston vs Austin');
    const [request] = fake.requests;
    expect(request?.path).toBe('/v2/scrape');
    expect(request?.url).toBe(PAGE_URL);
    expect(request?.formats).toEqual(['markdown']);
    expect(request?.onlyMainContent).toBe(true);
    expect(request?.authorization).toBe('Bearer fc-test-key');
  });

  it('serves pages from a function and pages added later', async () => {
    const dynamic = await createFirecrawlFake({
      pages: (url) => (url.includes('denver') ? { markdown: '# Denver', statusCode: 404 } : undefined),
    });
    try {
      const client = new Firecrawl({ apiKey: 'any', apiUrl: dynamic.apiUrl, maxRetries: 1 });
      const doc = await client.scrape('https://example.com/denver', { formats: ['markdown'] });
      expect(doc.markdown).toBe('# Denver');
      expect(doc.metadata?.statusCode).toBe(404);
      dynamic.setPage('https://example.com/later', 'added later');
      expect((await client.scrape('https://example.com/later')).markdown).toBe('added later');
    } finally {
      await dynamic.close();
    }
  });

  it('fails an unknown URL the way Firecrawl does: 500 with success false', async () => {
    const error = await scrapeError('https://example.com/nowhere');
    expect(error.status).toBe(500);
    expect(error.code).toBe('SCRAPE_ALL_ENGINES_FAILED');
    expect(error.message).toContain('example.com/nowhere');
  });

  it('rejects a wrong key with 401', async () => {
    const wrong = new Firecrawl({ apiKey: 'fc-wrong', apiUrl: fake.apiUrl, maxRetries: 1 });
    const error = await wrong.scrape(PAGE_URL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkError);
    expect((error as SdkError).status).toBe(401);
  });

  it('surfaces injected 402 and 429 as SdkError with status and message', async () => {
    fake.failNext(402);
    fake.failNext(429, { body: { success: false, error: 'slow down' } });
    const payment = await scrapeError(PAGE_URL);
    const limited = await scrapeError(PAGE_URL);
    expect(payment.status).toBe(402);
    expect(payment.message).toMatch(/credits/i);
    expect(limited.status).toBe(429);
    expect(limited.message).toBe('slow down');
    expect((await firecrawl.scrape(PAGE_URL)).markdown).toBe(MARKDOWN);
  });

  it('shows that the SDK retries a 502 by itself unless maxRetries is 1', async () => {
    const retrying = new Firecrawl({ apiKey: 'fc-test-key', apiUrl: fake.apiUrl, backoffFactor: 0.01 });
    fake.failNext(502);
    expect((await retrying.scrape(PAGE_URL)).markdown).toBe(MARKDOWN);
    expect(fake.requests.map((r) => r.status)).toEqual([502, 200]);

    fake.reset();
    fake.failNext(502);
    expect((await scrapeError(PAGE_URL)).status).toBe(502);
    expect(fake.requests).toHaveLength(1);
  });

  it('surfaces a dropped connection as an SdkError without status', async () => {
    fake.failNext('reset');
    const error = await scrapeError(PAGE_URL);
    expect(error.status).toBeUndefined();
    expect(error.code).toBe('ECONNRESET');
  });

  it('answers 408 SCRAPE_TIMEOUT when the page is slower than the requested timeout', async () => {
    fake.setPage('https://example.com/slow', { markdown: 'late', delayMs: 10_000 });
    const error = await scrapeError('https://example.com/slow', { formats: ['markdown'], timeout: 50 });
    expect(error.status).toBe(408);
    expect(error.code).toBe('SCRAPE_TIMEOUT');
    expect(fake.requests[0]?.timeout).toBe(50);
  });

  it('returns a scripted page error as a failed scrape', async () => {
    fake.setPage('https://example.com/blocked', { markdown: '', error: 'Blocked by robots' });
    const error = await scrapeError('https://example.com/blocked');
    expect(error.status).toBe(500);
    expect(error.message).toBe('Blocked by robots');
  });

  it('closes promptly while a scrape is pending', async () => {
    fake.setLatency(60_000);
    const pending = firecrawl.scrape(PAGE_URL).catch((e: unknown) => e);
    await fake.waitForRequests(1);
    await fake.close();
    expect(await pending).toBeInstanceOf(SdkError);
  });
});
