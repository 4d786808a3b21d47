import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distance } from 'fastest-levenshtein';
import { ALIASES, NEARBY } from './city-aliases.js';
import { STATE_FORMS, STATES, stateCode } from './us-states.js';

/** One entry of NerdWallet's city list (data/nerdwallet_cities.json). */
export interface NerdWalletCity {
  /** Bare city name, e.g. "Seattle" or "New York (Brooklyn)". */
  city: string;
  /** "City, ST", also the key in the JSON file. */
  display_name: string;
  /** Full state name, e.g. "Washington". */
  state: string;
  /** Two-letter postal code, e.g. "WA". */
  state_abbr: string;
  /** NerdWallet's slug, e.g. "seattle-wa". */
  url_format: string;
  /** Nicknames some entries carry in the data, e.g. ["Philly"]. */
  aliases?: string[];
}

export type MatchedBy = 'exact' | 'alias' | 'state' | 'fuzzy' | 'context';

export type CityResolution =
  | {
      kind: 'found';
      city: NerdWalletCity;
      matchedBy: MatchedBy;
      /** Set when we picked a sensible default the user may want to correct (e.g. NYC → Manhattan). */
      note?: string;
    }
  | { kind: 'ambiguous'; input: string; candidates: NerdWalletCity[] }
  | {
      kind: 'unknown';
      input: string;
      /**
       * Listed cities to offer instead: with a state given, only cities in that state; for a
       * well-known unlisted place (DC), its listed neighbours; otherwise names spelled alike.
       */
      suggestions: NerdWalletCity[];
      /** The state the user named (postal code), when there was one. */
      state?: string;
      /** Listed cities of that name in other states: "Portland, ME" → Portland, OR. */
      sameName?: NerdWalletCity[];
    };

export interface ResolveContext {
  /** A state the user mentioned elsewhere (abbreviation or full name). */
  state?: string;
  /** The other city of the comparison: a same-state candidate is the likelier one. */
  otherCity?: NerdWalletCity;
  /** States to prefer, in order (e.g. from the user's profile). */
  preferredStates?: string[];
}

export interface CityResolver {
  /** Resolves free text to one NerdWallet city, or says why it cannot. */
  resolve(input: string, context?: ResolveContext): CityResolution;
  /** Every city the resolver knows. */
  readonly cities: readonly NerdWalletCity[];
}

/** Below this similarity a typo guess is more likely wrong than right ("Atlantis" is not Atlanta). */
const FUZZY_ACCEPT = 0.8;
/** Suggestions for unknown input may be looser, since the user confirms them. */
const SUGGEST_FLOOR = 0.55;
const MAX_SUGGESTIONS = 3;

/** Lower-case, accent-free, punctuation-free form used for every comparison. */
export function normaliseCityText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[.'’`]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .replace(/\bsaint\b/g, 'st')
    .replace(/\bft\b/g, 'fort');
}

/** Finds <root>/data/nerdwallet_cities.json from src/tools or dist/src/tools. */
function findCitiesFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'data', 'nerdwallet_cities.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('data/nerdwallet_cities.json not found above the city resolver module');
}

let loaded: NerdWalletCity[] | undefined;

/** NerdWallet's 178 cities, read once from data/nerdwallet_cities.json. */
export function loadNerdWalletCities(): NerdWalletCity[] {
  loaded ??= Object.values(
    JSON.parse(readFileSync(findCitiesFile(), 'utf8')) as Record<string, NerdWalletCity>,
  );
  return loaded;
}

/** NerdWallet's URL slug for a city, e.g. "seattle-wa". */
export function slugFor(city: NerdWalletCity): string {
  return city.url_format;
}

interface Parse {
  name: string;
  state?: string;
}

/** Readings of the input: with a trailing state split off (when there is one), then as a whole. */
function parsesOf(n: string): Parse[] {
  const parses: Parse[] = [];
  for (const [suffix, abbr] of STATE_FORMS) {
    if (n.endsWith(` ${suffix}`)) {
      parses.push({ name: n.slice(0, -suffix.length - 1).trim(), state: abbr });
    }
  }
  parses.push({ name: n });
  return parses;
}

function stripNoise(n: string): string {
  return n
    .replace(/^(the|city of|greater|downtown|uptown|midtown)\s+/, '')
    .replace(/\s+(usa|us|united states)$/, '')
    .replace(/\s+(metro area|metro|area|region|downtown)$/, '')
    .trim();
}

