import { UserProfileSchema } from '../../src/team/schemas.js';
import type { Recommendation } from '../../src/team/types.js';

/** A complete recommendation (Seattle → Austin, one section unavailable) for tests that render or store one. */
export function recommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  return {
    from: { name: 'seattle', display: 'Seattle, WA', slug: 'seattle-wa' },
    to: { name: 'austin', display: 'Austin, TX', slug: 'austin-tx' },
    profile: UserProfileSchema.parse({}),
    recommendation: 'move',
    confidence: 'Medium',
    supportingFactors: ['Housing is **much** cheaper', 'No state income tax'],
    concerns: ['Summers are hot', 'Car-dependent'],
    justification:
      'Costs drop sharply while pay stays similar for remote work. See [the data](https://www.nerdwallet.com/x).',
    nextSteps: ['Visit in August', 'Compare neighbourhoods'],
    quotes: [
      { quote: 'Best move I ever made <!channel>', url: 'https://www.reddit.com/r/Austin/comments/abc' },
      { quote: 'Rent went down by a third', url: 'https://www.reddit.com/r/Seattle/comments/def' },
    ],
    memoriesUsed: [],
    cost: {
      status: 'ok',
      data: {
        analysis: {
          overall_cost_difference: 'Austin is about 23% cheaper overall.',
          housing_comparison: '',
          food_comparison: '',
          transportation_comparison: '',
          taxes_comparison: '',
          key_insights: [],
        },
        figures: [
          { label: 'Overall', value: '23% lower', evidence: 'x' },
          { label: 'Housing', value: '41% lower', evidence: 'y' },
          { label: 'Median rent', value: '$1,650', evidence: 'z' },
        ],
        sourceUrl: 'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx',
        cached: false,
      },
    },
    sentiment: {
      status: 'ok',
      data: {
        analysis: {
          overall_sentiment: 'Upbeat and growing.',
          vibe_description: 'Live music, tacos, tech.',
          livability_score: 7,
          alignment_with_preferences: 'Fits a remote worker.',
          notable_pros: [],
          notable_cons: [],
        },
        sources: [],
      },
    },
    migration: { status: 'unavailable', reason: 'Brave Search did not answer' },
    generatedAt: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}
