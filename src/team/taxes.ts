import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StateTaxTool } from '../tools/state-taxes.js';
import { taxFoundationUrl } from '../tools/state-tax-extraction.js';
import { STATES } from '../tools/us-states.js';
import { unavailableReason } from '../user-errors.js';
import { formatUsd } from '../util/format.js';
import type { CityRef, Section, StateTax, TaxesSection } from './types.js';

/**
 * The state-tax part of an answer: Tax Foundation's rates for both places (src/tools/state-taxes.ts),
 * and, with the user's income, each place's state income tax computed here in code. Estimates assume
 * a single filer and tax the whole income (no deductions or credits); they always say so.
 */

export const ESTIMATE_NOTE =
  'Estimate: state income tax only, filing status assumed single, on your whole income before deductions and credits; federal tax and local income taxes are not included.';

type StateSide = TaxesSection['from'];

/** Looks up both places' state taxes; never throws: a side that cannot be read says why. */
export async function collectTaxes(
  tool: StateTaxTool | undefined,
  from: CityRef,
  to: CityRef,
  annualIncome: number | null,
  logger?: Logger,
): Promise<Section<TaxesSection>> {
  if (!tool) return { status: 'unavailable', reason: 'state tax data is not configured (FIRECRAWL_API_KEY is not set)' };
  const side = async (city: CityRef): Promise<StateSide> => {
    const code = city.state;
    if (!code || !STATES[code]) return { status: 'unavailable', reason: `the state of ${city.display} is not known` };
    try {
      const page = await tool.lookup(code);
      const data: StateTax = { code, state: page.state, url: page.url, fetchedAt: page.fetchedAt, cached: page.cached, ...page.figures };
      return { status: 'ok', data };
    } catch (err) {
      logger?.warn({ state: code, err: describeError(err) }, 'state taxes unavailable');
      return {
        status: 'unavailable',
        reason: unavailableReason(`Tax Foundation's page for ${STATES[code]} could not be fetched`, err),
        url: taxFoundationUrl(code),
      };
    }
  };
  const [a, b] = await Promise.all([side(from), side(to)]);
  return { status: 'ok', data: { from: a, to: b, annualIncome } };
}

/** The state income tax on `income` for a single filer, or undefined when the page does not give enough to compute it. */
export function stateIncomeTax(income: number, tax: StateTax['incomeTax']): number | undefined {
  if (!tax) return undefined;
  if (tax.kind === 'none') return 0;
  if (tax.kind === 'flat') return (income * tax.rate) / 100;
  const brackets = [...tax.brackets].sort((x, y) => x.over - y.over);
  if (brackets.length === 0 || brackets[0]!.over !== 0) return undefined;
  let owed = 0;
  brackets.forEach((b, i) => {
    const top = brackets[i + 1]?.over ?? Number.POSITIVE_INFINITY;
    if (income > b.over) owed += ((Math.min(income, top) - b.over) * b.rate) / 100;
  });
  return owed;
}

const pct = (n: number) => `${n}%`;

/** "flat 4.4%", "none", "graduated, 1% to 13.3%". */
export function incomeTaxText(tax: StateTax['incomeTax']): string {
  if (!tax) return 'not stated on the page';
  if (tax.kind === 'none') return 'none';
  if (tax.kind === 'flat') return `flat ${pct(tax.rate)}`;
  return `graduated, ${pct(tax.low)} to ${pct(tax.high)}`;
}

/** One state's rates as a line of Markdown, with its source and fetch date. */
function stateLine(side: StateSide, city: CityRef): string {
  if (side.status !== 'ok') return `**${city.display}:** _unavailable: ${side.reason}._`;
  const s = side.data;
  const parts = [`income tax ${incomeTaxText(s.incomeTax)}`];
  if (s.stateSalesTax || s.combinedSalesTax) {
    const sales = [
      s.stateSalesTax ? `${pct(s.stateSalesTax.rate)} state` : '',
      s.combinedSalesTax ? `${pct(s.combinedSalesTax.rate)} state + average local` : '',
    ].filter(Boolean);
    parts.push(`sales tax ${sales.join(', ')}`);
  }
  if (s.propertyTax) parts.push(`effective property tax ${pct(s.propertyTax.rate)}`);
  return `**${s.state}** (${city.display}): ${parts.join('; ')}. ${sourceNote(s)}`;
}

