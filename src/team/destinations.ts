import { TEAM } from '../constants.js';
import { extractCityPair } from '../tools/city-pair.js';
import { type CityResolver, normaliseCityText } from '../tools/city-resolver.js';
import { stateCode } from '../tools/us-states.js';
import type { Comparison, PendingDestinations } from './comparison-schema.js';
import type { Intake } from './schemas.js';
import type { CityRef, Recommendation } from './types.js';

/** Several destinations from one origin, as the user named them (at most TEAM.maxDestinations). */
export interface DestinationList {
  from: string | null;
  destinations: string[];
  /** Destinations named past the limit, left out of this comparison. */
  dropped: string[];
}

/** Where the list of destinations starts: after "from X to", "move to", or "compare". */
const FROM_TO = /\bfrom\s+(.+?)\s+to\s+(.+)$/i;
const TO_FROM = /\bto\s+(.+?)\s+from\s+(.+)$/i;
const COMPARE = /\bcompar\w*\s+(.+)$/i;
const HOME = /\b(?:live|living|based|currently|reside|residing)\s+in\s+(.+)$/i;
/** Words that end the list: "Austin or Denver for me", "Austin and Denver next year". */
const LIST_END = /[?!;:()\n"“”]|\.(?:\s|$)|\s+(?:for|because|since|next|this|if|when|i|we|my|our|from)\b/i;
/** Between two destinations: a comma, "or", "and" (lower case only: "Portland, OR" is Oregon). */
const SEPARATOR = /\s*,\s*(?:or\s+|and\s+)?|\s+(?:or|and|vs\.?|versus)\s+/;

/**
 * The destinations when the message names two or more ("from Seattle to Austin or Denver", "compare
 * Austin, Denver and Raleigh, I live in Seattle"); undefined for a one-destination question, which
 * then goes exactly the way it always did.
 */
function extractDestinations(message: string): { from: string | null; destinations: string[] } | undefined {
  const text = message.replace(/\s+/g, ' ').trim();
  const fromTo = FROM_TO.exec(text);
  const toFrom = fromTo ? null : TO_FROM.exec(text);
  const compare = fromTo || toFrom ? null : COMPARE.exec(text);
  const listText = fromTo?.[2] ?? toFrom?.[1] ?? compare?.[1];
  if (!listText) return undefined;
  const destinations = splitList(listText);
  if (destinations.length < 2) return undefined;
  const fromRaw = fromTo?.[1] ?? toFrom?.[2] ?? HOME.exec(text)?.[1] ?? null;
  const from = fromRaw ? (extractCityPair(`from ${fromRaw.replace(/^(?:the\s+)?/i, '')} to X`).from ?? null) : null;
  return { from, destinations };
}

function splitList(listText: string): string[] {
  const end = LIST_END.exec(listText);
  const list = end ? listText.slice(0, end.index) : listText;
  const pieces = list.split(SEPARATOR).map((p) => p.trim()).filter(Boolean);
  // "Portland, OR" split at its comma: the state goes back onto its city.
  const merged: string[] = [];
  for (const piece of pieces) {
    const prev = merged.length - 1;
    if (prev >= 0 && piece.split(' ').length <= 2 && stateCode(piece) && !/^[a-z]/.test(piece)) merged[prev] = `${merged[prev]}, ${piece}`;
    else merged.push(piece);
  }
  // A list of cities, not prose: a sentence that merely has "and" in it is left to the usual reading.
  return merged.every((p) => p.split(' ').length <= 4 && /^[A-Z]/.test(p)) ? merged : [];
}

/**
 * The destinations a turn compares: the literal list in the message, else the model's reading of it;
 * duplicates (by what they resolve to) removed, and the list cut at the limit.
 */
export function readDestinations(resolver: CityResolver, message: string, intake: Intake): DestinationList | undefined {
  const literal = extractDestinations(message);
  const named = literal?.destinations ?? intake.desired_cities;
  const unique: string[] = [];
  const seen = new Set<string>();
  for (const name of named) {
    const r = resolver.resolve(name);
    const key = r.kind === 'found' ? r.city.url_format : normaliseCityText(name);
    if (!seen.has(key)) {
      seen.add(key);
      unique.push(name);
    }
  }
  if (unique.length < 2) return undefined;
  return {
    from: literal?.from ?? intake.current_city,
    destinations: unique.slice(0, TEAM.maxDestinations),
    dropped: unique.slice(TEAM.maxDestinations),
  };
}

/** What the answer says when more destinations were named than one comparison takes. */
export function limitNote(list: DestinationList): string | undefined {
  if (list.dropped.length === 0) return undefined;
  return (
    `I compare at most ${TEAM.maxDestinations} destinations at a time, so I took the first ${TEAM.maxDestinations} ` +
    `(${list.destinations.join(', ')}) and left out ${list.dropped.join(', ')}. Ask again about ${list.dropped.length === 1 ? 'it' : 'them'} separately.`
  );
}

/**
 * In a thread that compared several destinations, the pair a follow-up is about: the destination the
 * message (or the model's reading of it) names, "what about Denver's weather?"; undefined when none.
 */
export function namedPair(
  resolver: CityResolver,
  comparison: Comparison | undefined,
  message: string,
  intake: Intake,
): Recommendation | undefined {
  if (!comparison) return undefined;
  // "Denver's weather" names Denver.
  const text = ` ${normaliseCityText(message.replace(/['’]s\b/gi, ''))} `;
  const asked = intake.desired_city ? resolver.resolve(intake.desired_city) : undefined;
  // The words of the message first: the model's reading may echo the thread's profile instead.
  const found =
    comparison.destinations.find(({ to }) => text.includes(` ${normaliseCityText(to.name)} `)) ??
    comparison.destinations.find(({ to }) => asked?.kind === 'found' && to.slug === asked.city.url_format);
  return found?.recommendation;
}

/**
 * The answer to "Which Columbus do you mean?" asked about one of several destinations: the list with
 * that one settled, when the reply (or the model's reading of it) names a listed city of that name.
 */
export function resumeDestinations(
  resolver: CityResolver,
  pending: PendingDestinations | undefined,
  message: string,
  intake: Intake,
): DestinationList | undefined {
  const unclear = pending?.destinations[pending.unclear];
  if (!pending || !unclear) return undefined;
  for (const reply of [intake.desired_city, intake.current_city, message]) {
    const r = reply ? resolver.resolve(reply) : undefined;
    if (r?.kind === 'found' && normaliseCityText(r.city.city) === normaliseCityText(unclear.replace(/,.*$/, ''))) {
      const destinations = pending.destinations.map((d, i) => (i === pending.unclear ? r.city.display_name : d));
      return { from: pending.from, destinations, dropped: [] };
    }
  }
  return undefined;
}

/**
 * Whether `text` names `known`. Both go through the resolver, so "NYC" is New York (Manhattan) and
 * "Salem" is not Winston-Salem.
 */
export function namesCity(resolver: CityResolver, text: string, known: CityRef): boolean {
  const r = resolver.resolve(text);
  // A city NerdWallet does not list has no slug to compare; its name is all there is.
  if (!known.slug) return r.kind !== 'found' && normaliseCityText(text) === normaliseCityText(known.name);
  if (r.kind === 'found') return r.city.url_format === known.slug;
  // "Portland" in a thread about Portland, OR means that Portland.
  return r.kind === 'ambiguous' && r.candidates.some((c) => c.url_format === known.slug);
}
