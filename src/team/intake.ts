import type { LlmClient, UsageMeter } from '../llm/llm-client.js';
import {
  type CityResolution,
  type CityResolver,
  clarifyingQuestion,
  createCityResolver,
  extractCityPair,
  type NerdWalletCity,
  normaliseCityText,
  stateCode,
  unlistedAlternatives,
} from '../tools/city-resolver.js';
import { STATES } from '../tools/us-states.js';
import { PROMPTS } from './prompts.js';
import { type Intake, IntakeSchema, type UserProfile } from './schemas.js';
import type { CityRef, RecalledMemory } from './types.js';

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
  authorName?: string | null;
}

/** Reads the user's situation from the message, the thread so far, and what we remember of them. */
export async function runIntake(args: {
  llm: LlmClient;
  meter: UsageMeter;
  model?: string;
  signal?: AbortSignal;
  message: string;
  history: HistoryMessage[];
  previousProfile?: UserProfile;
  memories: RecalledMemory[];
  /** Decides between the two readings of a city; NerdWallet's list unless told otherwise. */
  resolver?: CityResolver;
}): Promise<Intake> {
  const transcript = args.history
    .slice(-12)
    .map((m) => `${m.role === 'user' ? `User${m.authorName ? ` (${m.authorName})` : ''}` : 'movebot'}: ${clip(m.content, 1_500)}`)
    .join('\n');
  const { value } = await args.llm.structured({
    label: 'coordinator-intake',
    model: args.model,
    meter: args.meter,
    signal: args.signal,
    schema: IntakeSchema,
    schemaName: 'Intake',
    temperature: 0,
    messages: [
      { role: 'system', content: PROMPTS.intake },
      {
        role: 'user',
        content: [
          args.memories.length ? `Remembered about this user:\n${args.memories.map((m) => `- ${m.content}`).join('\n')}` : '',
          args.previousProfile ? `Profile so far: ${JSON.stringify(args.previousProfile)}` : '',
          transcript ? `Conversation so far:\n${transcript}` : '',
          `Newest message from the user:\n${clip(args.message, 4_000)}`,
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ],
  });
  const resolver = args.resolver ?? defaultResolver();
  const pair = extractCityPair(args.message);
  // What the user told us elsewhere can settle a name NerdWallet lists in several states.
  const mentions = [
    args.message,
    args.previousProfile?.current_city ?? '',
    args.previousProfile?.desired_city ?? '',
    ...args.memories.map((m) => m.content),
  ];
  const homeStates = [
    ...statesLivedIn(args.message),
    ...args.memories.filter((m) => m.topic === 'location').flatMap((m) => statesLivedIn(m.content)),
  ];
  const current = chooseReading(resolver, pair.from, value.current_city);
  const desired = chooseReading(resolver, pair.to, value.desired_city);
  return {
    ...value,
    current_city: current && withContext(resolver, current, [...statesNamedWith(current, mentions), ...homeStates]),
    desired_city: desired && withContext(resolver, desired, statesNamedWith(desired, mentions)),
    intent: pair.from && pair.to ? 'compare' : value.intent,
  };
}

let shared: CityResolver | undefined;
function defaultResolver(): CityResolver {
  shared ??= createCityResolver();
  return shared;
}

/**
 * The literal "from X to Y" in the message against the model's reading of it. The literal wins only
 * when it names one listed city: the model sees the whole message and the user's history, so its
 * "Columbus, OH" beats a bare, ambiguous "Columbus".
 */
function chooseReading(resolver: CityResolver, literal: string | undefined, model: string | null): string | null {
  if (!literal) return model;
  if (!model) return literal;
  // The model only added a state ("Portland" → "Portland, ME"): that is what the message implies.
  const [lit, mod] = [normaliseCityText(literal), normaliseCityText(model)];
  if (mod.startsWith(`${lit} `) && stateCode(mod.slice(lit.length + 1))) return model;
  return resolver.resolve(literal).kind === 'found' ? literal : model;
}

/** An ambiguous name settled by states from context becomes "City, ST"; anything else stays as it was. */
function withContext(resolver: CityResolver, text: string, states: string[]): string {
  if (states.length === 0) return text;
  const res = resolver.resolve(text, { preferredStates: states });
  return res.kind === 'found' && res.matchedBy === 'context' ? res.city.display_name : text;
}

/** States written right after this city's name: "Lives in Columbus, Ohio", "Columbus (OH)". */
function statesNamedWith(city: string, texts: string[]): string[] {
  // Normalised text is only [a-z0-9 ], so the name needs no escaping.
  const after = new RegExp(String.raw`\b${normaliseCityText(city)} (\w+)(?: (\w+))?`, 'g');
  return texts.flatMap((text) =>
    [...normaliseCityText(text).matchAll(after)].flatMap((m) => stateCode(`${m[1]} ${m[2] ?? ''}`) ?? stateCode(m[1] ?? '') ?? []),
  );
}

const LIVES_IN = /\b(?:live|lives|living|based|reside|resides|residing|i'm|i am|we're|we are)\s+in\s+([A-Za-z]+)(?:\s+([A-Za-z]+))?/gi;
const STATE_NAMES = new Map(Object.entries(STATES).map(([abbr, name]) => [name.toLowerCase(), abbr]));

/**
 * States the text says the user lives in, written out in full: "I live in Ohio", a memory "You live
 * in Ohio". Postal codes are left out ("in", "me" and "oh" are words too), and so is a state that
 * begins a city's name ("I live in Kansas City").
 */
function statesLivedIn(text: string): string[] {
  return [...text.matchAll(LIVES_IN)].flatMap(([, first = '', second = '']) => {
    const twoWords = STATE_NAMES.get(`${first} ${second}`.toLowerCase());
    if (twoWords) return [twoWords];
    const one = STATE_NAMES.get(first.toLowerCase());
    return one && !/^[A-Z]/.test(second) ? [one] : [];
  });
}

/** Merges the new reading into what the session already knew, keeping list entries unique. */
export function mergeProfile(previous: UserProfile | undefined, next: UserProfile): UserProfile {
  const uniq = (a: string[] = [], b: string[] = []) => [...new Set([...a, ...b])];
  return {
    current_city: next.current_city ?? previous?.current_city ?? null,
    desired_city: next.desired_city ?? previous?.desired_city ?? null,
    annual_income: next.annual_income ?? previous?.annual_income ?? null,
    monthly_expenses: next.monthly_expenses ?? previous?.monthly_expenses ?? null,
    city_preferences: uniq(previous?.city_preferences, next.city_preferences),
    current_city_likes: uniq(previous?.current_city_likes, next.current_city_likes),
    current_city_dislikes: uniq(previous?.current_city_dislikes, next.current_city_dislikes),
  };
}

export type CityDecision =
  | { kind: 'ready'; from: CityRef; to: CityRef; fromListed?: NerdWalletCity; toListed?: NerdWalletCity; unlistedReason?: string }
  | { kind: 'clarify'; text: string; reason: 'missing_city' | 'ambiguous_city' };

/**
 * Resolves both cities against NerdWallet's list. Missing or ambiguous → a question for the user;
 * unknown to NerdWallet → go on without cost data, explaining why.
 */
export function decideCities(resolver: CityResolver, profile: UserProfile): CityDecision {
  const fromText = profile.current_city?.trim();
  const toText = profile.desired_city?.trim();
  if (!fromText && !toText) {
    return {
      kind: 'clarify',
      reason: 'missing_city',
      text:
        "I can help you decide whether to move. Which city do you live in now, and which city are you thinking of moving to? " +
        '(For example: "Should I move from Seattle to Austin?")',
    };
  }
  if (!fromText) return { kind: 'clarify', reason: 'missing_city', text: `Which city would you be moving to ${toText} from?` };
  if (!toText) return { kind: 'clarify', reason: 'missing_city', text: `Which city are you thinking of moving to from ${fromText}?` };

  const first = { from: resolver.resolve(fromText), to: resolver.resolve(toText) };
  // With one city known, the other's state can settle a shared name (Portland next to Seattle → OR).
  const from = first.from.kind === 'ambiguous' && first.to.kind === 'found' ? resolver.resolve(fromText, { otherCity: first.to.city }) : first.from;
  const to = first.to.kind === 'ambiguous' && first.from.kind === 'found' ? resolver.resolve(toText, { otherCity: first.from.city }) : first.to;

  const ambiguous = [from, to].find((r): r is Extract<CityResolution, { kind: 'ambiguous' }> => r.kind === 'ambiguous');
  if (ambiguous) {
    return { kind: 'clarify', reason: 'ambiguous_city', text: clarifyingQuestion(ambiguous) ?? 'Which city do you mean?' };
  }
  const ref = (r: CityResolution, raw: string): CityRef =>
    r.kind === 'found'
      ? { name: r.city.city, display: r.city.display_name, state: r.city.state_abbr, slug: r.city.url_format }
      : { name: raw, display: raw };
  const unknown = [
    [from, fromText],
    [to, toText],
  ].filter(([r]) => (r as CityResolution).kind === 'unknown') as [Extract<CityResolution, { kind: 'unknown' }>, string][];
  const unlistedReason = unknown.length
    ? unknown
        .map(([r, raw]) => {
          const alternatives = unlistedAlternatives(r);
          // "Portland, Maine" may have been a slip for the one Portland NerdWallet has.
          const [only] = r.sameName?.length === 1 && r.suggestions.length === 0 ? r.sameName : [];
          const offer = only ? ` Ask about ${only.display_name} if that is the one you meant.` : '';
          return `NerdWallet's calculator does not list "${raw}".${alternatives ? ` ${alternatives}` : ''}${offer}`;
        })
        .join(' ')
    : undefined;
  return {
    kind: 'ready',
    from: ref(from, fromText),
    to: ref(to, toText),
    fromListed: from.kind === 'found' ? from.city : undefined,
    toListed: to.kind === 'found' ? to.city : undefined,
    unlistedReason,
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
