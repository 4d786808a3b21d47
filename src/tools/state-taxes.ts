import { DEFAULTS } from '../constants.js';
import { MovebotError } from '../errors.js';
import { readCachedPage, type ScrapedPageToolOptions } from './firecrawl-page.js';
import { extractStateTaxes, type StateTaxFigures, taxExcerpt, taxFoundationUrl } from './state-tax-extraction.js';
import { STATES } from './us-states.js';

export interface StateTaxPage {
  /** Postal code, e.g. "CO". */
  code: string;
  /** Full name, e.g. "Colorado". */
  state: string;
  /** The Tax Foundation page the figures came from. */
  url: string;
  figures: StateTaxFigures;
  /** The page's tax lines, for the knowledge base and follow-ups. */
  excerpt: string;
  /** When the page was scraped (ISO 8601). */
  fetchedAt: string;
  cached: boolean;
}

export interface StateTaxTool {
  /** Tax Foundation's page for a state by postal code. Throws `scrape_failed` when it cannot be read. */
  lookup(code: string): Promise<StateTaxPage>;
}


/** Scrapes Tax Foundation's state page through Firecrawl, reads it by code, and caches it with the knowledge base. */
export function createStateTaxTool(options: ScrapedPageToolOptions): StateTaxTool {
  const page = { ...options, ttlMs: options.ttlMs ?? DEFAULTS.taxCacheTtlMs, timeoutMs: options.timeoutMs ?? DEFAULTS.scrapeTimeoutMs };
  const inflight = new Map<string, Promise<StateTaxPage>>();

  async function fetchPage(code: string): Promise<StateTaxPage> {
    const url = taxFoundationUrl(code);
    if (!url) throw new MovebotError('scrape_failed', `no Tax Foundation page for state "${code}"`);
    return readCachedPage(page, url, {
      kind: 'tax-foundation',
      read: (markdown) => ({ code, state: STATES[code] ?? code, url, figures: extractStateTaxes(markdown), excerpt: taxExcerpt(markdown) }),
      hasData: ({ figures }) => Object.keys(figures).length > 0,
    });
  }

  return {
    lookup(raw) {
      const code = raw.toUpperCase();
      // Two cities in one state share one scrape.
      let run = inflight.get(code);
      if (!run) {
        run = fetchPage(code).finally(() => inflight.delete(code));
        inflight.set(code, run);
      }
      return run;
    },
  };
}
