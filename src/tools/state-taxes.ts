import { DEFAULTS } from '../constants.js';
import { MovebotError } from '../errors.js';
import { type ScrapedPageToolOptions, scrapeMarkdown } from './cost-of-living.js';
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


type Stored = Omit<StateTaxPage, 'cached'>;

/** Scrapes Tax Foundation's state page through Firecrawl, reads it by code, and caches it with the knowledge base. */
export function createStateTaxTool(options: ScrapedPageToolOptions): StateTaxTool {
  const { firecrawl, cache, clock, logger } = options;
  const ttlMs = options.ttlMs ?? DEFAULTS.taxCacheTtlMs;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.scrapeTimeoutMs;
  const inflight = new Map<string, Promise<StateTaxPage>>();

  async function fetchPage(code: string): Promise<StateTaxPage> {
    const url = taxFoundationUrl(code);
    if (!url) throw new MovebotError('scrape_failed', `no Tax Foundation page for state "${code}"`);
    const hit = await cache.get<Stored>(url);
    if (hit) return { ...hit, cached: true };
    const markdown = await scrapeMarkdown(firecrawl, url, timeoutMs);
    const stored: Stored = {
      code,
      state: STATES[code] ?? code,
      url,
      figures: extractStateTaxes(markdown),
      excerpt: taxExcerpt(markdown),
      fetchedAt: new Date(clock.now()).toISOString(),
    };
    // A page with no rate at all is more likely a block page or a redesign: not kept.
    if (Object.keys(stored.figures).length > 0) await cache.set(url, stored, ttlMs, { kind: 'tax-foundation', url });
    else logger?.warn({ url, chars: markdown.length }, 'state taxes: no rates found on the page; not cached');
    return { ...stored, cached: false };
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
