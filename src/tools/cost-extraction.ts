import type { NerdWalletCity } from './city-resolver.js';

/**
 * Deterministic reading of NerdWallet's compare page. The page is untrusted: every figure carries the
 * sentence it came from, lines that talk to an AI are never read, and `groundFigures` re-checks any
 * figure (ours or a model's) against the page text before anyone sees it.
 */

export type Direction = 'higher' | 'lower' | 'same';

export interface Figure {
  /** The percentage as written (always ≥ 0; the sign lives in `direction`). */
  percent: number;
  /** Whether `city` is more or less expensive than the other city. */
  direction: Direction;
  /** Display name of the city the percent describes, normally the destination. */
  city: string;
  /** The exact sentence or table row the figure was read from. */
  evidence: string;
}

export interface DollarFigure {
  /** What the amount is, e.g. "Median rent". */
  label: string;
  /** Display name of the city the amount belongs to. */
  city: string;
  amount: number;
  /** The exact sentence or table row the amount was read from. */
  evidence: string;
}

export type CostCategory =
  | 'housing'
  | 'food'
  | 'transportation'
  | 'healthcare'
  | 'utilities'
  | 'entertainment';

export interface CostFigures {
  /** The headline difference in overall cost of living. */
  overall?: Figure;
  /** Per-category differences; a category the page does not state is absent. */
  categories: Partial<Record<CostCategory, Figure>>;
  /** Labelled dollar amounts (median rent, home price, equivalent salary …). */
  dollars: DollarFigure[];
  /** The page the figures came from. */
  sourceUrl: string;
}

/** https://www.nerdwallet.com/cost-of-living-calculator/compare/{from}-vs-{to} */
export function nerdwalletCompareUrl(from: NerdWalletCity, to: NerdWalletCity): string {
  return `https://www.nerdwallet.com/cost-of-living-calculator/compare/${from.url_format}-vs-${to.url_format}`;
}

const CATEGORY_WORDS: Array<[CostCategory, RegExp]> = [
  ['housing', /\b(housing|home costs?)\b/gi],
  ['food', /\b(food|groceries|grocery|dining)\b/gi],
  ['transportation', /\b(transportation|transport|transit|commut\w*)\b/gi],
  ['healthcare', /\b(health ?care|health|medical)\b/gi],
  ['utilities', /\b(utilities|utility)\b/gi],
  ['entertainment', /\b(entertainment|misc\w*|miscellaneous|other goods|goods (?:&|and) services|other)\b/gi],
];
const OVERALL = /\b(cost of living|cost-of-living|overall|living costs?|living in|total cost)\b/i;
const SAME = /\b(about|roughly|nearly|basically) the same\b|\bno (?:real )?difference\b|\bsame in both\b/i;
const DIRECTION =
  /\b(less expensive|more expensive|higher|lower|cheaper|pricier|costlier|more|less|above|below|increase|decrease)\b/i;
const PERCENT = /([+\-−]?)(\d+(?:\.\d+)?)\s?(?:%|percent\b)/gi;
const DOLLARS = /\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?(?!\s?(?:k|K|million|billion|M|B)\b)/g;
const DOLLAR_LABELS: Array<[string, RegExp]> = [
  ['Median rent', /\brent\b/i],
  ['Median home price', /\bhome (?:price|value)s?\b|\bhouse prices?\b/i],
  ['Equivalent salary', /\b(salary|earn|income|standard of living|lifestyle|equivalent)\b/i],
];

/** Lines that address a model rather than a reader: never read for figures, never shown to the LLM. */
const INSTRUCTION_LIKE =
  /ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|preceding) (?:instructions|prompts?|messages?)|disregard (?:all |the )?(?:previous|above|prior)|\byou are now\b|developer mode|system prompt|^\s*(?:system|assistant|user|human|ai)\s*:|\bcall the \w+ tool\b|\b(?:tool|function) call\b|\btell the user\b|\bas an ai\b|\bjailbreak\b|<\/?(?:system|instructions?)>/i;

