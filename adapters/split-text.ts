/**
 * Platform-neutral splitting of chat text (Markdown or Slack mrkdwn) into parts that each fit a
 * platform's limit. Breaks prefer paragraph > list item > line > sentence > word boundaries, never cut
 * a link (`[x](y)` or `<url|x>`) or inline code unless the link alone exceeds the limit, and keep fenced
 * code blocks whole — a block too long for one part is closed and reopened in the next.
 */

/** Granularity of a split, coarsest first; each level falls back to the next for oversized units. */
const LEVELS = ['paragraph', 'item', 'line', 'sentence', 'word', 'char'] as const;
type Level = (typeof LEVELS)[number];

/** Markdown links, Slack links/mentions and inline code: spans a break must not fall inside. */
const PROTECTED = /\[[^\]\n]*\]\([^)\s]*\)|<[^<>\n]+>|`[^`\n]+`/g;
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^\s*(?:[-*+•]|\d+[.)])\s/;

/**
 * Splits `text` into parts of at most `maxChars` characters each. Text that fits is returned as is
 * (one part); otherwise parts are trimmed of the whitespace at the break and empty parts dropped.
 */
export function splitText(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 1)
    throw new RangeError(`maxChars must be ≥ 1, got ${maxChars}`);
  if (text.length <= maxChars) return [text];
  return splitAt(text, maxChars, 'paragraph')
    .map((part) => part.replace(/^\n+/, '').trimEnd())
    .filter((part) => part.length > 0);
}

/** Greedily packs the units of `text` at `level` into parts, recursing into units that are too long. */
function splitAt(text: string, max: number, level: Level): string[] {
  if (level === 'char') return hardSplit(text, max);
  const next = LEVELS[LEVELS.indexOf(level) + 1] as Level;
  const parts: string[] = [];
  let buffer = '';
  let pendingSep = '';
  for (const unit of segment(text, level)) {
    const candidate = buffer ? buffer + pendingSep + unit.text : unit.text;
    pendingSep = unit.sep;
    if (candidate.length <= max) {
      buffer = candidate;
      continue;
    }
    if (buffer) parts.push(buffer);
    if (unit.text.length <= max) {
      buffer = unit.text;
      continue;
    }
    const pieces = isFence(unit.text) ? splitFence(unit.text, max) : splitAt(unit.text, max, next);
    parts.push(...pieces.slice(0, -1));
    buffer = pieces.at(-1) ?? '';
  }
  if (buffer) parts.push(buffer);
  return parts;
}

interface Unit {
  text: string;
  /** The separator that followed this unit in the original text. */
  sep: string;
}

/** Cuts text into units at one level, keeping each unit's trailing separator. */
function segment(text: string, level: Exclude<Level, 'char'>): Unit[] {
  switch (level) {
    case 'paragraph':
      return paragraphs(text);
    case 'item':
      return items(text);
    case 'line':
      return joinRuns(text.split('\n'), '\n');
    case 'sentence':
      return atBreaks(text, (before) => /[.!?]["')\]]*$/.test(before));
    case 'word':
      return atBreaks(text, () => true);
  }
}

/** Blank-line separated paragraphs; a fenced code block is one paragraph even with blank lines inside. */
function paragraphs(text: string): Unit[] {
  const lines = text.split('\n');
  const units: Unit[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = (sep: string) => {
    if (current.length > 0) units.push({ text: current.join('\n'), sep });
    else if (units.length > 0) (units.at(-1) as Unit).sep += sep.slice(1);
    current = [];
  };
  for (const line of lines) {
    const marker = FENCE_LINE.exec(line)?.[1];
    if (fence) {
      current.push(line);
      if (marker?.startsWith(fence)) {
        fence = undefined;
        flush('\n');
      }
      continue;
    }
    if (marker) {
      flush('\n');
      fence = marker;
      current.push(line);
      continue;
    }
    if (line.trim() === '') {
      flush('\n\n');
      continue;
    }
    current.push(line);
  }
  flush('');
  return units;
}

/** Lines grouped so a list item keeps its indented continuation lines and nested items. */
function items(text: string): Unit[] {
  const groups: string[] = [];
  for (const line of text.split('\n')) {
    const last = groups.at(-1);
    // Indented lines after a list item (continuations, nested items) belong to that item.
    if (last !== undefined && LIST_ITEM.test(last) && /^\s+\S/.test(line))
      groups[groups.length - 1] += `\n${line}`;
    else groups.push(line);
  }
  return joinRuns(groups, '\n');
}

function joinRuns(pieces: string[], sep: string): Unit[] {
  return pieces.map((piece, i) => ({ text: piece, sep: i < pieces.length - 1 ? sep : '' }));
}

/** Units separated by whitespace runs outside protected spans, where `accept` approves the break. */
function atBreaks(text: string, accept: (before: string) => boolean): Unit[] {
  const spans = protectedSpans(text);
  const units: Unit[] = [];
  let start = 0;
  for (const match of text.matchAll(/\s+/g)) {
    const at = match.index;
    if (at === 0 || insideSpan(spans, at)) continue;
    const before = text.slice(start, at);
    if (!accept(before)) continue;
    units.push({ text: before, sep: match[0] });
    start = at + match[0].length;
  }
  units.push({ text: text.slice(start), sep: '' });
  return units;
}

/** Last resort: fixed-size cuts, moved back to the start of a protected span or surrogate pair. */
function hardSplit(text: string, max: number): string[] {
  const spans = protectedSpans(text);
  const parts: string[] = [];
  let start = 0;
  while (text.length - start > max) {
    let cut = start + max;
    const span = spans.find((s) => s.start < cut && cut < s.end);
    if (span && span.start > start) cut = span.start;
    else if (isLowSurrogate(text.charCodeAt(cut)) && cut - 1 > start) cut -= 1;
    parts.push(text.slice(start, cut));
    start = cut;
  }
  parts.push(text.slice(start));
  return parts;
}

function isFence(text: string): boolean {
  return FENCE_LINE.test(text);
}

/** Splits one fenced code block by lines, closing the fence at each cut and reopening it after. */
function splitFence(block: string, max: number): string[] {
  const lines = block.split('\n');
  const open = lines[0] ?? '```';
  const marker = FENCE_LINE.exec(open)?.[1] ?? '```';
  const last = lines.at(-1) ?? '';
  const closed = lines.length > 1 && FENCE_LINE.exec(last)?.[1]?.startsWith(marker) === true;
  const close = closed ? last.trim() : marker;
  const body = lines.slice(1, closed ? -1 : undefined);
  const budget = max - open.length - close.length - 2;
  if (budget < 1) return hardSplit(block, max);
  const chunks: string[] = [];
  let buffer: string | undefined;
  for (const line of body.flatMap((l) => (l.length > budget ? hardSplit(l, budget) : [l]))) {
    if (buffer !== undefined && buffer.length + 1 + line.length <= budget) buffer += `\n${line}`;
    else {
      if (buffer !== undefined) chunks.push(buffer);
      buffer = line;
    }
  }
  if (buffer !== undefined) chunks.push(buffer);
  return chunks.map((chunk) => `${open}\n${chunk}\n${close}`);
}

interface Span {
  start: number;
  end: number;
}

function protectedSpans(text: string): Span[] {
  return [...text.matchAll(PROTECTED)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

function insideSpan(spans: Span[], at: number): boolean {
  return spans.some((s) => s.start < at && at < s.end);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