/** Similarity in [0, 1]; an adjacent swap ("Tuscon") counts as one edit, not two. */
function similarity(a: string, b: string): number {
  let d = distance(a, b);
  if (d === 2 && a.length === b.length) {
    const diffs = [...a].flatMap((ch, i) => (ch === b[i] ? [] : [i]));
    const [i, j] = diffs;
    if (diffs.length === 2 && i !== undefined && j === i + 1 && a[i] === b[j] && a[j] === b[i]) d = 1;
  }
  return 1 - d / Math.max(a.length, b.length, 1);
}

export function createCityResolver(cities: readonly NerdWalletCity[] = loadNerdWalletCities()): CityResolver {
  const byDisplay = new Map(cities.map((c) => [c.display_name, c]));
  const names = new Map<string, NerdWalletCity[]>();
  const addName = (key: string, c: NerdWalletCity) => {
    const list = names.get(key) ?? [];
    if (!list.includes(c)) list.push(c);
    names.set(key, list);
  };
  for (const c of cities) {
    addName(normaliseCityText(c.city), c);
    // "New York (Brooklyn)" is also just "Brooklyn".
    const borough = /\(([^)]+)\)/.exec(c.city)?.[1];
    if (borough) addName(normaliseCityText(borough), c);
  }
  const aliases = new Map<string, NerdWalletCity[]>();
  for (const [alias, targets] of Object.entries(ALIASES)) {
    const found = targets.flatMap((t) => byDisplay.get(t) ?? []);
    if (found.length > 0 && !names.has(alias)) aliases.set(alias, found);
  }
  for (const c of cities) {
    for (const alias of c.aliases ?? []) {
      const key = normaliseCityText(alias);
      if (!names.has(key)) aliases.set(key, [...new Set([...(aliases.get(key) ?? []), c])]);
    }
  }
  const fuzzyKeys = [...names.keys(), ...[...aliases.keys()].filter((k) => k.length >= 4)];
  const citiesFor = (key: string) => names.get(key) ?? aliases.get(key) ?? [];

  function decide(
    input: string,
    found: NerdWalletCity[],
    p: Parse,
    by: MatchedBy,
    ctx: ResolveContext,
  ): CityResolution {
    const { state } = p;
    if (state) {
      const inState = found.filter((c) => c.state_abbr === state);
      const [only] = inState;
      if (only) return { kind: 'found', city: only, matchedBy: found.length > 1 ? 'state' : by };
      // Portland, ME is not Portland, OR: offer Maine's listed cities, and name the other Portland plainly.
      return {
        kind: 'unknown',
        input,
        state,
        suggestions: inStateSuggestions(p.name, state),
        sameName: found,
      };
    }
    if (found.length === 1) return withNote({ kind: 'found', city: found[0]!, matchedBy: by }, input);
    const hints = [ctx.state, ...(ctx.preferredStates ?? []), ctx.otherCity?.state_abbr];
    for (const hint of hints) {
      const code = hint ? stateCode(hint) : undefined;
      const inState = code ? found.filter((c) => c.state_abbr === code) : [];
      if (inState.length === 1) return { kind: 'found', city: inState[0]!, matchedBy: 'context' };
    }
    return { kind: 'ambiguous', input, candidates: found };
  }

  function fuzzy(p: Parse): NerdWalletCity[] {
    if (p.name.length < 4) return [];
    let best = 0;
    let bestKeys: string[] = [];
    for (const key of fuzzyKeys) {
      if (p.state && !citiesFor(key).some((c) => c.state_abbr === p.state)) continue;
      const s = similarity(p.name, key);
      if (s > best) [best, bestKeys] = [s, [key]];
      else if (s === best) bestKeys.push(key);
    }
    if (best < FUZZY_ACCEPT) return [];
    return [...new Set(bestKeys.flatMap(citiesFor))];
  }

  /** Listed cities in the state, names most like the input first. */
  function inStateSuggestions(n: string, state: string): NerdWalletCity[] {
    return cities
      .filter((c) => c.state_abbr === state)
      .map((c) => ({ c, score: similarity(n, normaliseCityText(c.city)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, MAX_SUGGESTIONS)
      .map((s) => s.c);
  }

  function suggestions(n: string): NerdWalletCity[] {
    if (n.length < 3) return [];
    const scored = fuzzyKeys
      .map((key) => ({ key, score: similarity(n, key) }))
      .filter((s) => s.score >= SUGGEST_FLOOR)
      .sort((a, b) => b.score - a.score);
    return [...new Set(scored.flatMap((s) => citiesFor(s.key)))].slice(0, MAX_SUGGESTIONS);
  }

  return {
    cities,
    resolve(input, ctx = {}) {
      const raw = normaliseCityText(input);
      // "Bay Area" is a name in itself; "Seattle area" is Seattle.
      const n = aliases.has(raw) || names.has(raw) ? raw : stripNoise(raw);
      if (!n) return { kind: 'unknown', input, suggestions: [] };
      const nearby = NEARBY[n];
      if (nearby)
        return { kind: 'unknown', input, suggestions: nearby.flatMap((d) => byDisplay.get(d) ?? []) };
      const parses = parsesOf(n).filter((p) => p.name.length > 0);
      for (const p of parses) {
        const exact = names.get(p.name);
        if (exact) return decide(input, exact, p, 'exact', ctx);
        const alias = aliases.get(p.name);
        if (alias) return decide(input, alias, p, 'alias', ctx);
      }
      // A bare state ("Texas") is not a typo of some city name.
      if (stateCode(n)) return { kind: 'unknown', input, suggestions: [] };
      for (const p of parses) {
        const guess = fuzzy(p);
        if (guess.length > 0) return decide(input, guess, p, 'fuzzy', ctx);
      }
      const stated = parses.find((p) => p.state);
      if (stated?.state) {
        return {
          kind: 'unknown',
          input,
          state: stated.state,
          suggestions: inStateSuggestions(stated.name, stated.state),
        };
      }
      return { kind: 'unknown', input, suggestions: suggestions(n) };
    },
  };
}

function withNote(res: CityResolution, input: string): CityResolution {
  if (res.kind !== 'found' || res.matchedBy !== 'alias') return res;
  if (res.city.city.startsWith('New York (')) {
    return {
      ...res,
      note: `Read "${input}" as Manhattan; NerdWallet also lists Brooklyn, Queens, the Bronx and Staten Island.`,
    };
  }
  return res;
}

function joinOr(items: string[], word = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

const displayNames = (list: NerdWalletCity[]) => list.map((c) => c.display_name);

/**
 * What NerdWallet lists in place of an unlisted city, in plain words ("" when nothing):
 * "It lists no city in Maine; by that name it lists only Portland, OR." Says "lists", never
 * "nearest": without a state the suggestions are only names spelled alike.
 */
export function unlistedAlternatives(res: Extract<CityResolution, { kind: 'unknown' }>): string {
  if (!res.state)
    return res.suggestions.length ? `It does list ${joinOr(displayNames(res.suggestions), 'and')}.` : '';
  const where = STATES[res.state] ?? res.state;
  if (res.suggestions.length > 0)
    return `Cities it lists in ${where} include ${joinOr(displayNames(res.suggestions), 'and')}.`;
  const elsewhere = res.sameName?.length
    ? `; by that name it lists only ${joinOr(displayNames(res.sameName), 'and')}`
    : '';
  return `It lists no city in ${where}${elsewhere}.`;
}

/**
 * The question to put to the user when a city could not be pinned down, or undefined when it was.
 * `total` is the size of NerdWallet's list (178), named so the user knows the search space.
 */
export function clarifyingQuestion(
  res: CityResolution,
  total = loadNerdWalletCities().length,
): string | undefined {
  if (res.kind === 'found') return undefined;
  if (res.kind === 'ambiguous') {
    const shared = res.candidates.every((c) => c.city === res.candidates[0]?.city);
    const subject = shared ? res.candidates[0]!.city : `'${res.input.trim()}'`;
    const options = joinOr(res.candidates.map((c) => c.display_name));
    return shared
      ? `Which ${subject} do you mean: ${options}?`
      : `Which city do you mean by ${subject}: ${options}?`;
  }
  const base = `I couldn't find '${res.input.trim()}' in NerdWallet's list of ${total} cities.`;
  if (res.state) {
    const offer = res.suggestions.length
      ? 'Would one of those do for the comparison?'
      : res.sameName?.length
        ? `Did you mean ${joinOr(displayNames(res.sameName))}, or a larger city near you?`
        : 'Could you name a nearby larger city?';
    return `${base} ${unlistedAlternatives(res)} ${offer}`;
  }
  if (res.suggestions.length === 0) return `${base} Could you name a nearby larger city?`;
  return `${base} Did you mean ${joinOr(displayNames(res.suggestions))}?`;
}

/** One line for logs and tool results: how an input was understood. */
export function describeResolution(res: CityResolution): string {
  if (res.kind === 'found')
    return `${res.city.display_name} (${res.matchedBy})${res.note ? `: ${res.note}` : ''}`;
  return clarifyingQuestion(res) ?? '';
}

export { type CityPair, extractCityPair } from './city-pair.js';
export { stateCode } from './us-states.js';
