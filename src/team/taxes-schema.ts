import { z } from 'zod';

/** What a stored recommendation keeps of a state's Tax Foundation page (see src/tools/state-taxes.ts). */
const RateSchema = z.object({ rate: z.number(), evidence: z.string() });

const IncomeTaxSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none'), evidence: z.string() }),
  z.object({ kind: z.literal('flat'), rate: z.number(), evidence: z.string() }),
  z.object({
    kind: z.literal('graduated'),
    low: z.number(),
    high: z.number(),
    evidence: z.string(),
    brackets: z.array(z.object({ rate: z.number(), over: z.number(), evidence: z.string() })).default([]),
  }),
]);

export const StateTaxSchema = z.object({
  code: z.string(),
  state: z.string(),
  url: z.string(),
  fetchedAt: z.string(),
  cached: z.boolean(),
  incomeTax: IncomeTaxSchema.optional(),
  stateSalesTax: RateSchema.optional(),
  combinedSalesTax: RateSchema.optional(),
  propertyTax: RateSchema.optional(),
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
