import type { LlmClient, UsageMeter } from '../llm/llm-client.js';
import {
  type CityResolution,
  type CityResolver,
  clarifyingQuestion,
  extractCityPair,
  type NerdWalletCity,
} from '../tools/city-resolver.js';
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
  // A literal "from X to Y" in the message beats the model's reading of it.
  const pair = extractCityPair(args.message);
  return {
    ...value,
    current_city: pair.from ?? value.current_city,
    desired_city: pair.to ?? value.desired_city,
    intent: pair.from && pair.to ? 'compare' : value.intent,
  };
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
          const near = r.suggestions.map((s) => s.display_name);
          return `NerdWallet's calculator does not list "${raw}"${near.length ? ` (nearest listed: ${near.join(', ')})` : ''}`;
        })
        .join('; ')
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
