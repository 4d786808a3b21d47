import type { StateTaxTool } from '../tools/state-taxes.js';
import { asksEquivalentSalary, equivalentSalaryText } from './equivalent-salary.js';
import { collectTaxes, taxLines, taxUrls } from './taxes.js';
import type { Recommendation, Section, TaxesSection } from './types.js';

/** Whether a follow-up asks about taxes or take-home pay. */
function asksAboutTaxes(message: string): boolean {
  return /\btax(?:es|ed)?\b|\btake[- ]home\b|\bafter[- ]tax\b/i.test(message);
}

/**
 * The computed part of a follow-up about taxes or the salary that keeps a lifestyle: built by code from
 * the Tax Foundation pages and NerdWallet's figures, shown as it is after the model's prose (a model
 * restating a figure may drop it; this part is always there). Undefined when the question is about
 * neither. The earlier analysis' taxes are used; missing or failed ones are looked up again (cached).
 * `urls`: the Tax Foundation pages it rests on, which the answer may link to.
 */
export async function taxFollowUp(args: {
  message: string;
  last: Recommendation;
  tool?: StateTaxTool;
  /** The asker's income (their message, profile or memories), null when unknown. */
  income: number | null;
}): Promise<{ text: string; urls: string[] } | undefined> {
  const salary = asksEquivalentSalary(args.message);
  if (!salary && !asksAboutTaxes(args.message)) return undefined;
  const { last } = args;
  let taxes: Section<TaxesSection> | undefined = last.taxes;
  const incomplete = taxes?.status !== 'ok' || taxes.data.from.status !== 'ok' || taxes.data.to.status !== 'ok';
  if (incomplete && args.tool) taxes = await collectTaxes(args.tool, last.from, last.to, args.income);
  const urls = taxUrls(taxes);
  if (salary) return { text: equivalentSalaryText(last, taxes?.status === 'ok' ? taxes.data : undefined, args.income), urls };
  if (!taxes) return undefined;
  return { text: ['**State taxes**', '', ...taxLines(taxes, last.from, last.to, args.income)].join('\n'), urls };
}
