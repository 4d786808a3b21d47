import { formatUsd } from '../util/format.js';
import { ESTIMATE_NOTE, stateIncomeTax } from './taxes.js';
import type { FigureView, Recommendation, TaxesSection } from './types.js';

/**
 * "What would I need to earn in Denver to keep my lifestyle?": NerdWallet's cost difference applied
 * to what the user keeps after state income tax at home, then grossed up for the destination's state
 * income tax. Computed here, with every step shown.
 */

/** Whether a message asks for the salary that keeps the same standard of living. */
export function asksEquivalentSalary(message: string): boolean {
  return (
    /\b(earn|salary|make|paid|income|pay)\b/i.test(message) &&
    /\b(keep|maintain|same|equivalent|match|lifestyle|standard of living)\b/i.test(message)
  );
}

interface CostFactor {
  /** Destination cost ÷ home cost. */
  factor: number;
  /** How the factor was read, quoting the page. */
  how: string;
}

/** NerdWallet's equivalent salary sentence ("on $75,000 … a salary of $134,250 in …"), else its overall difference. */
export function costFactor(r: Recommendation): CostFactor | undefined {
  if (r.cost.status !== 'ok') return undefined;
  const figures = r.cost.data.figures;
  const salary = figures.find((f) => f.label === `Equivalent salary (${r.to.display})`);
  if (salary) {
    const amounts = [...salary.evidence.matchAll(/\$\s?(\d{1,3}(?:,\d{3})+|\d+)/g)].map((m) => Number((m[1] ?? '').replace(/,/g, '')));
    const target = Number(salary.value.replace(/[^\d.]/g, ''));
    const base = amounts.find((a) => a !== target);
    if (base && target) return { factor: target / base, how: `NerdWallet: "${salary.evidence}" (×${(target / base).toFixed(3)})` };
  }
  const overall = figures.find((f) => f.label === 'Overall');
  return overall ? overallFactor(overall, r) : undefined;
}

function overallFactor(f: FigureView, r: Recommendation): CostFactor | undefined {
  if (f.value === 'about the same') return { factor: 1, how: `NerdWallet: "${f.evidence}" (×1)` };
  const m = /^(\d+(?:\.\d+)?)% (higher|lower) in (.+)$/.exec(f.value);
  if (!m) return undefined;
  const p = Number(m[1]) / 100;
  const sign = m[2] === 'higher' ? 1 : -1;
  // "X% higher in <destination>" scales directly; said of the home city, it is the inverse.
  const factor = m[3] === r.to.display ? 1 + sign * p : m[3] === r.from.display ? 1 / (1 + sign * p) : undefined;
  if (factor === undefined) return undefined;
  return { factor, how: `NerdWallet: "${f.evidence}" (×${factor.toFixed(3)})` };
}

/** The gross income whose after-state-tax amount is `net` (bisection: brackets make it piecewise). */
function grossFor(net: number, tax: (gross: number) => number): number {
  let lo = net;
  let hi = net * 2 + 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (mid - tax(mid) < net) lo = mid;
    else hi = mid;
  }
  return hi;
}


/** The answer with its working, as Markdown; says what is missing when it cannot be computed. */
export function equivalentSalaryText(r: Recommendation, taxes: TaxesSection | undefined, income: number | null): string {
  const cost = costFactor(r);
  if (!cost) return `I cannot work out an equivalent salary: NerdWallet's comparison of ${r.from.display} and ${r.to.display} is not available.`;
  if (income == null || income <= 0) {
    return `${cost.how}\n\nTell me your annual income (for example "I earn $90,000") and I will work out the salary in ${r.to.display} with the state-tax adjustment.`;
  }
  const lines = [`**What you would need to earn in ${r.to.display}** (estimate, with the working):`, ''];
  lines.push(`1. Cost of living: ${cost.how}.`);
  lines.push(`   NerdWallet alone: ${formatUsd(income)} × ${cost.factor.toFixed(3)} = **${formatUsd(income * cost.factor)}**.`);
  const fromTax = taxes?.from.status === 'ok' ? taxes.from.data : undefined;
  const toTax = taxes?.to.status === 'ok' ? taxes.to.data : undefined;
  const homeTax = fromTax ? stateIncomeTax(income, fromTax.incomeTax) : undefined;
  if (!fromTax || !toTax || homeTax === undefined || stateIncomeTax(income, toTax.incomeTax) === undefined) {
    lines.push('2. State-tax adjustment: not possible, the state income tax of one place could not be read from Tax Foundation.');
    return lines.join('\n');
  }
  const keep = income - homeTax;
  const need = keep * cost.factor;
  const gross = grossFor(need, (g) => stateIncomeTax(g, toTax.incomeTax) ?? 0);
  lines.push(`2. ${fromTax.state} state income tax on ${formatUsd(income)}: ${formatUsd(homeTax)}, so you keep ${formatUsd(keep)}.`);
  lines.push(`3. The same lifestyle in ${r.to.display} costs ${formatUsd(keep)} × ${cost.factor.toFixed(3)} = ${formatUsd(need)} after state tax.`);
  lines.push(
    `4. ${toTax.state} state income tax on ${formatUsd(gross)} is ${formatUsd(gross - need)}, leaving ${formatUsd(need)}: you would need about **${formatUsd(gross)}** a year.`,
  );
  lines.push('', `_${ESTIMATE_NOTE}_`);
  return lines.join('\n');
}
