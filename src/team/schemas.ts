import { z } from 'zod';
import { TaxesSectionSchema } from './taxes-schema.js';

/**
 * What the models must return. Field names follow the original system so reports and API clients
 * keep their shape; arrays default to empty so a terse model still validates.
 */
const list = () => z.array(z.string()).default([]);
const nullableNumber = () => z.number().nullable().default(null);

export const UserProfileSchema = z.object({
  current_city: z.string().nullable().default(null),
  desired_city: z.string().nullable().default(null),
  annual_income: nullableNumber(),
  monthly_expenses: nullableNumber(),
  city_preferences: list(),
  current_city_likes: list(),
  current_city_dislikes: list(),
});
export type UserProfile = z.infer<typeof UserProfileSchema>;

/** The coordinator's first step: who the user is, what they ask, and which analyses a follow-up needs. */
export const IntakeSchema = UserProfileSchema.extend({
  intent: z.enum(['compare', 'follow_up', 'other']).default('compare'),
  /** Every destination when the user names several ("Austin or Denver?"), in their order; else empty. */
  desired_cities: list(),
  follow_up_topics: z.array(z.enum(['cost', 'sentiment', 'migration', 'general'])).default([]),
});
export type Intake = z.infer<typeof IntakeSchema>;

export const CostAnalysisSchema = z.object({
  overall_cost_difference: z.string().default(''),
  housing_comparison: z.string().default(''),
  food_comparison: z.string().default(''),
  transportation_comparison: z.string().default(''),
  taxes_comparison: z.string().default(''),
  key_insights: list(),
});
export type CostAnalysis = z.infer<typeof CostAnalysisSchema>;

export const SentimentAnalysisSchema = z.object({
  overall_sentiment: z.string().default(''),
  vibe_description: z.string().default(''),
  livability_score: z.coerce.number().min(0).max(10).nullable().default(null),
  alignment_with_preferences: z.string().default(''),
  notable_pros: list(),
  notable_cons: list(),
});
export type SentimentAnalysis = z.infer<typeof SentimentAnalysisSchema>;

export const QuoteSchema = z.object({ quote: z.string().min(1), url: z.string().min(1) });
export type Quote = z.infer<typeof QuoteSchema>;

export const MigrationInsightsSchema = z.object({
  redditor_perspectives: z.string().default(''),
  featured_quotes: z.array(QuoteSchema).default([]),
  common_reasons_for_moving: list(),
  common_challenges: list(),
  common_positive_outcomes: list(),
  regrets_or_warnings: list(),
  summary: z.string().default(''),
});
export type MigrationInsightsDraft = z.infer<typeof MigrationInsightsSchema>;
export type MigrationInsights = MigrationInsightsDraft & {
  /** Counted by us from the search results, not by the model. */
  number_of_sources: number;
  reddit_insights_included: boolean;
};

export const RECOMMENDATIONS = ['move', "don't move", 'more research needed'] as const;
export type RecommendationKind = (typeof RECOMMENDATIONS)[number];

export const SynthesisSchema = z.object({
  recommendation: z.enum(RECOMMENDATIONS),
  confidence_level: z.enum(['High', 'Medium', 'Low']),
  // Written third, so the prose users watch being written starts early in the stream.
  detailed_justification: z.string().default(''),
  key_supporting_factors: list(),
  key_concerns: list(),
  next_steps: list(),
  /** Indexes into the memories shown to the model that the recommendation relied on. */
  memories_used: z.array(z.number().int()).default([]),
});
export type Synthesis = z.infer<typeof SynthesisSchema>;

/*
 * What we store: a recommendation is kept in the thread's session and on its answer message, and read
 * back on every follow-up, so it is validated when read (a renamed field fails in a test, not later).
 */

/** A city as the team understood it; `slug` is set only when NerdWallet lists it. */
export const CityRefSchema = z.object({
  name: z.string(),
  display: z.string(),
  state: z.string().optional(),
  slug: z.string().optional(),
});

/** One section of the answer: present, or unavailable with a reason the user can read. */
const section = <T extends z.ZodTypeAny>(data: T) =>
  z.discriminatedUnion('status', [
    z.object({ status: z.literal('ok'), data }),
    z.object({ status: z.literal('unavailable'), reason: z.string() }),
  ]);

export const FigureViewSchema = z.object({
  label: z.string(),
  /** e.g. "23% lower" or "$1,650". */
  value: z.string(),
  /** The sentence on the source page the value came from. */
  evidence: z.string(),
});

export const SourceLinkSchema = z.object({ title: z.string(), url: z.string() });

export const CostSectionSchema = z.object({
  analysis: CostAnalysisSchema,
  /** Figures parsed from the page, never typed by the model. */
  figures: z.array(FigureViewSchema),
  sourceUrl: z.string(),
  cached: z.boolean(),
});

export const SentimentSectionSchema = z.object({ analysis: SentimentAnalysisSchema, sources: z.array(SourceLinkSchema) });

export const MigrationSectionSchema = z.object({
  insights: MigrationInsightsSchema.extend({
    /** Counted by us from the search results, not by the model. */
    number_of_sources: z.number(),
    reddit_insights_included: z.boolean(),
  }),
  sources: z.array(SourceLinkSchema),
});

/** The whole answer to "should I move from A to B?": everything a report or chat message renders. */
export const RecommendationSchema = z.object({
  from: CityRefSchema,
  to: CityRefSchema,
  profile: UserProfileSchema,
  recommendation: z.enum(RECOMMENDATIONS),
  confidence: z.enum(['High', 'Medium', 'Low']),
  supportingFactors: z.array(z.string()),
  concerns: z.array(z.string()),
  justification: z.string(),
  nextSteps: z.array(z.string()),
  quotes: z.array(QuoteSchema),
  /** Memories the answer relied on, quoted back to the user. */
  memoriesUsed: z.array(z.string()),
  cost: section(CostSectionSchema),
  sentiment: section(SentimentSectionSchema),
  migration: section(MigrationSectionSchema),
  /** State taxes of both places; absent in recommendations stored before it existed. */
  taxes: section(TaxesSectionSchema).optional(),
  generatedAt: z.string(),
});
