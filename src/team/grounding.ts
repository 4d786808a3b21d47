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

/** The figures a text may state: every number found in the source text, as bare digits. */
export type FigureSource = ReadonlySet<string>;

export function figureSource(source: string): FigureSource {
  const digits = new Set((source.match(NUMBER_TOKEN) ?? []).map(digitsOf));
  // Plain numbers in the source also count ("23 percent", "1,650 dollars").
  for (const n of source.match(/\d[\d,]*(?:\.\d+)?/g) ?? []) {
    const d = digitsOf(n);
    digits.add(d);
    // "$185,000" may be restated as "$185k".
    if (/^\d+000$/.test(d)) digits.add(d.slice(0, -3));
  }
  return digits;
}

/**
 * Drops sentences of model prose that state a percentage or dollar figure not present in the source
 * text, so a figure the user reads always comes from the page.
 */
export function stripUngroundedNumbers(text: string, source: string | FigureSource): string {
  if (!text) return text;
  const grounder = createGrounder(typeof source === 'string' ? figureSource(source) : source);
  return (grounder.push(text) + grounder.end()).trim();
}

/** Grounds every string and list-of-strings field of a model's structured answer; other fields stay. */
export function groundFields<T extends object>(value: T, source: FigureSource): T {
  const out = { ...value } as Record<string, unknown>;
  for (const [key, v] of Object.entries(out)) {
    if (typeof v === 'string') out[key] = stripUngroundedNumbers(v, source);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      out[key] = v.map((x: string) => stripUngroundedNumbers(x, source)).filter(Boolean);
    }
  }
  return out as T;
}

/**
 * Grounds streamed text: `push` returns what may be shown of the text so far, holding back an unfinished
 * sentence until its end shows whether its figures stand in the source; `end` releases the rest.
 * A streamed answer must not show, even briefly, a figure the final one drops.
 */
export function createGrounder(source: FigureSource): { push(delta: string): string; end(): string } {
  let pending = '';
  // Whether the current line kept any sentence, or lost one: a line that lost all goes with its break.
  let lineKept = false;
  let lineDropped = false;

  function release(text: string): string {
    let out = '';
    for (const part of text.split(/(\n)/)) {
      if (part === '\n') {
        if (lineKept || !lineDropped) out += part;
        lineKept = lineDropped = false;
        continue;
      }
      // A sentence ends at . ! ? followed by space or the end, so 1.5% stays whole.
      for (const sentence of part.match(/(?:[^.!?]|[.!?](?!\s|$))+(?:[.!?]+(?=\s|$)|$)\s*/g) ?? []) {
        if ((sentence.match(NUMBER_TOKEN) ?? []).every((t) => source.has(digitsOf(t)))) {
          out += sentence;
          if (sentence.trim()) lineKept = true;
        } else lineDropped = true;
      }
    }
    return out;
  }

  return {
    push(delta) {
      pending += delta;
      const cut = lastBoundary(pending);
      const done = pending.slice(0, cut);
      pending = pending.slice(cut);
      return release(done);
    },
    end() {
      const rest = pending;
      pending = '';
      return release(rest);
    },
  };
}

/** Where the last finished sentence or line of `text` ends (0 when none has). */
function lastBoundary(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i]!;
    if (c === '\n' || (i > 0 && /\s/.test(c) && /[.!?]/.test(text[i - 1]!))) return i + 1;
  }
  return 0;
}
