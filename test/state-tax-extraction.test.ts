import { describe, expect, it } from 'vitest';
import { renderAnswerMessages } from '../adapters/slack/slack-blocks.js';
import { answerText } from '../adapters/discord/render.js';
import { shownIn } from '../src/memory/place.js';
import { RecommendationSchema } from '../src/team/schemas.js';
import { costFactor, equivalentSalaryText } from '../src/team/equivalent-salary.js';
import { renderReport, renderSummary } from '../src/team/report.js';
import { stateIncomeTax, taxLines } from '../src/team/taxes.js';
import type { StateTax, TaxesSection } from '../src/team/types.js';
import { extractStateTaxes, groundStateTaxes, taxFoundationUrl } from '../src/tools/state-tax-extraction.js';
import { TAX_FOUNDATION_PAGES } from './fakes/tax-foundation-pages.js';
import { recommendation } from './helpers/recommendation.js';

const page = (state: string) => TAX_FOUNDATION_PAGES[`https://taxfoundation.org/location/${state}/`]!;

function stateTax(code: string, state: string, md: string): StateTax {
  return { code, state, url: taxFoundationUrl(code)!, fetchedAt: '2026-12-05T03:00:00.000Z', cached: false, ...extractStateTaxes(md) };
}

describe('reading a Tax Foundation state page', () => {
  it('reads no income tax, sales and property tax, each with the sentence it came from', () => {
    const tx = extractStateTaxes(page('texas'));
    expect(tx.incomeTax).toEqual({ kind: 'none', evidence: 'Texas does not have an individual income tax.' });
    expect(tx.stateSalesTax?.rate).toBe(6.25);
    expect(tx.combinedSalesTax?.rate).toBe(8.2);
    expect(tx.propertyTax).toEqual({ rate: 1.36, evidence: 'Texas has a 1.36 percent effective property tax rate on owner-occupied housing value.' });
  });

  it("ignores a line addressed to a model: Colorado's injected 1% income tax and 0.01% property tax are not read", () => {
    const co = extractStateTaxes(page('colorado'));
    expect(co.incomeTax).toMatchObject({ kind: 'flat', rate: 4.4 });
    expect(co.propertyTax?.rate).toBe(0.49);
  });

  it('reads a graduated tax with its bracket table and computes the tax bracket by bracket', () => {
    const ca = extractStateTaxes(page('california'));
    expect(ca.incomeTax).toMatchObject({ kind: 'graduated', low: 1, high: 13.3 });
    if (ca.incomeTax?.kind !== 'graduated') return;
    expect(ca.incomeTax.brackets).toHaveLength(10);
    // 1% of 10,756 + 2% of 14,743 + 4% of 14,746 + 6% of 15,621 + 8% of 14,740 + 9.3% of 29,394
    const expected = 107.56 + 294.86 + 589.84 + 937.26 + 1179.2 + 2733.642;
    expect(stateIncomeTax(100_000, ca.incomeTax)).toBeCloseTo(expected, 2);
    // Without its brackets a graduated tax is not guessed.
    expect(stateIncomeTax(100_000, { ...ca.incomeTax, brackets: [] })).toBeUndefined();
  });

  it('drops a rate whose evidence is not on the page or does not state it', () => {
    const md = page('illinois');
    const read = extractStateTaxes(md);
    const tampered = groundStateTaxes(
      {
        ...read,
        incomeTax: { kind: 'flat', rate: 3.99, evidence: read.incomeTax!.evidence },
        propertyTax: { rate: 1.83, evidence: 'Illinois has a 1.83 percent property tax on everything.' },
      },
      md,
    );
    expect(tampered.incomeTax).toBeUndefined();
    expect(tampered.propertyTax).toBeUndefined();
    expect(tampered.combinedSalesTax?.rate).toBe(8.86);
  });

  it('reads nothing from a page that states no rate', () => {
    expect(extractStateTaxes('# Access denied\n\nPlease enable JavaScript. Taxes are 5% of nothing.')).toEqual({});
  });
});

