import { z } from 'zod';
import { StateTaxFiguresSchema } from '../tools/state-tax-extraction.js';

/** What a stored recommendation keeps of a state's Tax Foundation page (see src/tools/state-taxes.ts). */
export const StateTaxSchema = StateTaxFiguresSchema.extend({
  code: z.string(),
  state: z.string(),
  url: z.string(),
  fetchedAt: z.string(),
  cached: z.boolean(),
});

const stateSection = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), data: StateTaxSchema }),
  z.object({ status: z.literal('unavailable'), reason: z.string(), url: z.string().optional() }),
]);

/** Both places' state taxes; each side may be unavailable on its own. */
export const TaxesSectionSchema = z.object({
  from: stateSection,
  to: stateSection,
  /** The income the estimates use, when the user gave one. */
  annualIncome: z.number().nullable(),
});
