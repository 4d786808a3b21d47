import type { Clock } from '../clock.js';
import { DEFAULTS } from '../constants.js';
import { MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NerdWalletCity } from './city-resolver.js';
import {
  type CostFigures,
  extractCostFigures,
  nerdwalletCompareUrl,
  relevantExcerpt,
} from './cost-extraction.js';
import type { ToolCache } from './tool-cache.js';
import { withTimeout } from '../util/timeout.js';

export {
  type CostCategory,
  type CostFigures,
  type Direction,
  type DollarFigure,
  extractCostFigures,
  type Figure,
  groundFigures,
  isGrounded,
  nerdwalletCompareUrl,
  normaliseForGrounding,
} from './cost-extraction.js';

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

export interface CostComparison {
  /** The NerdWallet compare page. */
  url: string;
  /** Figures parsed and grounded by code. */
  figures: CostFigures;
  /** The relevant part of the page (≤ ~6k chars) for the model, to be fenced as untrusted data. */
  excerpt: string;
  /** True when served from the cache without scraping. */
  cached: boolean;
  /** When the page was scraped (ISO 8601). */
  fetchedAt: string;
}

export interface CostOfLivingTool {
  /** NerdWallet's comparison of `from` (where the user lives) with `to` (where they may move). */
  compare(from: NerdWalletCity, to: NerdWalletCity): Promise<CostComparison>;
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


type StoredComparison = Omit<CostComparison, 'cached'>;

const EXCERPT_CHARS = 6_000;

export function createCostOfLivingTool(options: ScrapedPageToolOptions): CostOfLivingTool {
  const { firecrawl, cache, clock, logger } = options;
  const ttlMs = options.ttlMs ?? DEFAULTS.costCacheTtlMs;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.scrapeTimeoutMs;

  return {
    async compare(from, to) {
      const url = nerdwalletCompareUrl(from, to);
      const hit = await cache.get<StoredComparison>(url);
      if (hit) {
        logger?.debug({ url }, 'cost of living: cache hit');
        return { ...hit, cached: true };
      }
      const markdown = await scrapeMarkdown(firecrawl, url, timeoutMs);
      const stored: StoredComparison = {
        url,
        figures: extractCostFigures(markdown, from, to),
        excerpt: relevantExcerpt(markdown, from, to, EXCERPT_CHARS),
        fetchedAt: new Date(clock.now()).toISOString(),
      };
      const { overall, categories } = stored.figures;
      if (overall || Object.keys(categories).length > 0) {
        await cache.set(url, stored, ttlMs, { kind: 'nerdwallet', url });
      } else {
        // A page without a single figure is more likely a block page or a redesign than the truth;
        // keeping it for a week would hide the problem.
        logger?.warn(
          { url, chars: markdown.length },
          'cost of living: no figures found on the page; not cached',
        );
      }
      logger?.info({ url, categories: Object.keys(categories).length }, 'cost of living: scraped');
      return { ...stored, cached: false };
    },
  };
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