function sourceNote(s: StateTax): string {
  return `_Source: [Tax Foundation: ${s.state}](${s.url}), fetched ${s.fetchedAt.slice(0, 10)}${s.cached ? ' (cached)' : ''}._`;
}

interface IncomeEstimate {
  income: number;
  from?: number;
  to?: number;
  /** to − from: positive when the destination takes more. */
  difference?: number;
}

function estimateFor(taxes: TaxesSection, income: number): IncomeEstimate {
  const of = (s: StateSide) => (s.status === 'ok' ? stateIncomeTax(income, s.data.incomeTax) : undefined);
  const from = of(taxes.from);
  const to = of(taxes.to);
  return { income, from, to, difference: from !== undefined && to !== undefined ? to - from : undefined };
}

/** The estimate as Markdown lines; empty without an income. */
function estimateLines(taxes: TaxesSection, from: CityRef, to: CityRef, income: number | null): string[] {
  if (income == null || income <= 0) return ['_Tell me your annual income and I will estimate the state income tax in each place._'];
  const e = estimateFor(taxes, income);
  const amount = (n: number | undefined, side: StateSide) =>
    n !== undefined ? `${formatUsd(n)} a year` : side.status === 'ok' ? 'cannot be computed from the page (no brackets listed)' : 'unknown (page unavailable)';
  const lines = [
    `**Estimated state income tax on ${formatUsd(income)}** (single filer):`,
    `- ${from.display}: ${amount(e.from, taxes.from)}`,
    `- ${to.display}: ${amount(e.to, taxes.to)}`,
  ];
  if (e.difference !== undefined) {
    const d = e.difference;
    lines.push(
      d === 0
        ? '- Difference: none'
        : `- Difference: ${formatUsd(Math.abs(d))} a year ${d > 0 ? 'more' : 'less'} in ${to.display} (${formatUsd(Math.abs(d) / 12)} a month)`,
    );
  }
  lines.push(`_${ESTIMATE_NOTE}_`);
  return lines;
}

/**
 * The whole taxes section as Markdown lines, for the report and for follow-ups. The estimate is on
 * `income`: undefined, the one the section was made with; null, none (a follow-up by someone whose
 * income we do not know must not get the estimate on another person's).
 */
export function taxLines(s: Section<TaxesSection>, from: CityRef, to: CityRef, income?: number | null): string[] {
  if (s.status !== 'ok') return [`_Unavailable: ${s.reason}._`];
  const on = income === undefined ? s.data.annualIncome : income;
  return [stateLine(s.data.from, from), '', stateLine(s.data.to, to), '', ...estimateLines(s.data, from, to, on)];
}

/** One short line for the chat summary. */
export function taxSummaryLine(s: Section<TaxesSection> | undefined, from: CityRef, to: CityRef): string | undefined {
  if (!s) return undefined;
  if (s.status !== 'ok') return `**State taxes:** unavailable: ${s.reason}`;
  const brief = (side: StateSide, city: CityRef) =>
    side.status === 'ok' ? `${side.data.state} income tax ${incomeTaxText(side.data.incomeTax)}` : `${city.display} unavailable`;
  let line = `**State taxes:** ${brief(s.data.from, from)} · ${brief(s.data.to, to)}`;
  const income = s.data.annualIncome;
  if (income != null && income > 0) {
    const d = estimateFor(s.data, income).difference;
    if (d !== undefined && d !== 0) {
      line += ` · est. ${formatUsd(Math.abs(d))}/yr ${d > 0 ? 'more' : 'less'} on ${formatUsd(income)} (single filer)`;
    }
  }
  return line;
}

/** The Tax Foundation pages read: answers may link to them. */
export function taxUrls(s: Section<TaxesSection> | undefined): string[] {
  if (s?.status !== 'ok') return [];
  return [s.data.from, s.data.to].flatMap((side) => (side.status === 'ok' ? [side.data.url] : []));
}
