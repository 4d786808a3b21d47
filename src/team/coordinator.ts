import type { Clock } from '../clock.js';
import type { LlmClient } from '../llm/llm-client.js';
import { createUsageMeter, type UsageMeter } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { TokenUsage } from '../ports/session-store.js';
import type { CityResolver } from '../tools/city-resolver.js';
import type { AgentModels, TeamTools } from './analysts/analyst-context.js';
import { runComparison } from './comparison.js';
import { type DestinationList, namedPair, namesCity, readDestinations, resumeDestinations } from './destinations.js';
import { answerFollowUp, type KnowledgeLookup } from './follow-up.js';
import { decideCities, type HistoryMessage, mergeProfile, runIntake } from './intake.js';
import { analyzePair } from './pair-analysis.js';
import type { Intake } from './schemas.js';
import { renderReport, renderSummary } from './report.js';
import { profileFor, type TeamState, withProfile } from './thread-state.js';
import type { CityRef, RecalledMemory, TeamEventListener, TeamOutcome } from './types.js';

export type { TeamState } from './thread-state.js';

/** One turn's usage meter, event listener and finish (which stamps the total time). */
interface TurnScope {
  meter: UsageMeter;
  /** Milliseconds per step, stamped with `total` by `done`. */
  timings: Record<string, number>;
  emit: TeamEventListener;
  done: (outcome: TeamOutcome, state: TeamState) => TeamRunResult;
}

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
      const intake = await runIntake({
        ...{ llm: options.llm, meter, model: models.coordinator, signal: input.signal, resolver: options.resolver },
        ...{ message: input.message, history: input.history, previousProfile: ownProfile, memories: input.memories },
      });
      timings.intake = clock.now() - started;
      const list =
        readDestinations(options.resolver, input.message, intake) ??
        resumeDestinations(options.resolver, state.pendingDestinations, input.message, intake);
      if (list) return compareSeveral(input, { meter, timings, emit, done }, intake, list);
      // After a several-destination answer, a follow-up naming one of them is about that pair.
      const last = namedPair(options.resolver, state.comparison, input.message, intake) ?? state.last;
      const sameCities =
        last &&
        isSameCity(options.resolver, intake.current_city, last.from) &&
        isSameCity(options.resolver, intake.desired_city, last.to);

      if (last && sameCities && intake.intent !== 'compare') {
        const profile = mergeProfile(ownProfile, intake);
        const text = await answerFollowUp({
          ...{ llm: options.llm, meter, model: models.coordinator, signal: input.signal, emit, tools: options.tools },
          ...{ resolver: options.resolver, knowledge: options.knowledge, intake, income: profile.annual_income, last },
          ...{ lastIsTheirs: state.lastFor === userId, message: input.message, history: input.history, memories: input.memories },
        });
        return done({ kind: 'answer', text }, withProfile(state, userId, profile));
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
      const recommendation = await analyzePair(
        { ...options, models, meter, timings, emit, signal: input.signal },
        { cities: decision, profile, message: input.message, history: input.history, memories: input.memories },
      );
      const outcome: TeamOutcome = {
        kind: 'recommendation',
        text: renderSummary(recommendation),
        recommendation,
        markdown: renderReport(recommendation),
      };
      return done(outcome, { ...withProfile(state, userId, profile), last: recommendation, lastFor: userId, comparison: undefined, pendingDestinations: undefined });
    },
  };

  /** "Austin, Denver or Raleigh?": each pair analysed side by side on this turn's meter, then one ranking (comparison.ts). */
  async function compareSeveral(input: TeamRunInput, turn: TurnScope, intake: Intake, list: DestinationList): Promise<TeamRunResult> {
    const { userId, state } = input;
    const profile = mergeProfile(profileFor(state, userId), { ...intake, current_city: list.from, desired_city: list.destinations[0] ?? null });
    const result = await runComparison({
      ...{ llm: options.llm, meter: turn.meter, model: models.coordinator, signal: input.signal, emit: turn.emit, resolver: options.resolver, clock },
      list,
      profile,
      runPair: (cities, pairProfile, emit, timings) =>
        analyzePair(
          { ...options, models, meter: turn.meter, timings, emit, signal: input.signal },
          { cities, profile: pairProfile, message: input.message, history: input.history, memories: input.memories },
        ),
    });
    Object.assign(turn.timings, result.timings);
    const { comparison, outcome } = result;
    // The thread's destination is the top-ranked one, the pair a follow-up naming none is about.
    // (With one destination left, that pair alone, and no comparison.)
    const top = outcome.kind === 'recommendation' ? outcome.recommendation.to.display : profile.desired_city;
    const next = { ...withProfile(state, userId, { ...profile, desired_city: top }), pendingDestinations: result.pending };
    const after = outcome.kind === 'recommendation' ? { ...next, last: outcome.recommendation, lastFor: userId, comparison } : next;
    return turn.done(outcome, after);
  }
  return team;
}

/** Whether a city the intake read is the one already analysed (no city read: nothing changed). */
function isSameCity(resolver: CityResolver, asked: string | null, known: CityRef): boolean {
  return !asked?.trim() || namesCity(resolver, asked, known);
}
