import { z } from 'zod';
import { cellsOf, isGrounded, isOnPage, normaliseForGrounding, readableLines, segmentsOf } from './cost-extraction.js';
import { STATES } from './us-states.js';

/**
 * Deterministic reading of a Tax Foundation state page (https://taxfoundation.org/location/<state>/).
 * Like the NerdWallet reader, every rate carries the sentence or table row it came from, and a rate
 * whose evidence is not literally on the page, stating that number, is dropped.
 */

/** A rate in percent, with the page text that states it. */
const TaxRateSchema = z.object({ rate: z.number(), evidence: z.string() });

/** One income bracket: `rate` percent on income above `over` dollars (single filer). */
const TaxBracketSchema = z.object({ rate: z.number(), over: z.number(), evidence: z.string() });

const IncomeTaxSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none'), evidence: z.string() }),
  z.object({ kind: z.literal('flat'), rate: z.number(), evidence: z.string() }),
  z.object({ kind: z.literal('graduated'), low: z.number(), high: z.number(), evidence: z.string(), brackets: z.array(TaxBracketSchema).default([]) }),
]);

/** What a state page says, as read (and as stored with a recommendation: src/team/taxes-schema.ts). */
export const StateTaxFiguresSchema = z.object({
  incomeTax: IncomeTaxSchema.optional(),
  stateSalesTax: TaxRateSchema.optional(),
  /** State plus average local sales tax. */
  combinedSalesTax: TaxRateSchema.optional(),
  /** Effective property tax rate on owner-occupied homes. */
  propertyTax: TaxRateSchema.optional(),
});

export type TaxRate = z.infer<typeof TaxRateSchema>;
export type TaxBracket = z.infer<typeof TaxBracketSchema>;
export type IncomeTax = z.infer<typeof IncomeTaxSchema>;
export type StateTaxFigures = z.infer<typeof StateTaxFiguresSchema>;

/** https://taxfoundation.org/location/<state-name-slug>/ for a postal code, or undefined for an unknown one. */
export function taxFoundationUrl(code: string): string | undefined {
  const name = STATES[code.toUpperCase()];
  if (!name) return undefined;
  return `https://taxfoundation.org/location/${name.toLowerCase().replace(/[^a-z]+/g, '-')}/`;
}

