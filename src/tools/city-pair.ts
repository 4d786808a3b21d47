/**
 * A deterministic pre-parser for "which two cities?" in free text. It only cuts out the raw mentions;
 * the city resolver decides what they mean. Re-exported from city-resolver.ts.
 */

import { stateCode } from './us-states.js';

export interface CityPair {
  /** Where the user lives now, as written. */
  from?: string;
  /** Where the user is thinking of moving, as written. */
  to?: string;
}

const MOVE_VERB = '(?:move|moving|moved|relocate|relocating|go|going|head|heading|transfer|transferring)';

/** Words that end a city mention: "Austin next year", "Denver because …". */
const STOP =
  /\s+(?:because|since|for|next|this|soon|but|and|with|so|after|before|when|if|where|while|in\s+\d+|by\s+\d+|in\s+(?:the\s+)?(?:spring|summer|fall|autumn|winter|new\s+year|coming)|in\s+a\s+(?:few|couple)|i|we|my|our|to\s+(?:be|get|live|work|find|save|join|start)|to\s+maybe|instead|anytime|someday|eventually|now|later|later\s+this)\b/i;

/** A comma ends a mention unless a state follows: "Portland, OR" stays whole. */
const STATE_AFTER_COMMA =
  /^,\s*(?:[A-Z]{2}\b|D\.?C\.?|(?:New|North|South|West|Rhode)\s+\w+|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)/;

/** "Boston or stay" ends at "or", but only a lower-case one: "Portland, OR" is Oregon. */
const STOP_OR = /\s+or\b/;

