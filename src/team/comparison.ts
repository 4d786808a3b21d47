import type { Clock } from '../clock.js';
import { userFacingError } from '../user-errors.js';
import type { LlmClient, UsageMeter } from '../llm/llm-client.js';
import type { CityResolver } from '../tools/city-resolver.js';
import { type Comparison, type PendingDestinations, RankingDraftSchema } from './comparison-schema.js';
import { renderComparisonReport, renderComparisonSummary } from './comparison-report.js';
import { renderReport, renderSummary } from './report.js';
import { limitNote, type DestinationList, namesCity } from './destinations.js';
import { figureSource, groundFields } from './grounding.js';
import { type CityDecision, decideCities } from './intake.js';
import { COMPARISON_PROMPT } from './comparison-prompt.js';
import { groundedJustification } from './streamed-field.js';
import type { UserProfile } from './schemas.js';
import type { Recommendation, TeamEvent, TeamEventListener, TeamOutcome } from './types.js';

/** The cities of one pair, settled (decideCities). */
export type PairCities = Extract<CityDecision, { kind: 'ready' }>;

/**
 * One pair's analysis, as a one-destination question gets it (analyzePair: same tools, caches and
 * limits, the turn's meter); `timings` receives its steps.
 */
export type PairRun = (cities: PairCities, profile: UserProfile, emit: TeamEventListener, timings: Record<string, number>) => Promise<Recommendation>;

export interface ComparisonResult {
  outcome: TeamOutcome;
  comparison?: Comparison;
  /** Set when one destination was asked back about: the comparison resumes with the answer. */
  pending?: PendingDestinations;
  /** Each pair's steps, keyed `<destination>:<step>`. */
  timings: Record<string, number>;
}

/** What the ranking's model call needs: the client, this turn's meter, events and stop signal. */
interface RankingCall {
  llm: LlmClient;
  meter: UsageMeter;
  model?: string;
  signal?: AbortSignal;
  emit: TeamEventListener;
  resolver: CityResolver;
}

/**
 * "Austin, Denver or Raleigh?": checks every destination first (an unclear one is asked back about,
 * alone), runs the pair analyses side by side, then one model call ranks them from their results.
 */
export async function runComparison(
  args: RankingCall & { clock: Clock; list: DestinationList; profile: UserProfile; runPair: PairRun },
): Promise<ComparisonResult> {
  const { list, resolver } = args;
  const from = list.from?.trim();
  if (!from) {
    const text = `Which city would you be moving to ${list.destinations.join(', ')} from?`;
    return { outcome: { kind: 'clarify', reason: 'missing_city', text }, timings: {} };
  }
  // Each destination is settled as it would be alone: the first unclear one is asked about, by itself.
  const settled: Array<{ cities: PairCities; profile: UserProfile }> = [];
  for (const [unclear, to] of list.destinations.entries()) {
    const profile = { ...args.profile, current_city: from, desired_city: to };
    const decision = decideCities(resolver, profile);
    if (decision.kind === 'ready') settled.push({ cities: decision, profile });
    else {
      const others = list.destinations.filter((d) => d !== to);
      const text = `${decision.text} (I'll compare it with ${others.join(' and ')} once I know.)`;
      const pending = { from, destinations: list.destinations, unclear };
      return { outcome: { kind: 'clarify', reason: decision.reason, text }, pending, timings: {} };
    }
  }

  // One plan for the whole question ("Seattle, WA → Austin, TX, Denver, CO"), not one per pair.
  const to = settled.map((d) => d.cities.to);
  args.emit({ type: 'cities_resolved', from: settled[0]!.cities.from, to: { name: to.map((c) => c.name).join(', '), display: to.map((c) => c.display).join(', ') } });
  // Only the ranking's justification streams: three pair justifications at once would interleave.
  const quiet = (e: TeamEvent) => {
    if (e.type !== 'content_delta' && e.type !== 'synthesizing') args.emit(e);
  };
  const { recommendations, failed, timings } = await runPairs(args.runPair, settled, quiet);
  const notes = [limitNote(list), failed.length ? unanalysedNote(failed) : undefined].filter((n): n is string => Boolean(n));
  if (recommendations.length === 1) {
    // One destination left: its own answer, saying what is missing, rather than a ranking of one.
    const [r] = recommendations as [Recommendation];
    const note = notes.map((n) => `_${n}_`).join('\n');
    const outcome: TeamOutcome = { kind: 'recommendation', text: `${note}\n\n${renderSummary(r)}`, recommendation: r, markdown: `${note}\n\n${renderReport(r)}` };
    return { outcome, timings };
  }
  const ranked = await rank({ ...args, recommendations });
  const comparison: Comparison = {
    from: recommendations[0]!.from,
    destinations: recommendations.map((r) => ({ to: r.to, recommendation: r })),
    ...ranked,
    ...(notes.length ? { limitNote: notes.join(' ') } : {}),
    generatedAt: new Date(args.clock.now()).toISOString(),
  };
  const top = recommendations[comparison.ranking[0]?.index ?? 0]!;
  return {
    outcome: {
      kind: 'recommendation',
      text: renderComparisonSummary(comparison),
      recommendation: top,
      markdown: renderComparisonReport(comparison),
      comparison,
    },
    comparison,
    timings,
  };
}

