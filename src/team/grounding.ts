import type { Quote } from './schemas.js';

/** Lower-cased, whitespace-folded text with typographic quotes and dashes made plain, for matching. */
export function normalizeForMatch(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u201b]/g, "'")
    .replace(/[\u201c\u201d\u201f]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface QuoteSource {
  title: string;
  url: string;
  snippet: string;
}

export function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname.toLowerCase().replace(/^(www|old|new|np)\./, '');
    return `${host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.trim().toLowerCase();
  }
}

/**
 * Keeps only quotes that really stand, word for word, in the title or snippet of the result whose URL
 * they cite. Models paraphrase and invent links; a quote shown to a user must be checkable.
 */
export function groundQuotes(quotes: Quote[], sources: QuoteSource[], max = 5): Quote[] {
  const byUrl = new Map(sources.map((s) => [normalizeUrl(s.url), s]));
  const kept: Quote[] = [];
  const seen = new Set<string>();
  for (const q of quotes) {
    const source = byUrl.get(normalizeUrl(q.url));
    if (!source) continue;
    const text = normalizeForMatch(q.quote)
      .replace(/^["'\s.]+|["'\s.]+$/g, '')
      .trim();
    if (text.length < 12 || seen.has(text)) continue;
    const haystack = normalizeForMatch(`${source.title} ${source.snippet}`);
    // Ellipses in a quote join verbatim fragments; each fragment must be in the source.
    const fragments = text.split(/\s*\.\.\.\s*/).filter((f) => f.length > 0);
    if (!fragments.every((f) => haystack.includes(f))) continue;
    seen.add(text);
    kept.push({ quote: q.quote.trim().replace(/^["\u201c]|["\u201d]$/g, ''), url: source.url });
    if (kept.length >= max) break;
  }
  return kept;
}

const NUMBER_TOKEN = /\$\s?\d[\d,]*(?:\.\d+)?\s?[kKmM]?|\d+(?:\.\d+)?\s?%/g;

function digitsOf(token: string): string {
  return token.replace(/[^\d.]/g, '').replace(/\.0+$/, '');
}

/**
 * Drops sentences of model prose that state a percentage or dollar figure not present in the source
 * text, so a figure the user reads always comes from the page.
 */
export function stripUngroundedNumbers(text: string, source: string): string {
  if (!text) return text;
  const sourceDigits = new Set((source.match(NUMBER_TOKEN) ?? []).map(digitsOf));
  // Plain numbers in the source also count ("23 percent", "1,650 dollars").
  for (const n of source.match(/\d[\d,]*(?:\.\d+)?/g) ?? []) sourceDigits.add(digitsOf(n));
  // A sentence ends at . ! ? followed by space or the end, so 1.5% stays whole.
  const sentences = text.match(/(?:[^.!?]|[.!?](?!\s|$))+(?:[.!?]+(?=\s|$)|$)\s*/g) ?? [text];
  return sentences
    .filter((s) => (s.match(NUMBER_TOKEN) ?? []).every((t) => sourceDigits.has(digitsOf(t))))
    .join('')
    .trim();
}
