import type { Clock } from '../clock.js';
import { MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import { withTimeout } from '../util/timeout.js';
import type { ToolCache } from './tool-cache.js';

/**
 * The part of the Firecrawl SDK client we use. `new Firecrawl({ apiKey, apiUrl })` from
 * @mendable/firecrawl-js 4 satisfies it; so can a test double, though our tests use the real client.
 */
export interface FirecrawlLike {
  scrape(
    url: string,
    options?: { formats?: Array<'markdown'>; onlyMainContent?: boolean; timeout?: number },
  ): Promise<{ markdown?: string }>;
}

/** What a tool that scrapes a page through Firecrawl and caches it with the knowledge base runs with. */
export interface ScrapedPageToolOptions {
  firecrawl: FirecrawlLike;
  cache: ToolCache;
  clock: Clock;
  /** How long a scraped page is reused (NerdWallet's index and the tax rates change rarely). */
  ttlMs?: number;
  /** Our own deadline for one scrape, whatever the SDK's timeouts are. */
  timeoutMs?: number;
  logger?: Logger;
}

/** A page as a tool keeps it: what it read, when it was scraped; `cached` says whether this call scraped. */
export type ReadPage<T> = T & { fetchedAt: string; cached: boolean };

/**
 * A page read through Firecrawl and kept in the cache with the knowledge base (`kind`, its URL): the
 * cached reading when there is one, else a scrape read by `read`. A reading `hasData` rejects (no
 * figure at all) is more likely a block page or a redesign than the truth: returned, not kept.
 */
export async function readCachedPage<T extends object>(
  o: ScrapedPageToolOptions & { ttlMs: number; timeoutMs: number },
  url: string,
  page: { kind: string; read: (markdown: string) => T; hasData: (reading: T) => boolean },
): Promise<ReadPage<T>> {
  const hit = await o.cache.get<T & { fetchedAt: string }>(url);
  if (hit) {
    o.logger?.debug({ url }, `${page.kind}: cache hit`);
    return { ...hit, cached: true };
  }
  const markdown = await scrapeMarkdown(o.firecrawl, url, o.timeoutMs);
  const stored = { ...page.read(markdown), fetchedAt: new Date(o.clock.now()).toISOString() };
  if (page.hasData(stored)) await o.cache.set(url, stored, o.ttlMs, { kind: page.kind, url });
  else o.logger?.warn({ url, chars: markdown.length }, `${page.kind}: nothing found on the page; not cached`);
  return { ...stored, cached: false };
}

export async function scrapeMarkdown(firecrawl: FirecrawlLike, url: string, timeoutMs: number): Promise<string> {
  try {
    const doc = await withTimeout(
      firecrawl.scrape(url, { formats: ['markdown'], onlyMainContent: true, timeout: timeoutMs }),
      timeoutMs,
      () => new MovebotError('scrape_failed', `scrape timed out after ${timeoutMs} ms`, { transient: true }),
    );
    const markdown = doc.markdown?.trim();
    if (!markdown) {
      throw new MovebotError('scrape_failed', `Firecrawl returned no content for ${url}`, {
        transient: true,
      });
    }
    return markdown;
  } catch (err) {
    if (err instanceof MovebotError) throw err;
    const status = statusOf(err);
    throw new MovebotError(
      'scrape_failed',
      `Firecrawl could not scrape ${url}${status ? ` (HTTP ${status})` : ''}`,
      {
        cause: err,
        // Auth, payment and bad-request errors will not fix themselves; network, 429 and 5xx may.
        transient: status === undefined || status === 408 || status === 429 || status >= 500,
      },
    );
  }
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
