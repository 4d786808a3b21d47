import { z } from 'zod';
import { CityRefSchema, RecommendationSchema } from './schemas.js';

/** What the ranking model call returns: every destination once, best first, each with its reason. */
export const RankingDraftSchema = z.object({
  ranking: z.array(z.object({ city: z.string(), reason: z.string().default('') })).default([]),
  confidence_level: z.enum(['High', 'Medium', 'Low']),
  detailed_justification: z.string().default(''),
});

/**
 * The answer to "Austin, Denver or Raleigh?" from one origin: each destination's own pair analysis,
 * unchanged, and the ranking across them. Kept in the thread's session and on the answer message, so
 * it is validated when read back (a follow-up about "Denver's weather" reads its pair from here).
 */
export const ComparisonSchema = z.object({
  from: CityRefSchema,
  /** In the order the user named them. */
  destinations: z.array(z.object({ to: CityRefSchema, recommendation: RecommendationSchema })).min(2),
  /** Indexes into `destinations`, best first, each with the reason for its place. */
  ranking: z.array(z.object({ index: z.number().int().min(0), reason: z.string() })),
  confidence: z.enum(['High', 'Medium', 'Low']),
  justification: z.string(),
  /** Said with the answer: destinations left out (more than one question compares, or none of their analysts could answer). */
  limitNote: z.string().optional(),
  generatedAt: z.string(),
});
export type Comparison = z.infer<typeof ComparisonSchema>;

/** A comparison waiting on the user's answer about one unclear destination (`unclear` indexes `destinations`). */
export const PendingDestinationsSchema = z.object({
  from: z.string(),
  destinations: z.array(z.string()).min(2),
  unclear: z.number().int().min(0),
});
export type PendingDestinations = z.infer<typeof PendingDestinationsSchema>;
