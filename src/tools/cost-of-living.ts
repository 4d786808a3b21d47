import { DEFAULTS } from '../constants.js';
import type { NerdWalletCity } from './city-resolver.js';
import {
  type CostFigures,
  extractCostFigures,
  nerdwalletCompareUrl,
  relevantExcerpt,
} from './cost-extraction.js';
import { readCachedPage, type ScrapedPageToolOptions } from './firecrawl-page.js';

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

const EXCERPT_CHARS = 6_000;

export function createCostOfLivingTool(options: ScrapedPageToolOptions): CostOfLivingTool {
  const page = { ...options, ttlMs: options.ttlMs ?? DEFAULTS.costCacheTtlMs, timeoutMs: options.timeoutMs ?? DEFAULTS.scrapeTimeoutMs };
  return {
    compare(from, to) {
      const url = nerdwalletCompareUrl(from, to);
      return readCachedPage(page, url, {
        kind: 'nerdwallet',
        read: (markdown) => ({ url, figures: extractCostFigures(markdown, from, to), excerpt: relevantExcerpt(markdown, from, to, EXCERPT_CHARS) }),
        hasData: ({ figures }) => Boolean(figures.overall) || Object.keys(figures.categories).length > 0,
      });
    },
  };
}
