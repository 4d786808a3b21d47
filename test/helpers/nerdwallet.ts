import { readFileSync } from 'node:fs';
import { loadNerdWalletCities, type NerdWalletCity } from '../../src/tools/city-resolver.js';

const bySlug = new Map(loadNerdWalletCities().map((c) => [c.url_format, c]));

/** A NerdWallet city by its slug, e.g. `city('seattle-wa')`. */
export function city(slug: string): NerdWalletCity {
  const c = bySlug.get(slug);
  if (!c) throw new Error(`no city ${slug}`);
  return c;
}

/** The saved compare page for a pair, e.g. `comparePage('seattle-wa-vs-austin-tx')`. */
export function comparePage(slugs: string): string {
  return readFileSync(new URL(`../fixtures/nerdwallet-${slugs}.md`, import.meta.url), 'utf8');
}
