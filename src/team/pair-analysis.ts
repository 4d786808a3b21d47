import type { Clock } from '../clock.js';
import { TEAM } from '../constants.js';
import { describeError, MovebotError } from '../errors.js';
import type { LlmClient, UsageMeter } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import { analystFailure } from '../user-errors.js';
import { withTimeout } from '../util/timeout.js';
import { type AgentModels, type AnalystContext, observedTools, type TeamTools } from './analysts/analyst-context.js';
import { runCostAnalyst } from './analysts/cost-analyst.js';
import { runMigrationResearcher } from './analysts/migration-researcher.js';
import { runSentimentAnalyst } from './analysts/sentiment-analyst.js';
import { type FigureSource, figureSource, groundFields } from './grounding.js';
import type { CityDecision, HistoryMessage } from './intake.js';
import { createLinkPolicy, withLinkPolicy } from './links.js';
import { PROMPTS } from './prompts.js';
import { SynthesisSchema, type UserProfile } from './schemas.js';
import { groundedJustification } from './streamed-field.js';
import { collectTaxes, taxLines, taxUrls } from './taxes.js';
import type {
  AnalystId,
  CostSection,
  MigrationSection,
  Recommendation,
  RecalledMemory,
  Section,
  SentimentSection,
  TeamEventListener,
} from './types.js';

/** What one pair's analysis runs with: the team's clients and this turn's meter, timings and events. */
export interface PairAnalysisDeps {
  llm: LlmClient;
  tools: TeamTools;
  clock: Clock;
  models: AgentModels;
  meter: UsageMeter;
  /** Filled in per analyst and for the synthesis, in milliseconds. */
  timings: Record<string, number>;
  emit: TeamEventListener;
  signal?: AbortSignal;
  /** Per-analyst deadline; an analyst past it is reported unavailable, not awaited. */
  analystTimeoutMs?: number;
  logger?: Logger;
}

/** The pair to analyse and what the user told us, the only sources a figure in prose may come from. */
export interface PairAnalysisInput {
  cities: Extract<CityDecision, { kind: 'ready' }>;
  profile: UserProfile;
  message: string;
  history: HistoryMessage[];
  memories: RecalledMemory[];
}

type Sections = { cost: Section<CostSection>; sentiment: Section<SentimentSection>; migration: Section<MigrationSection> };

/**
 * One pair's recommendation: the three analysts side by side (and the state taxes, read by code),
 * their prose grounded in what the tools returned, then the coordinator's synthesis. Throws only when
 * every analyst failed.
 */
export async function analyzePair(deps: PairAnalysisDeps, input: PairAnalysisInput): Promise<Recommendation> {
  const { cities, profile } = input;
  const evidence = [input.message, ...input.history.map((m) => m.content), ...input.memories.map((m) => m.content), JSON.stringify(profile)];
  const ctx: AnalystContext = {
    ...{ llm: deps.llm, meter: deps.meter, emit: deps.emit, models: deps.models, profile, memories: input.memories },
    signal: deps.signal ?? new AbortController().signal,
    tools: observedTools(deps.tools, deps.emit, evidence),
    ...{ from: cities.from, to: cities.to, fromListed: cities.fromListed, toListed: cities.toListed, unlistedReason: cities.unlistedReason },
  };
  // State taxes are read by code alongside the analysts (src/team/taxes.ts).
  const taxesRun = collectTaxes(deps.tools.stateTaxes, cities.from, cities.to, profile.annual_income, deps.logger);
  const drafts = await runAnalysts(deps, ctx);
  const { cost } = drafts;
  if (cost.status === 'ok') evidence.push(...cost.data.figures.map((f) => `${f.value} ${f.evidence}`));
  const taxes = await taxesRun;
  const taxText = taxLines(taxes, cities.from, cities.to, profile.annual_income).join('\n');
  evidence.push(taxText);
  const source = figureSource(evidence.join('\n'));
  // The Cost Analyst grounds its own prose; these two are grounded here, before the synthesis reads them.
  // Links: only to what the tools fetched this turn (links.ts).
  const links = createLinkPolicy([...fetchedUrls(drafts), ...taxUrls(taxes)]);
  const sections: Sections = {
    cost: grounded(cost, (d) => ({ ...d, analysis: withLinkPolicy(d.analysis, links) })),
    sentiment: grounded(drafts.sentiment, (d) => ({ ...d, analysis: withLinkPolicy(groundFields(d.analysis, source), links) })),
    migration: grounded(drafts.migration, (d) => ({ ...d, insights: withLinkPolicy(groundFields(d.insights, source), links) })),
  };

  deps.emit({ type: 'synthesizing' });
  const synthStart = deps.clock.now();
  const brief = `${synthesisBrief(ctx, sections)}\n\nState taxes (Tax Foundation, estimates computed by code):\n${taxText}`;
  const draft = await synthesize(deps, brief, source, links);
  deps.timings.synthesis = deps.clock.now() - synthStart;
  // The prompt forbids new figures; models still write them. A sentence with one is dropped.
  const synthesis = withLinkPolicy(groundFields(draft, source), links);
  return {
    from: cities.from,
    to: cities.to,
    profile,
    recommendation: synthesis.recommendation,
    confidence: synthesis.confidence_level,
    supportingFactors: synthesis.key_supporting_factors,
    concerns: synthesis.key_concerns,
    justification: synthesis.detailed_justification,
    nextSteps: synthesis.next_steps,
    quotes: sections.migration.status === 'ok' ? sections.migration.data.insights.featured_quotes : [],
    memoriesUsed: synthesis.memories_used.map((n) => input.memories[n - 1]?.content).filter((m): m is string => typeof m === 'string'),
    ...sections,
    taxes,
    generatedAt: new Date(deps.clock.now()).toISOString(),
  };
}