/** One readable line: links become their text; images, HTML tags and emphasis marks are dropped. */
export function cleanMarkdownLine(line: string): string {
  return line
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, ' ')
    .replace(/(\*\*|__|`)/g, '')
    .replace(/^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+)/, '')
    .replace(/[\u00a0\u2009\u202f]/g, ' ')
    .replace(/[“”]/g, '"')
    .replace(/[‘’]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** The whole page as one comparable string, used to check that evidence really is on the page. */
export function normaliseForGrounding(text: string): string {
  return text
    .split(/\r?\n/)
    .map(cleanMarkdownLine)
    .join(' ')
    .replace(/[–—−]/g, '-')
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .trim();
}

const LINK_ONLY = /^\s*(?:[-*+]\s*)?(?:(?:!?\[[^\]]*\]\([^)]*\)|[|·/•])\s*)+$/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/** Page lines worth reading: navigation (link-only lines), images and instruction-like lines are removed. */
export function readableLines(markdown: string): string[] {
  return markdown
    .split(/\r?\n/)
    .filter((raw) => !LINK_ONLY.test(raw) && !TABLE_RULE.test(raw) && !/^\s*[=-]{3,}\s*$/.test(raw))
    .map(cleanMarkdownLine)
    .filter((line) => line.length > 0 && !INSTRUCTION_LIKE.test(line));
}

function numbersIn(text: string): number[] {
  return [...text.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => Number.parseFloat(m[0].replace(/,/g, '')));
}

/** Whether a quoted sentence stands on the (normalised) page: long enough to mean something, and there. */
export function isOnPage(evidence: string, normalisedPage: string): boolean {
  const ev = normaliseForGrounding(evidence);
  return ev.length >= 8 && normalisedPage.includes(ev);
}

/** True when `evidence` is on the page and states `value` (or says "the same" for a 0% figure). */
export function isGrounded(
  evidence: string,
  value: number,
  normalisedPage: string,
  direction?: Direction,
): boolean {
  if (!isOnPage(evidence, normalisedPage)) return false;
  const ev = normaliseForGrounding(evidence);
  if (direction === 'same' && value === 0) return SAME.test(ev) || numbersIn(ev).includes(0);
  return numbersIn(ev).includes(value);
}

/** Drops every figure whose evidence is not on the page or does not state its number. */
export function groundFigures(figures: CostFigures, markdown: string): CostFigures {
  const page = normaliseForGrounding(markdown);
  const ok = (f: Figure | undefined) =>
    f !== undefined && isGrounded(f.evidence, f.percent, page, f.direction);
  const categories: CostFigures['categories'] = {};
  for (const [key, f] of Object.entries(figures.categories) as Array<[CostCategory, Figure | undefined]>) {
    if (ok(f)) categories[key] = f;
  }
  const grounded: CostFigures = {
    categories,
    dollars: figures.dollars.filter((d) => isGrounded(d.evidence, d.amount, page)),
    sourceUrl: figures.sourceUrl,
  };
  if (ok(figures.overall)) grounded.overall = figures.overall;
  return grounded;
}

interface Mention {
  city: NerdWalletCity;
  start: number;
  end: number;
  /** "than Seattle", "compared with Seattle": the city is the baseline, not the subject. */
  baseline: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function findMentions(text: string, pair: [NerdWalletCity, NerdWalletCity]): Mention[] {
  const sameName = pair[0].city === pair[1].city;
  const mentions: Mention[] = [];
  for (const city of pair) {
    const names = sameName ? [city.display_name] : [city.display_name, city.city];
    const re = new RegExp(names.map((n) => `\\b${escapeRegExp(n)}(?![\\w(])`).join('|'), 'gi');
    for (const m of text.matchAll(re)) {
      const start = m.index ?? 0;
      if (mentions.some((x) => start >= x.start && start < x.end)) continue;
      const before = text.slice(Math.max(0, start - 30), start);
      const baseline =
        /\b(than(?: (?:in|living in))?|compared (?:to|with)|relative to|vs\.?|versus)\s*$/i.test(before);
      mentions.push({ city, start, end: start + m[0].length, baseline });
    }
  }
  return mentions.sort((a, b) => a.start - b.start);
}

/** The city a percent at `at` describes: the nearest subject mention, else the other side of a baseline. */
function subjectCity(text: string, at: number, pair: [NerdWalletCity, NerdWalletCity]): NerdWalletCity {
  const mentions = findMentions(text, pair);
  const subjects = mentions.filter((m) => !m.baseline);
  if (subjects.length > 0) {
    return subjects.reduce((best, m) => (Math.abs(m.start - at) < Math.abs(best.start - at) ? m : best)).city;
  }
  const base = mentions[0];
  if (base) return base.city === pair[0] ? pair[1] : pair[0];
  return pair[1];
}

function categoryAt(text: string, at: number): CostCategory | undefined {
  let best: { key: CostCategory; score: number } | undefined;
  for (const [key, re] of CATEGORY_WORDS) {
    for (const m of text.matchAll(re)) {
      const idx = m.index ?? 0;
      // Prefer a keyword before the number ("Housing: 38% lower") over one after it.
      const score = idx <= at ? at - idx : (idx - at) * 2 + 10;
      if (!best || score < best.score) best = { key, score };
    }
  }
  return best?.key;
}

function directionOf(
  text: string,
  matchEnd: number,
  sign: string,
  matchStart: number,
): Direction | undefined {
  if (sign === '+') return 'higher';
  if (sign === '-' || sign === '−') return 'lower';
  const after = DIRECTION.exec(text.slice(matchEnd, matchEnd + 40));
  const before = DIRECTION.exec(text.slice(Math.max(0, matchStart - 25), matchStart));
  const word = (after ?? before)?.[1]?.toLowerCase();
  if (!word) return undefined;
  return /^(less|lower|cheaper|below|decrease)/.test(word) ? 'lower' : 'higher';
}

interface Segment {
  /** What the figure is read from (a sentence, or a table row). */
  text: string;
  /** For table rows: the header cells, to tell which column belongs to which city. */
  header?: string[];
}

/** The trimmed cells of a Markdown table row. */
export function cellsOf(row: string): string[] {
  return row
    .replace(/^\s*\|/, '')
    .replace(/\|\s*$/, '')
    .split('|')
    .map((c) => c.trim());
}

/** Splits readable lines into sentences and table rows (with their header). */
export function segmentsOf(lines: string[]): Segment[] {
  const segments: Segment[] = [];
  let header: string[] | undefined;
  for (const line of lines) {
    if (line.includes('|') && line.split('|').length >= 3) {
      const cells = cellsOf(line);
      const isHeader = header === undefined && !/\d/.test(cells.slice(1).join(' '));
      if (isHeader) header = cells;
      else segments.push({ text: line, header });
      continue;
    }
    header = undefined;
    for (const sentence of line.split(/(?<!\b(?:vs|St|Ft|Mt|Inc|Dr|No|approx)\.)(?<=[.!?])\s+(?=[A-Z$*])/)) {
      if (sentence.trim()) segments.push({ text: sentence.trim() });
    }
  }
  return segments;
}

/** Reads the overall and per-category differences and the labelled dollar amounts from the page. */
export function extractCostFigures(markdown: string, from: NerdWalletCity, to: NerdWalletCity): CostFigures {
  const pair: [NerdWalletCity, NerdWalletCity] = [from, to];
  const figures: CostFigures = { categories: {}, dollars: [], sourceUrl: nerdwalletCompareUrl(from, to) };
  for (const seg of segmentsOf(readableLines(markdown))) {
    readPercents(seg, pair, figures);
    readDollars(seg, pair, figures);
  }
  // Belt and braces: whatever the heuristics read must still be literally on the page.
  return groundFigures(figures, markdown);
}

function readPercents(seg: Segment, pair: [NerdWalletCity, NerdWalletCity], out: CostFigures): void {
  const { text } = seg;
  const rowLabel = seg.header ? (cellsOf(text)[0] ?? '') : undefined;
  for (const m of text.matchAll(PERCENT)) {
    const at = m.index ?? 0;
    const direction = directionOf(text, at + m[0].length, m[1] ?? '', at);
    if (!direction) continue;
    const category = rowLabel !== undefined ? categoryAt(rowLabel, rowLabel.length) : categoryAt(text, at);
    const city = seg.header ? (columnCity(seg, at, pair) ?? pair[1]) : subjectCity(text, at, pair);
    const figure: Figure = {
      percent: Number.parseFloat(m[2] ?? ''),
      direction,
      city: city.display_name,
      evidence: text,
    };
    if (category) out.categories[category] ??= figure;
    else if (isOverall(rowLabel ?? text, pair)) out.overall ??= figure;
  }
  if (!/\d\s?(?:%|percent\b)/i.test(text) && SAME.test(text)) {
    const category = categoryAt(text, text.search(SAME));
    const city = subjectCity(text, 0, pair);
    if (category)
      out.categories[category] ??= { percent: 0, direction: 'same', city: city.display_name, evidence: text };
  }
}

/** "Cost of living …", or a sentence naming both cities with no category ("SF is 79% pricier than Austin"). */
function isOverall(text: string, pair: [NerdWalletCity, NerdWalletCity]): boolean {
  if (OVERALL.test(text)) return true;
  const named = new Set(findMentions(text, pair).map((m) => m.city));
  return named.size === 2;
}

/** For a table cell at `at`, the city its column header names (a "Denver vs. Chicago" column means Denver). */
function columnCity(
  seg: Segment,
  at: number,
  pair: [NerdWalletCity, NerdWalletCity],
): NerdWalletCity | undefined {
  const column = seg.text.slice(0, at).split('|').length - (seg.text.trimStart().startsWith('|') ? 2 : 1);
  const title = seg.header?.[column];
  if (!title) return undefined;
  const mentions = findMentions(title, pair);
  return mentions.find((x) => !x.baseline)?.city;
}

function readDollars(seg: Segment, pair: [NerdWalletCity, NerdWalletCity], out: CostFigures): void {
  const { text } = seg;
  const amounts = [...text.matchAll(DOLLARS)];
  if (amounts.length === 0) return;
  const label = seg.header
    ? cellsOf(text)[0] || undefined
    : DOLLAR_LABELS.find(([, re]) => re.test(text))?.[0];
  if (!label) return;
  const mentions = findMentions(text, pair);
  amounts.forEach((m, i) => {
    const at = m.index ?? 0;
    let city: NerdWalletCity | undefined;
    if (seg.header) {
      city = columnCity(seg, at, pair);
    } else if (mentions.length > 0) {
      city = nearestMention(text, at, at + m[0].length, mentions);
    } else if (amounts.length === 2 && /\bvs\.?\b|\bversus\b/i.test(text)) {
      // "Median rent $1,850 vs $2,050" follows the page's own order, which is the URL's: from, then to.
      city = pair[i];
    }
    if (!city) return;
    const amount = Number.parseFloat((m[1] ?? '').replace(/,/g, ''));
    const dup = out.dollars.some(
      (d) => d.label === label && d.city === city.display_name && d.amount === amount,
    );
    if (!dup) out.dollars.push({ label, city: city.display_name, amount, evidence: text });
  });
}

/** The mention an amount belongs to: "$1,651 in Austin", "(Austin)", or "Austin: $1,651", never across a ";" or another amount. */
function nearestMention(
  text: string,
  start: number,
  end: number,
  mentions: Mention[],
): NerdWalletCity | undefined {
  let best: { city: NerdWalletCity; d: number } | undefined;
  for (const m of mentions) {
    const between =
      m.start >= end ? text.slice(end, m.start) : m.end <= start ? text.slice(m.end, start) : undefined;
    if (between === undefined || /[;$]/.test(between)) continue;
    const d = m.start >= end && /^\s*(?:in|\(|for)\s*$/i.test(between) ? 0 : between.length;
    if (!best || d < best.d) best = { city: m.city, d };
  }
  return best?.city;
}

/** The part of the page worth showing a model, as plain lines, at most `maxChars` long. */
export function relevantExcerpt(
  markdown: string,
  from: NerdWalletCity,
  to: NerdWalletCity,
  maxChars = 6_000,
): string {
  const lines = readableLines(markdown);
  const first = lines.findIndex((l) => findMentions(l, [from, to]).length > 0 || OVERALL.test(l));
  const out: string[] = [];
  let size = 0;
  for (const line of lines.slice(Math.max(0, first))) {
    if (size + line.length + 1 > maxChars) break;
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}