/** Words before the city that are not part of its name. */
const LEADING_FILLER = [
  // "my apartment in Boston", "our little house near Austin", "my parents' place in Denver"
  /^(?:my|our|the|a)\s+(?:[\w'’-]+\s+){0,2}?(?:apartment|apt|flat|house|home|condo|place|room|studio|job|office|rental)\s+(?:in|at|near|outside(?:\s+of)?)\s+/i,
  /^(?:the\s+)?(?:suburbs|outskirts)\s+of\s+/i,
  /^(?:downtown|uptown|midtown|central|suburban|greater)\s+/i,
];

const TRAILING_FILLER = /\s+(?:instead|please|soon|now)$/i;

/**
 * Dots of common abbreviations would otherwise look like sentence ends ("St.", "N.Y."), and a state
 * in brackets becomes ", State" so the comma rule keeps it: "Columbus (Ohio)" → "Columbus, Ohio".
 */
function protectAbbreviations(text: string): string {
  return text
    .replace(/\b(St|Ft|Mt|Pt)\./g, '$1')
    .replace(/\bD\.\s?C\.?/g, 'DC')
    .replace(/\bvs\./gi, 'vs')
    .replace(/\b([A-Z])\.\s?([A-Z])\./g, '$1$2')
    .replace(/\s*\(([^()]{2,20})\)/g, (aside, inner: string) =>
      stateCode(inner) ? `, ${inner.trim()}` : aside,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

/** Cuts a forward-running capture ("Austin, TX next spring?") down to the mention. */
function cleanRight(raw: string): string | undefined {
  let s = raw;
  const end = /[?!;:()\n"“”]|\.(?:\s|$)/.exec(s);
  if (end) s = s.slice(0, end.index);
  for (const stop of [STOP, STOP_OR]) {
    const at = stop.exec(s);
    if (at) s = s.slice(0, at.index);
  }
  let out = '';
  // Keep ", ST" / ", Statename" after the first part, stop at any other comma.
  const parts = s.split(',');
  out = parts[0] ?? '';
  const rest = s.slice(out.length);
  const state = STATE_AFTER_COMMA.exec(rest);
  if (state) out += state[0];
  return finish(out);
}

/** Cuts a backward-running capture ("Honestly: Seattle, WA") down to the mention at its end. */
function cleanLeft(raw: string): string | undefined {
  const pieces = raw.split(/[.?!;:\n]\s*/);
  let s = pieces[pieces.length - 1] ?? '';
  const commaParts = s.split(',');
  if (commaParts.length > 1) {
    const last = commaParts[commaParts.length - 1] ?? '';
    const beforeLast = commaParts[commaParts.length - 2] ?? '';
    s =
      STATE_AFTER_COMMA.test(`,${last}`) && last.trim().split(/\s+/).length <= 2
        ? `${beforeLast},${last}`
        : last;
  }
  s = s.replace(
    /^.*\b(?:compare|comparing|between|is|it|it's|about|like|think|thinking|considering)\s+/i,
    '',
  );
  return finish(s);
}

function finish(s: string): string | undefined {
  let named = s.trim();
  for (const filler of LEADING_FILLER) named = named.replace(filler, '');
  const out = named
    .replace(/^\s*(?:the|beautiful|sunny|rainy)\s+/i, '')
    .replace(TRAILING_FILLER, '')
    .replace(/[\s,.]+$/, '')
    .trim();
  return out.length > 0 && out.length <= 60 ? out : undefined;
}

function pair(from: string | undefined, to: string | undefined): CityPair {
  const result: CityPair = {};
  if (from) result.from = from;
  if (to) result.to = to;
  return result;
}

/**
 * Pulls the current and the desired city out of natural phrasing: "should I move from Seattle to
 * Austin?", "Seattle -> Austin", "moving to Denver from Chicago", "leaving NYC for Philly",
 * "compare Boston and Raleigh", "I live in Seattle and I'm thinking of moving to Austin".
 */
export function extractCityPair(text: string): CityPair {
  const t = protectAbbreviations(text);
  const moveTo = new RegExp(String.raw`\b${MOVE_VERB}\s+(?:back\s+|over\s+|out\s+|down\s+|up\s+)?to\s+`, 'i');
  const fromAt = /\bfrom\s+/i.exec(t);
  const toAt = moveTo.exec(t);

  // "move to Denver from Chicago": the destination comes first.
  if (toAt && (!fromAt || toAt.index < fromAt.index)) {
    const m = /^(.+?)\s+from\s+(.+)$/i.exec(t.slice(toAt.index + toAt[0].length));
    if (m) return pair(cleanRight(m[2]!), cleanRight(m[1]!));
  }
  const fromTo = /\bfrom\s+(.+?)\s*(?:\bto\b|->|→|=>|-->)\s*(.+)$/i.exec(t);
  if (fromTo) return pair(cleanRight(fromTo[1]!), cleanRight(fromTo[2]!));

  const leaving = /\bleav(?:e|ing)\s+(.+?)\s+(?:for|to)\s+(.+)$/i.exec(t);
  if (leaving) return pair(cleanRight(leaving[1]!), cleanRight(leaving[2]!));

  const arrow = /^(.+?)\s*(?:->|→|=>|-->|⟶)\s*(.+)$/.exec(t);
  if (arrow) return pair(cleanLeft(arrow[1]!), cleanRight(arrow[2]!));

  const compare = /\bcompar\w*\s+(.+?)\s+(?:and|with|to|vs|versus|against)\s+(.+)$/i.exec(t);
  if (compare) return pair(cleanRight(compare[1]!), cleanRight(compare[2]!));

  const versus = /^(.+?)\s+(?:vs|versus|v)\s+(.+)$/i.exec(t);
  if (versus) return pair(cleanLeft(versus[1]!), cleanRight(versus[2]!));

  // Separate mentions: "I live in Seattle. Thinking about moving to Austin."
  const home =
    /\b(?:live|living|based|currently|stay|staying|i'm|i am|we're|we are|reside|residing)\s+(?:in|at)\s+(.+)$/i.exec(
      t,
    );
  const from = home
    ? cleanRight(home[1]!)
    : fromAt
      ? cleanRight(t.slice(fromAt.index + fromAt[0].length))
      : undefined;
  const to = toAt ? cleanRight(t.slice(toAt.index + toAt[0].length)) : undefined;
  if (from || to) return pair(from, to);

  // A bare "Seattle to Austin" (short messages only, so prose with "to" is not misread).
  const bare = /^([^,]+(?:,\s*[A-Za-z]+)?)\s+to\s+(.+)$/i.exec(t);
  if (bare && t.split(/\s+/).length <= 8) return pair(cleanLeft(bare[1]!), cleanRight(bare[2]!));
  return {};
}