/** The three analysts side by side: wall time follows the slowest, not the sum. */
async function runAnalysts(deps: PairAnalysisDeps, ctx: AnalystContext): Promise<Sections> {
  const [cost, sentiment, migration] = await Promise.all([
    timed(deps, 'cost-analyst', (signal) => runCostAnalyst({ ...ctx, signal })),
    timed(deps, 'sentiment-analyst', (signal) => runSentimentAnalyst({ ...ctx, signal })),
    timed(deps, 'migration-researcher', (signal) => runMigrationResearcher({ ...ctx, signal })),
  ]);
  const failed = [cost, sentiment, migration].flatMap((s) => (s.status === 'unavailable' ? [s.reason] : []));
  if (failed.length === 3) throw new MovebotError('tool_error', `every analyst failed: ${failed.join('; ')}`, { transient: true });
  return { cost, sentiment, migration };
}

/** One analyst under its deadline, its start and finish announced; a failure becomes an unavailable section. */
async function timed<T>(deps: PairAnalysisDeps, analyst: AnalystId, fn: (signal: AbortSignal) => Promise<Section<T>>): Promise<Section<T>> {
  const t0 = deps.clock.now();
  deps.emit({ type: 'analyst_started', analyst });
  // At the deadline the analyst's model calls are cancelled, not left running (and billed) unseen.
  const deadline = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, deadline.signal]) : deadline.signal;
  let result: Section<T>;
  try {
    const ms = deps.analystTimeoutMs ?? TEAM.analystTimeoutMs;
    result = await withTimeout(fn(signal), ms, () => new MovebotError('llm_timeout', `${analyst} exceeded ${ms} ms`), deadline);
  } catch (err) {
    deps.logger?.warn({ analyst, err: describeError(err) }, 'analyst failed');
    result = { status: 'unavailable', reason: analystFailure(err) };
  }
  const ms = deps.clock.now() - t0;
  deps.timings[analyst] = ms;
  deps.emit({ type: 'analyst_finished', analyst, ok: result.status === 'ok', ms, ...(result.status === 'unavailable' ? { reason: result.reason } : {}) });
  return result;
}

/** The coordinator's synthesis; its justification streams as the model writes it, grounded sentence by sentence. */
async function synthesize(deps: PairAnalysisDeps, brief: string, source: FigureSource, links: (text: string) => string) {
  const justification = groundedJustification(source, (text) => deps.emit({ type: 'content_delta', text: links(text) }));
  const { value } = await deps.llm.structured({
    onPartial: justification.onPartial,
    label: 'coordinator-synthesis',
    model: deps.models.coordinator,
    meter: deps.meter,
    signal: deps.signal,
    schema: SynthesisSchema,
    schemaName: 'FinalRecommendation',
    messages: [
      { role: 'system', content: PROMPTS.synthesis },
      { role: 'user', content: brief },
    ],
  });
  justification.end();
  return value;
}

function synthesisBrief(ctx: AnalystContext, s: Sections): string {
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
function fetchedUrls(s: Sections): string[] {
  const urls: string[] = [];
  if (s.cost.status === 'ok') urls.push(s.cost.data.sourceUrl);
  for (const section of [s.sentiment, s.migration]) {
    if (section.status === 'ok') urls.push(...section.data.sources.map((link) => link.url));
  }
  return urls;
}

function grounded<T>(section: Section<T>, ground: (data: T) => T): Section<T> {
  return section.status === 'ok' ? { status: 'ok', data: ground(section.data) } : section;
}
