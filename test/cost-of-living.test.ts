import Firecrawl from '@mendable/firecrawl-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { isMovebotError } from '../src/errors.js';
import { createCostOfLivingTool } from '../src/tools/cost-of-living.js';
import { createMemoryCache } from '../src/tools/tool-cache.js';
import { createFirecrawlFake, type FirecrawlFake } from './fakes/firecrawl-fake.js';
import { city, comparePage } from './helpers/nerdwallet.js';

const SEATTLE = city('seattle-wa');
const AUSTIN = city('austin-tx');
const SEATTLE_AUSTIN = 'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx';

describe('createCostOfLivingTool against the Firecrawl fake', () => {
  let fake: FirecrawlFake;
  const apiKey = 'fc-test-key-123';
  /** What the fake serves for each compare URL: the fixture of that pair, unless a test overrides it. */
  let override: ((url: string) => string | { markdown: string; delayMs?: number } | undefined) | undefined;

  beforeAll(async () => {
    fake = await createFirecrawlFake({
      pages: (url: string) => override?.(url) ?? comparePage(url.split('/compare/')[1] ?? ''),
    });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    override = undefined;
  });

  function makeTool(timeoutMs?: number) {
    const clock = createManualClock();
    // maxRetries 1 = no SDK retries, as in production (src/tools/create-tools.ts).
    const firecrawl = new Firecrawl({ apiKey, apiUrl: fake.apiUrl, maxRetries: 1 });
    const tool = createCostOfLivingTool({ firecrawl, cache: createMemoryCache(clock), clock, timeoutMs });
    return { tool, clock };
  }

  it('scrapes the compare page for markdown and returns grounded figures with an excerpt', async () => {
    const { tool, clock } = makeTool();
    const result = await tool.compare(SEATTLE, AUSTIN);

    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ url: SEATTLE_AUSTIN, formats: ['markdown'] });
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${apiKey}`);
    expect(result).toMatchObject({
      url: 'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx',
      cached: false,
      fetchedAt: new Date(clock.now()).toISOString(),
    });
    expect(result.figures.overall).toMatchObject({
      percent: 23,
      direction: 'lower',
      city: 'Austin, TX',
      evidence: 'The cost of living in Austin, TX is 23% lower than in Seattle, WA.',
    });
    expect(result.figures.categories.housing?.evidence).toBe('| Housing | $2,410 | $1,651 | 38% lower |');
    expect(result.excerpt).toContain('You would need to earn $76,898 in Austin, TX');
    expect(result.excerpt).not.toContain('https://');
    expect(result.excerpt.length).toBeLessThanOrEqual(6_000);
  });

  it('answers a repeat within 7 days from the cache and scrapes again after', async () => {
    const { tool, clock } = makeTool();
    const first = await tool.compare(SEATTLE, AUSTIN);
    clock.advance(7 * 24 * 3600_000 - 1);
    const second = await tool.compare(SEATTLE, AUSTIN);
    expect(fake.requests).toHaveLength(1);
    expect(second).toEqual({ ...first, cached: true });

    // Another pair is another page.
    await tool.compare(AUSTIN, city('san-francisco-ca'));
    expect(fake.requests).toHaveLength(2);

    clock.advance(2);
    const third = await tool.compare(SEATTLE, AUSTIN);
    expect(fake.requests).toHaveLength(3);
    expect(third.cached).toBe(false);
  });

  it('turns a server error into a transient scrape_failed, and caches nothing', async () => {
    const { tool } = makeTool();
    fake.failNext(500);
    const err = await tool.compare(SEATTLE, AUSTIN).catch((e: unknown) => e);
    expect(isMovebotError(err, 'scrape_failed')).toBe(true);
    expect(err).toMatchObject({ transient: true });
    expect(String((err as Error).message)).not.toContain(apiKey);

    const ok = await tool.compare(SEATTLE, AUSTIN);
    expect(ok.cached).toBe(false);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
  });

  it('treats a rejected API key as a permanent scrape_failed', async () => {
    const { tool } = makeTool();
    fake.failNext(401, { body: { success: false, error: 'Unauthorized: Invalid token' } });
    const err = await tool.compare(SEATTLE, AUSTIN).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'scrape_failed', transient: false });
  });

  it('fails on an empty page and does not cache a page without figures', async () => {
    const { tool } = makeTool();
    override = () => '  ';
    await expect(tool.compare(SEATTLE, AUSTIN)).rejects.toMatchObject({ code: 'scrape_failed' });

    override = () => '# Access denied\n\nAre you a robot?';
    const blocked = await tool.compare(SEATTLE, AUSTIN);
    expect(blocked.figures.overall).toBeUndefined();
    await tool.compare(SEATTLE, AUSTIN);
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up with scrape_failed when the server does not answer in time', async () => {
    const { tool } = makeTool(300);
    override = (url) => ({ markdown: comparePage(url.split('/compare/')[1] ?? ''), delayMs: 10_000 });
    const err = await tool.compare(SEATTLE, AUSTIN).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'scrape_failed', transient: true });
    expect(String((err as Error).message)).toMatch(/timed out/i);
  });
});
