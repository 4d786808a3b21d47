import type { z } from 'zod';
import type { Comparison } from './comparison-schema.js';
import type { AnalystIdSchema, RunEvent } from '../ports/run-events.js';
import type {
  CityRefSchema,
  CostSectionSchema,
  FigureViewSchema,
  MigrationSectionSchema,
  RecommendationSchema,
  SentimentSectionSchema,
  SourceLinkSchema,
} from './schemas.js';
import type { StateTaxSchema, TaxesSectionSchema } from './taxes-schema.js';

export type AnalystId = z.infer<typeof AnalystIdSchema>;

export const ANALYSTS: Record<AnalystId, { name: string; role: string }> = {
  'cost-analyst': { name: 'Cost Analyst', role: "NerdWallet's cost-of-living comparison, scraped through Firecrawl" },
  'sentiment-analyst': { name: 'Sentiment Analyst', role: "The city's vibe, culture and fit with your preferences" },
  'migration-researcher': { name: 'Migration Researcher', role: 'What people who made the move say on Reddit' },
};

export type CityRef = z.infer<typeof CityRefSchema>;
export type FigureView = z.infer<typeof FigureViewSchema>;
export type SourceLink = z.infer<typeof SourceLinkSchema>;
export type CostSection = z.infer<typeof CostSectionSchema>;
export type SentimentSection = z.infer<typeof SentimentSectionSchema>;
export type MigrationSection = z.infer<typeof MigrationSectionSchema>;
export type Recommendation = z.infer<typeof RecommendationSchema>;
export type TaxesSection = z.infer<typeof TaxesSectionSchema>;
export type StateTax = z.infer<typeof StateTaxSchema>;

/** One section of the answer: present, or unavailable with a reason the user can read. */
export type Section<T> = { status: 'ok'; data: T } | { status: 'unavailable'; reason: string };

/** What a turn produced. */
export type TeamOutcome =
  | { kind: 'clarify'; text: string; reason: 'missing_city' | 'ambiguous_city' }
  /** With `comparison` (several destinations): `recommendation` is the top-ranked pair, `text` and `markdown` the comparison's. */
  | { kind: 'recommendation'; text: string; recommendation: Recommendation; markdown: string; comparison?: Comparison }
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