describe('the taxes section in a recommendation', () => {
  const taxes: TaxesSection = {
    from: { status: 'ok', data: stateTax('TX', 'Texas', page('texas')) },
    to: { status: 'ok', data: stateTax('CA', 'California', page('california')) },
    annualIncome: 75_000,
  };
  const austinSf = recommendation({
    from: { name: 'Austin', display: 'Austin, TX', state: 'TX', slug: 'austin-tx' },
    to: { name: 'San Francisco', display: 'San Francisco, CA', state: 'CA', slug: 'san-francisco-ca' },
    cost: {
      status: 'ok',
      data: {
        analysis: { overall_cost_difference: '', housing_comparison: '', food_comparison: '', transportation_comparison: '', taxes_comparison: '', key_insights: [] },
        figures: [
          {
            label: 'Equivalent salary (San Francisco, CA)',
            value: '$134,250',
            evidence: 'To keep the lifestyle you have on $75,000 a year in Austin, TX, you would need a salary of $134,250 in San Francisco, CA.',
          },
        ],
        sourceUrl: 'https://www.nerdwallet.com/cost-of-living-calculator/compare/austin-tx-vs-san-francisco-ca',
        cached: false,
      },
    },
    taxes: { status: 'ok', data: taxes },
  });

  it('keeps recommendations stored before taxes existed valid, and validates one with them', () => {
    const { taxes: _none, ...old } = austinSf;
    expect(RecommendationSchema.safeParse(JSON.parse(JSON.stringify(old))).success).toBe(true);
    expect(RecommendationSchema.parse(JSON.parse(JSON.stringify(austinSf))).taxes).toEqual(austinSf.taxes);
  });

  it('renders the rates and the estimate in the report and the summary, and no estimate in a shared place', () => {
    const md = renderReport(austinSf);
    expect(md).toContain('**California** (San Francisco, CA): income tax graduated, 1% to 13.3%');
    expect(md).toContain('- Austin, TX: $0 a year');
    // 1% of 10,756 + 2% of 14,743 + 4% of 14,746 + 6% of 15,621 + 8% of 14,740 + 9.3% of 4,394
    expect(md).toContain('- San Francisco, CA: $3,517 a year');
    expect(renderSummary(austinSf)).toContain('est. $3,517/yr more on $75,000 (single filer)');
    // In a channel: the rates, and no estimate on the asker's income, in the text, the report and
    // Slack's blocks alike (also when no saved details were used).
    const answer = { outcome: { kind: 'recommendation' as const, text: renderSummary(austinSf), recommendation: austinSf, markdown: md }, report: { fileName: 'r.md', markdown: md } };
    const inChannel = shownIn('public', answer, { memoryReply: false, platform: 'slack' });
    expect(inChannel.outcome.text).toContain('**State taxes:** Texas income tax none · California income tax graduated, 1% to 13.3%');
    expect(inChannel.outcome.text).not.toContain('$75,000');
    expect(inChannel.report?.markdown).toContain('income tax graduated, 1% to 13.3%');
    expect(inChannel.report?.markdown).not.toContain('$3,517');
    expect(JSON.stringify(renderAnswerMessages(inChannel))).not.toMatch(/\$3,517|\$75,000/);
  });

  it('shows the taxes in Slack blocks and in the Discord text, with the source link', () => {
    const answer = { outcome: { kind: 'recommendation' as const, text: renderSummary(austinSf), recommendation: austinSf, markdown: renderReport(austinSf) } };
    const slack = JSON.stringify(renderAnswerMessages(answer));
    expect(slack).toContain('State taxes');
    expect(slack).toContain('<https://taxfoundation.org/location/california/|Tax Foundation: California>');
    expect(slack).toContain('San Francisco, CA: $3,517 a year');
    expect(answerText(answer)).toContain('**State taxes:** Texas income tax none · California income tax graduated, 1% to 13.3%');
  });

  it("says so when the taxes could not be read, without hiding the rest", () => {
    const lines = taxLines({ status: 'unavailable', reason: 'state tax data is not configured (FIRECRAWL_API_KEY is not set)' }, austinSf.from, austinSf.to, 1);
    expect(lines).toEqual(['_Unavailable: state tax data is not configured (FIRECRAWL_API_KEY is not set)._']);
  });

  it("scales NerdWallet's equivalent salary to the user's income and grosses it up for the destination's brackets", () => {
    expect(costFactor(austinSf)?.factor).toBeCloseTo(1.79, 5);
    const text = equivalentSalaryText(austinSf, taxes, 75_000);
    expect(text).toContain('NerdWallet alone: $75,000 × 1.790 = **$134,250**.');
    expect(text).toContain('2. Texas state income tax on $75,000: $0, so you keep $75,000.');
    const gross = Number(/about \*\*\$([\d,]+)\*\*/.exec(text)?.[1]?.replace(/,/g, ''));
    // The gross, less California's tax on it, leaves what the lifestyle costs there.
    const ca = taxes.to.status === 'ok' ? taxes.to.data.incomeTax : undefined;
    expect(gross - stateIncomeTax(gross, ca)!).toBeCloseTo(134_250, -1);
    expect(equivalentSalaryText(austinSf, taxes, null)).toMatch(/Tell me your annual income/);
  });
});
