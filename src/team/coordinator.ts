import type { Clock } from '../clock.js';
import { TEAM } from '../constants.js';
import { describeError, MovebotError } from '../errors.js';
import type { LlmClient } from '../llm/llm-client.js';
import { createUsageMeter } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { TokenUsage } from '../ports/session-store.js';
import { type CityResolver, normaliseCityText } from '../tools/city-resolver.js';
import { analystFailure } from '../user-errors.js';
import { withTimeout } from '../util/timeout.js';
import { type AgentModels, type AnalystContext, observedTools, type TeamTools } from './analysts/analyst-context.js';
import { runCostAnalyst } from './analysts/cost-analyst.js';
import { runMigrationResearcher } from './analysts/migration-researcher.js';
import { runSentimentAnalyst } from './analysts/sentiment-analyst.js';
import { answerFollowUp, type KnowledgeLookup } from './follow-up.js';
import { createGrounder, figureSource, groundFields } from './grounding.js';
import { runComparison, withPairRuns } from './comparison.js';
import { namedPair, pairIntake, readDestinations, resumeDestinations } from './destinations.js';
import { decideCities, type HistoryMessage, mergeProfile, runIntake } from './intake.js';
import { createLinkPolicy, withLinkPolicy } from './links.js';
import { PROMPTS } from './prompts.js';
import { renderReport, renderSummary } from './report.js';
import { SynthesisSchema } from './schemas.js';
import { streamedField } from './streamed-field.js';
import { collectTaxes, taxLines, taxUrls } from './taxes.js';
import { profileFor, type TeamState, withProfile } from './thread-state.js';
import type {
  AnalystId,
  CityRef,
  CostSection,
  MigrationSection,
  Recommendation,
  RecalledMemory,
  Section,
  SentimentSection,
  TeamEventListener,
  TeamOutcome,
} from './types.js';

export type { TeamState } from './thread-state.js';

export interface TeamRunInput {
  message: string;
  /** Earlier messages of this thread, oldest first, without the new one. */
  history: HistoryMessage[];
  state: TeamState;
  /** Who asks: their profile is kept apart from everyone else's in the thread. */
  userId: string;
  /** The asking user's memories only. */
  memories: RecalledMemory[];
  signal?: AbortSignal;
  emit?: TeamEventListener;
  /** Set by a several-destination turn for each of its pairs: these cities, no intake call. */
  pair?: { from: string; to: string };
}

export interface TeamRunResult {
  outcome: TeamOutcome;
  state: TeamState;
  usage: TokenUsage;
  costUsd: number;
  /** Milliseconds per analyst and step, plus `total`. */
  timings: Record<string, number>;
}

export interface Team {
  /** Runs one turn of the conversation. Throws only when no useful answer can be given at all. */
  run(input: TeamRunInput): Promise<TeamRunResult>;
}

export interface TeamOptions {
  llm: LlmClient;
  tools: TeamTools;
  resolver: CityResolver;
  clock: Clock;
  models?: AgentModels;
  knowledge?: KnowledgeLookup;
  /** Per-analyst deadline; an analyst past it is reported unavailable, not awaited. */
  analystTimeoutMs?: number;
  logger?: Logger;
}