const NUM = String.raw`(\d+(?:\.\d+)?)\s?(?:%|percent\b)`;
const NO_INCOME_TAX =
  /\b(?:does not|doesn't|do not) (?:have|levy|impose) an? (?:state )?(?:individual )?income tax\b|\b(?:has|levies) no (?:state )?(?:individual )?income tax\b|\bno (?:state )?individual income tax\b/i;
const FLAT = new RegExp(String.raw`\bflat ${NUM} (?:state )?individual income tax`, 'i');
const GRADUATED = new RegExp(String.raw`\bgraduated (?:state )?individual income tax[^.]*?from ${NUM} to ${NUM}`, 'i');
const STATE_SALES = new RegExp(`${NUM} state sales tax rate`, 'i');
const NO_SALES = /\b(?:does not|doesn't) (?:have|levy) a state sales tax\b|\bhas no state sales tax\b/i;
const COMBINED = new RegExp(`average combined state and local sales tax rate of ${NUM}`, 'i');
const PROPERTY = new RegExp(`${NUM} effective property tax rate`, 'i');
const PERCENT_CELL = /^(\d+(?:\.\d+)?)\s?%$/;
const DOLLAR_CELL = /\$\s?(\d{1,3}(?:,\d{3})+|\d+)/;

/** Reads the state's income, sales and property tax from the page's Markdown; absent what the page does not say. */
export function extractStateTaxes(markdown: string): StateTaxFigures {
  const out: StateTaxFigures = {};
  const brackets: TaxBracket[] = [];
  for (const seg of segmentsOf(readableLines(markdown))) {
    const { text } = seg;
    if (seg.header) {
      const bracket = bracketRow(seg.header, text);
      if (bracket) brackets.push(bracket);
      continue;
    }
    out.incomeTax ??= incomeTaxIn(text);
    out.stateSalesTax ??= rateIn(STATE_SALES, text) ?? (NO_SALES.test(text) ? { rate: 0, evidence: text } : undefined);
    out.combinedSalesTax ??= rateIn(COMBINED, text);
    out.propertyTax ??= rateIn(PROPERTY, text);
  }
  if (out.incomeTax?.kind === 'graduated') out.incomeTax.brackets = brackets.sort((a, b) => a.over - b.over);
  return groundStateTaxes(out, markdown);
}

function rateIn(re: RegExp, text: string): TaxRate | undefined {
  const m = re.exec(text);
  return m ? { rate: num(m[1]), evidence: text } : undefined;
}

function incomeTaxIn(text: string): IncomeTax | undefined {
  const graduated = GRADUATED.exec(text);
  if (graduated) return { kind: 'graduated', low: num(graduated[1]), high: num(graduated[2]), evidence: text, brackets: [] };
  const flat = FLAT.exec(text);
  if (flat) return { kind: 'flat', rate: num(flat[1]), evidence: text };
  return NO_INCOME_TAX.test(text) ? { kind: 'none', evidence: text } : undefined;
}

/** A row of a "Rate | Bracket" table: "| 4.00% | $0 |" → 4% over $0. */
function bracketRow(header: string[], row: string): TaxBracket | undefined {
  const rateCol = header.findIndex((h) => /\brate\b/i.test(h));
  const overCol = header.findIndex((h) => /\b(bracket|income|over|taxable)\b/i.test(h));
  if (rateCol < 0 || overCol < 0) return undefined;
  const cells = cellsOf(row);
  const rate = PERCENT_CELL.exec(cells[rateCol] ?? '');
  const over = DOLLAR_CELL.exec(cells[overCol] ?? '');
  if (!rate || !over) return undefined;
  return { rate: num(rate[1]), over: num(over[1]), evidence: row };
}

function num(text: string | undefined): number {
  return Number.parseFloat((text ?? '').replace(/,/g, ''));
}

/** Keeps only what the page states: every rate's evidence must be on it and contain that rate. */
export function groundStateTaxes(figures: StateTaxFigures, markdown: string): StateTaxFigures {
  const page = normaliseForGrounding(markdown);
  const ok = (r: TaxRate | undefined) => r !== undefined && isGrounded(r.evidence, r.rate, page);
  const out: StateTaxFigures = {};
  const income = figures.incomeTax;
  if (income?.kind === 'none' && isOnPage(income.evidence, page)) out.incomeTax = income;
  if (income?.kind === 'flat' && ok(income)) out.incomeTax = income;
  if (income?.kind === 'graduated' && ok({ rate: income.low, evidence: income.evidence }) && ok({ rate: income.high, evidence: income.evidence })) {
    const brackets = income.brackets.filter((b) => ok(b) && isGrounded(b.evidence, b.over, page));
    out.incomeTax = { ...income, brackets };
  }
  if (ok(figures.stateSalesTax)) out.stateSalesTax = figures.stateSalesTax;
  else if (figures.stateSalesTax?.rate === 0 && isOnPage(figures.stateSalesTax.evidence, page)) out.stateSalesTax = figures.stateSalesTax;
  if (ok(figures.combinedSalesTax)) out.combinedSalesTax = figures.combinedSalesTax;
  if (ok(figures.propertyTax)) out.propertyTax = figures.propertyTax;
  return out;
}

/** The lines of the page that talk about taxes, for the knowledge base (at most `maxChars`). */
export function taxExcerpt(markdown: string, maxChars = 4_000): string {
  const lines = readableLines(markdown).filter((l) => /\btax|\brate\b|%/i.test(l));
  const out: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > maxChars) break;
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}