/**
 * The pairs side by side. A pair that cannot be analysed at all (every analyst failed) is left out
 * and named, so the others still get their answer; only when none can be analysed does the turn fail
 * (with the first pair's error, which says whether a retry may help).
 */
async function runPairs(
  runPair: PairRun,
  settled: Array<{ cities: PairCities; profile: UserProfile }>,
  emit: TeamEventListener,
): Promise<{ recommendations: Recommendation[]; failed: Array<{ city: string; reason: string }>; timings: Record<string, number> }> {
  const timings: Record<string, number> = {};
  const results = await Promise.allSettled(
    settled.map(async ({ cities, profile }) => {
      const own: Record<string, number> = {};
      try {
        return await runPair(cities, profile, emit, own);
      } finally {
        for (const [step, ms] of Object.entries(own)) timings[`${cities.to.display}:${step}`] = ms;
      }
    }),
  );
  const recommendations: Recommendation[] = [];
  const failed: Array<{ city: string; reason: string }> = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') recommendations.push(result.value);
    else failed.push({ city: settled[i]!.cities.to.display, reason: userFacingError(result.reason) });
  });
  if (recommendations.length === 0) throw (results[0] as PromiseRejectedResult).reason;
  return { recommendations, failed, timings };
}

/** "Denver, CO could not be analysed: …": said with the answer about the others. */
function unanalysedNote(failed: Array<{ city: string; reason: string }>): string {
  return failed.map((f) => `${f.city} could not be analysed this time: ${f.reason}`).join(' ');
}

/** The ranking: one model call over the pair results; its prose is grounded like any synthesis. */
async function rank(args: RankingCall & { recommendations: Recommendation[] }): Promise<Pick<Comparison, 'ranking' | 'confidence' | 'justification'>> {
  const evidence = args.recommendations.flatMap((r) =>
    r.cost.status === 'ok' ? r.cost.data.figures.map((f) => `${r.to.display} ${f.label} ${f.value} ${f.evidence}`) : [],
  );
  const source = figureSource(evidence.join('\n'));
  const justification = groundedJustification(source, (text) => args.emit({ type: 'content_delta', text }));
  args.emit({ type: 'synthesizing' });
  const { value } = await args.llm.structured({
    onPartial: justification.onPartial,
    label: 'coordinator-ranking',
    model: args.model,
    meter: args.meter,
    signal: args.signal,
    schema: RankingDraftSchema,
    schemaName: 'DestinationRanking',
    messages: [
      { role: 'system', content: COMPARISON_PROMPT },
      { role: 'user', content: rankingBrief(args.recommendations) },
    ],
  });
  justification.end();
  const draft = groundFields(value, source);
  return {
    ranking: completeRanking(args.resolver, args.recommendations, draft.ranking),
    confidence: draft.confidence_level,
    justification: draft.detailed_justification,
  };
}

function rankingBrief(recommendations: Recommendation[]): string {
  const destinations = recommendations.map((r, i) => {
    const figures = r.cost.status === 'ok' ? r.cost.data.figures.map((f) => `${f.label}: ${f.value}`).join('; ') : `unavailable (${r.cost.reason})`;
    const vibe = r.sentiment.status === 'ok' ? r.sentiment.data.analysis.overall_sentiment : 'unavailable';
    const score = r.sentiment.status === 'ok' ? r.sentiment.data.analysis.livability_score : null;
    return [
      `Destination ${i + 1}: ${r.to.display}`,
      `Pair verdict: ${r.recommendation} (confidence ${r.confidence})`,
      `Cost figures (${r.from.display} → ${r.to.display}): ${figures}`,
      `Vibe: ${vibe}${score != null ? ` (livability ${score}/10)` : ''}`,
      `For: ${r.supportingFactors.join('; ')}`,
      `Against: ${r.concerns.join('; ')}`,
    ].join('\n');
  });
  return [`User profile: ${JSON.stringify(recommendations[0]?.profile ?? {})}`, ...destinations].join('\n\n').slice(0, 30_000);
}

/**
 * The model's ranking as indexes, each destination exactly once: names it did not give (or gave twice)
 * are placed after the ones it ranked, ordered by their pair verdicts.
 */
function completeRanking(
  resolver: CityResolver,
  recommendations: Recommendation[],
  draft: Array<{ city: string; reason: string }>,
): Comparison['ranking'] {
  const out: Comparison['ranking'] = [];
  for (const entry of draft) {
    const index = recommendations.findIndex((r) => namesCity(resolver, entry.city, r.to));
    if (index >= 0 && !out.some((o) => o.index === index)) out.push({ index, reason: entry.reason });
  }
  const score = (r: Recommendation) => VERDICT_ORDER[r.recommendation] * 3 + CONFIDENCE_ORDER[r.confidence];
  const rest = recommendations
    .map((r, index) => ({ r, index }))
    .filter(({ index }) => !out.some((o) => o.index === index))
    .sort((a, b) => score(b.r) - score(a.r));
  for (const { r, index } of rest) out.push({ index, reason: r.supportingFactors[0] ?? '' });
  return out;
}

const VERDICT_ORDER: Record<Recommendation['recommendation'], number> = { move: 2, 'more research needed': 1, "don't move": 0 };
const CONFIDENCE_ORDER: Record<Recommendation['confidence'], number> = { High: 2, Medium: 1, Low: 0 };