/** The Team Coordinator: intake, clarifying questions, three concurrent analysts, synthesis, follow-ups. */
export function createTeam(options: TeamOptions): Team {
  const models = options.models ?? {};
  const clock = options.clock;

  const team: Team = {
    async run(input) {
      const started = clock.now();
      const meter = createUsageMeter();
      const timings: Record<string, number> = {};
      const emit: TeamEventListener = (e) => input.emit?.(e);
      const done = (outcome: TeamOutcome, state: TeamState): TeamRunResult => {
        timings.total = clock.now() - started;
        return { outcome, state, usage: meter.usage, costUsd: meter.costUsd, timings };
      };

      const { userId, state } = input;
      const ownProfile = profileFor(state, userId);
      const intake = input.pair ? pairIntake(input.pair) : await runIntake({
        llm: options.llm,
        meter,
        model: models.coordinator,
        signal: input.signal,
        message: input.message,
        history: input.history,
        previousProfile: ownProfile,
        memories: input.memories,
        resolver: options.resolver,
      });
      timings.intake = clock.now() - started;
      const list = input.pair
        ? undefined
        : (readDestinations(options.resolver, input.message, intake) ??
          resumeDestinations(options.resolver, state.pendingDestinations, input.message, intake));
      if (list) {
        const profile = mergeProfile(ownProfile, { ...intake, current_city: list.from, desired_city: list.destinations[0] ?? null });
        const result = await runComparison({
          ...{ llm: options.llm, meter, model: models.coordinator, signal: input.signal, emit, resolver: options.resolver, clock },
          list,
          profile,
          runPair: (from, to, pairEmit) => team.run({ ...input, pair: { from, to }, state: { profiles: state.profiles }, emit: pairEmit }),
        });
        const { comparison, outcome } = result;
        // The thread's destination is the top-ranked one, the pair a follow-up naming none is about.
        const top = comparison && outcome.kind === 'recommendation' ? outcome.recommendation.to.display : profile.desired_city;
        const next = { ...withProfile(state, userId, { ...profile, desired_city: top }), pendingDestinations: result.pending };
        const after = comparison && outcome.kind === 'recommendation' ? { ...next, last: outcome.recommendation, lastFor: userId, comparison } : next;
        return withPairRuns(done(outcome, after), result);
      }
      // After a several-destination answer, a follow-up naming one of them is about that pair.
      const last = namedPair(options.resolver, state.comparison, input.message, intake) ?? state.last;
      const sameCities =
        last &&
        isSameCity(options.resolver, intake.current_city, last.from) &&
        isSameCity(options.resolver, intake.desired_city, last.to);

      if (last && sameCities && intake.intent !== 'compare') {
        const text = await answerFollowUp({
          llm: options.llm,
          meter,
          model: models.coordinator,
          signal: input.signal,
          emit,
          tools: options.tools,
          resolver: options.resolver,
          knowledge: options.knowledge,
          intake,
          income: mergeProfile(ownProfile, intake).annual_income,
          last,
          lastIsTheirs: state.lastFor === userId,
          message: input.message,
          history: input.history,
          memories: input.memories,
        });
        return done({ kind: 'answer', text }, withProfile(state, userId, mergeProfile(ownProfile, intake)));
      }

      // A new comparison replaces the cities but keeps what we learned about the person.
      const profile = mergeProfile(ownProfile, {
        ...intake,
        current_city: intake.current_city ?? (last ? null : ownProfile?.current_city ?? null),
        desired_city: intake.desired_city ?? (last ? null : ownProfile?.desired_city ?? null),
      });
      const decision = decideCities(options.resolver, profile);
      if (decision.kind === 'clarify') {
        return done({ kind: 'clarify', text: decision.text, reason: decision.reason }, withProfile(state, userId, profile));
      }
      emit({ type: 'cities_resolved', from: decision.from, to: decision.to });

      // What the user said and what the tools return: the only places a figure in model prose may come from.
      const evidence = [
        input.message,
        ...input.history.map((m) => m.content),
        ...input.memories.map((m) => m.content),
        JSON.stringify(profile),
      ];
      const ctx: AnalystContext = {
        llm: options.llm,
        meter,
        signal: input.signal ?? new AbortController().signal,
        emit,
        tools: observedTools(options.tools, emit, evidence),
        models,
        from: decision.from,
        to: decision.to,
        fromListed: decision.fromListed,
        toListed: decision.toListed,
        unlistedReason: decision.unlistedReason,
        profile,
        memories: input.memories,
      };
      // State taxes are read by code alongside the analysts (src/team/taxes.ts).
      const taxesRun = collectTaxes(options.tools.stateTaxes, decision.from, decision.to, profile.annual_income, options.logger);
      // Independent analyses run side by side: wall time follows the slowest, not the sum.
      const [cost, sentimentDraft, migrationDraft] = await Promise.all([
        timed('cost-analyst', (signal) => runCostAnalyst({ ...ctx, signal })),
        timed('sentiment-analyst', (signal) => runSentimentAnalyst({ ...ctx, signal })),
        timed('migration-researcher', (signal) => runMigrationResearcher({ ...ctx, signal })),
      ]);
      const sections = [cost, sentimentDraft, migrationDraft];
      if (sections.every((s) => s.status === 'unavailable')) {
        throw new MovebotError('tool_error', `every analyst failed: ${sections.map((s) => (s as { reason: string }).reason).join('; ')}`, {
          transient: true,
        });
      }

      if (cost.status === 'ok') evidence.push(...cost.data.figures.map((f) => `${f.value} ${f.evidence}`));
      const taxes = await taxesRun;
      const taxText = taxLines(taxes, decision.from, decision.to, profile.annual_income).join('\n');
      evidence.push(taxText);
      const source = figureSource(evidence.join('\n'));
      // The Cost Analyst grounds its own prose; these two are grounded here, before the synthesis reads them.
      // Links: only to what the tools fetched this turn (links.ts).
      const links = createLinkPolicy([...fetchedUrls(cost, sentimentDraft, migrationDraft), ...taxUrls(taxes)]);
      const sentiment = grounded(sentimentDraft, (d) => ({
        ...d,
        analysis: withLinkPolicy(groundFields(d.analysis, source), links),
      }));
      const migration = grounded(migrationDraft, (d) => ({
        ...d,
        insights: withLinkPolicy(groundFields(d.insights, source), links),
      }));
      if (cost.status === 'ok') cost.data.analysis = withLinkPolicy(cost.data.analysis, links);

      emit({ type: 'synthesizing' });
      const synthStart = clock.now();
      // The justification streams as the model writes it, grounded sentence by sentence like the final text.
      const grounder = createGrounder(source);
      const show = (text: string) => {
        if (text) emit({ type: 'content_delta', text: links(text) });
      };
      const { value: draft } = await options.llm.structured({
        onPartial: streamedField(
          'detailed_justification',
          (delta) => show(grounder.push(delta)),
          () => show(grounder.end()),
        ),
        label: 'coordinator-synthesis',
        model: models.coordinator,
        meter,
        signal: input.signal,
        schema: SynthesisSchema,
        schemaName: 'FinalRecommendation',
        messages: [
          { role: 'system', content: PROMPTS.synthesis },
          { role: 'user', content: `${synthesisBrief(ctx, { cost, sentiment, migration })}\n\nState taxes (Tax Foundation, estimates computed by code):\n${taxText}` },
        ],
      });
      show(grounder.end());
      timings.synthesis = clock.now() - synthStart;
      // The prompt forbids new figures; models still write them. A sentence with one is dropped.
      const synthesis = withLinkPolicy(groundFields(draft, source), links);

      const recommendation: Recommendation = {
        from: decision.from,
        to: decision.to,
        profile,
        recommendation: synthesis.recommendation,
        confidence: synthesis.confidence_level,
        supportingFactors: synthesis.key_supporting_factors,
        concerns: synthesis.key_concerns,
        justification: synthesis.detailed_justification,
        nextSteps: synthesis.next_steps,
        quotes: migration.status === 'ok' ? migration.data.insights.featured_quotes : [],
        memoriesUsed: synthesis.memories_used
          .map((n) => input.memories[n - 1]?.content)
          .filter((m): m is string => typeof m === 'string'),
        cost,
        sentiment,
        migration,
        taxes,
        generatedAt: new Date(clock.now()).toISOString(),
      };
      const outcome: TeamOutcome = {
        kind: 'recommendation',
        text: renderSummary(recommendation),
        recommendation,
        markdown: renderReport(recommendation),
      };
      return done(outcome, { ...withProfile(state, userId, profile), last: recommendation, lastFor: userId, comparison: undefined, pendingDestinations: undefined });

      async function timed<T>(
        analyst: AnalystId,
        fn: (signal: AbortSignal) => Promise<Section<T>>,
      ): Promise<Section<T>> {
        const t0 = clock.now();
        emit({ type: 'analyst_started', analyst });
        // At the deadline the analyst's model calls are cancelled, not left running (and billed) unseen.
        const deadline = new AbortController();
        const signal = input.signal ? AbortSignal.any([input.signal, deadline.signal]) : deadline.signal;
        let result: Section<T>;
        try {
          const ms = options.analystTimeoutMs ?? TEAM.analystTimeoutMs;
          result = await withTimeout(fn(signal), ms, () => new MovebotError('llm_timeout', `${analyst} exceeded ${ms} ms`), deadline);
        } catch (err) {
          options.logger?.warn({ analyst, err: describeError(err) }, 'analyst failed');
          result = { status: 'unavailable', reason: analystFailure(err) };
        }
        const ms = clock.now() - t0;
        timings[analyst] = ms;
        emit({
          type: 'analyst_finished',
          analyst,
          ok: result.status === 'ok',
          ms,
          ...(result.status === 'unavailable' ? { reason: result.reason } : {}),
        });
        return result;
      }
    },
  };
  return team;
}

