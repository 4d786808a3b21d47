import type { z } from 'zod';
import type { AnalystIdSchema, RunEvent } from '../ports/run-events.js';
import type { CostAnalysis, MigrationInsights, Quote, RecommendationKind, SentimentAnalysis, UserProfile } from './schemas.js';

export type AnalystId = z.infer<typeof AnalystIdSchema>;

export const ANALYSTS: Record<AnalystId, { name: string; role: string }> = {
  'cost-analyst': { name: 'Cost Analyst', role: "NerdWallet's cost-of-living comparison, scraped through Firecrawl" },
  'sentiment-analyst': { name: 'Sentiment Analyst', role: "The city's vibe, culture and fit with your preferences" },
  'migration-researcher': { name: 'Migration Researcher', role: 'What people who made the move say on Reddit' },
};

/** A city as the team understood it; `slug` is set only when NerdWallet lists it. */
export interface CityRef {
  name: string;
  display: string;
  state?: string;
  slug?: string;
}

/** One section of the answer: present, or unavailable with a reason the user can read. */
export type Section<T> = { status: 'ok'; data: T } | { status: 'unavailable'; reason: string };

export interface FigureView {
  label: string;
  /** e.g. "23% lower" or "$1,650". */
  value: string;
  /** The sentence on the source page the value came from. */
  evidence: string;
}

export interface CostSection {
  analysis: CostAnalysis;
  /** Figures parsed from the page, never typed by the model. */
  figures: FigureView[];
  sourceUrl: string;
  cached: boolean;
}

export interface SourceLink {
  title: string;
  url: string;
}

export interface SentimentSection {
  analysis: SentimentAnalysis;
  sources: SourceLink[];
}

export interface MigrationSection {
  insights: MigrationInsights;
  sources: SourceLink[];
}

/** The whole answer to "should I move from A to B?": everything a report or chat message renders. */
export interface Recommendation {
  from: CityRef;
  to: CityRef;
  profile: UserProfile;
  recommendation: RecommendationKind;
  confidence: 'High' | 'Medium' | 'Low';
  supportingFactors: string[];
  concerns: string[];
  justification: string;
  nextSteps: string[];
  quotes: Quote[];
  /** Memories the answer relied on, quoted back to the user. */
  memoriesUsed: string[];
  cost: Section<CostSection>;
  sentiment: Section<SentimentSection>;
  migration: Section<MigrationSection>;
  generatedAt: string;
}

/** What a turn produced. */
export type TeamOutcome =
  | { kind: 'clarify'; text: string; reason: 'missing_city' | 'ambiguous_city' }
  | { kind: 'recommendation'; text: string; recommendation: Recommendation; markdown: string }
  | { kind: 'answer'; text: string };

/**
 * What the team says while it works: the middle of a run's events (src/ports/run-events.ts); the turn
 * runner adds the run's start and end around them.
 */
export type TeamEvent = Extract<
  RunEvent,
  {
    type:
      | 'cities_resolved'
      | 'analyst_started'
      | 'analyst_finished'
      | 'tool_call_started'
      | 'tool_call_completed'
      | 'synthesizing'
      | 'content_delta';
  }
>;

export type TeamEventListener = (event: TeamEvent) => void;

/** A memory shown to the team: content only, already scoped to the asking user. */
export interface RecalledMemory {
  id: string;
  content: string;
  topic: string;
}