function synthesisBrief(
  ctx: AnalystContext,
  s: { cost: Section<unknown>; sentiment: Section<unknown>; migration: Section<unknown> },
): string {
  const show = (name: string, sec: Section<unknown>) =>
    sec.status === 'ok' ? `${name}:\n${JSON.stringify(sec.data)}` : `${name}: UNAVAILABLE (${sec.reason})`;
  const memories = ctx.memories.map((m, i) => `[${i + 1}] ${m.content}`).join('\n');
  return [
    `User profile: ${JSON.stringify(ctx.profile)}`,
    memories ? `Remembered facts about the user (cite by number in memories_used):\n${memories}` : '',
    show('Cost Analyst findings', s.cost),
    show('Sentiment Analyst findings', s.sentiment),
    show('Migration Researcher findings (quotes are from untrusted forum posts)', s.migration),
  ]
    .filter(Boolean)
    .join('\n\n')
    .slice(0, 30_000);
}


/** Every page the analysts' tools returned: the only addresses an answer may link to. */
function fetchedUrls(...sections: Array<Section<CostSection> | Section<SentimentSection> | Section<MigrationSection>>): string[] {
  const urls: string[] = [];
  for (const s of sections) {
    if (s.status !== 'ok') continue;
    const data = s.data as Partial<CostSection & SentimentSection & MigrationSection>;
    if (data.sourceUrl) urls.push(data.sourceUrl);
    for (const link of data.sources ?? []) urls.push(link.url);
  }
  return urls;
}

function grounded<T>(section: Section<T>, ground: (data: T) => T): Section<T> {
  return section.status === 'ok' ? { status: 'ok', data: ground(section.data) } : section;
}

/**
 * Whether a city the intake read is the one already analysed (no city read: nothing changed). Both
 * sides go through the resolver, so "NYC" is New York (Manhattan) and "Salem" is not Winston-Salem.
 */
function isSameCity(resolver: CityResolver, asked: string | null, known: CityRef): boolean {
  if (!asked?.trim()) return true;
  const r = resolver.resolve(asked);
  // A city NerdWallet does not list has no slug to compare; its name is all there is.
  if (!known.slug) return r.kind !== 'found' && normaliseCityText(asked) === normaliseCityText(known.name);
  if (r.kind === 'found') return r.city.url_format === known.slug;
  // "Portland" in a thread about Portland, OR means that Portland.
  return r.kind === 'ambiguous' && r.candidates.some((c) => c.url_format === known.slug);
}
