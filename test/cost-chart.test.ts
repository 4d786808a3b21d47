import { describe, expect, it } from 'vitest';
import { altText, costBars, percentOf, renderCostChart } from '../src/charts/cost-chart.js';
import { chartFileName, chartOf, runImageOf, withChartLink } from '../src/charts/run-chart.js';
import { silentLogger } from '../src/logger.js';
import { renderReport } from '../src/team/report.js';
import { expectChartPng, pngSize } from './helpers/png.js';
import { recommendation } from './helpers/recommendation.js';

const view = (label: string, value: string) => ({ label, value, evidence: `${label}: ${value}` });

describe('the cost chart', () => {
  it('charts every category of N compared cities as a PNG with alt text naming each figure', async () => {
    const chart = await renderCostChart({
      origin: 'Seattle, WA',
      destinations: [
        { city: 'Austin, TX', figures: [view('Overall', '23% lower in Austin, TX'), view('Housing', '41% lower in Austin, TX'), view('Median rent (Austin, TX)', '$1,650')] },
        { city: 'Denver, CO', figures: [view('Overall', '12% lower in Denver, CO'), view('Healthcare', '4% higher in Denver, CO')] },
        { city: 'Boise, ID', figures: [view('Food', 'about the same')] },
      ],
    });
    expect(chart).toBeDefined();
    expect(pngSize(chart!.png)).toEqual({ width: chart!.width, height: chart!.height });
    expectChartPng(chart!.png);
    expect(chart!.alt).toBe(
      'Bar chart of the cost of living compared with Seattle, WA. Austin, TX: Overall 23% lower, Housing 41% lower. ' +
        'Denver, CO: Overall 12% lower, Healthcare 4% higher. Boise, ID: Food about the same.',
    );
  });

  it('draws text with the bundled font: a chart with labels differs from the same bars unlabelled', async () => {
    // Text rendered as nothing (no font found) would leave only bars: a longer label must change pixels.
    const a = await renderCostChart({ origin: 'A', destinations: [{ city: 'B', figures: [view('Overall', '10% lower')] }] });
    const b = await renderCostChart({ origin: 'A', destinations: [{ city: 'B', figures: [view('Overall and everything else', '10% lower')] }] });
    expect(a!.png.equals(b!.png)).toBe(false);
  });

  it('draws the same figures once: a pair asked about again gets the chart drawn before, other figures a new one', async () => {
    const input = (housing: string) => ({ origin: 'Reno, NV', destinations: [{ city: 'Boise, ID', figures: [view('Housing', housing)] }] });
    const first = await renderCostChart(input('17% lower in Boise, ID'));
    const again = await renderCostChart(input('17% lower in Boise, ID'));
    const other = await renderCostChart(input('18% lower in Boise, ID'));
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(other!.png.equals(first!.png)).toBe(false);
    expect(other!.alt).toContain('Housing 18% lower');
  });

  it('has nothing to chart without percentage figures', async () => {
    expect(await renderCostChart({ origin: 'A', destinations: [{ city: 'B', figures: [view('Median rent', '$1,650')] }] })).toBeUndefined();
    expect(await renderCostChart({ origin: 'A', destinations: [] })).toBeUndefined();
  });

  it('reads a figure stated for the origin the other way round', () => {
    expect(percentOf('20% higher in Seattle, WA', 'Seattle, WA')).toBe(-20);
    expect(percentOf('20% higher in Austin, TX', 'Seattle, WA')).toBe(20);
    expect(percentOf('7.5% lower', 'Seattle, WA')).toBe(-7.5);
    expect(percentOf('$1,650', 'Seattle, WA')).toBeUndefined();
    expect(altText('X', costBars({ origin: 'X', destinations: [{ city: 'Y', figures: [view('Food', '3% higher')] }] }))).toContain('Y: Food 3% higher.');
  });
});

describe('a run chart', () => {
  it('is rendered for a recommendation with cost figures, and as the API run image', async () => {
    const chart = await chartOf(recommendation(), silentLogger);
    expect(chart?.alt).toContain('Austin, TX: Overall 23% lower, Housing 41% lower.');
    const image = runImageOf(chart!, 'run-1-cost-chart');
    expect(image).toMatchObject({ id: 'run-1-cost-chart', mime_type: 'image/png', alt_text: chart!.alt });
    expectChartPng(Buffer.from(image.content, 'base64'));
  });

  it('is not made for a recommendation without cost figures', async () => {
    const unavailable = recommendation({ cost: { status: 'unavailable', reason: 'no data' } });
    expect(await chartOf(unavailable, silentLogger)).toBeUndefined();
    const base = recommendation();
    if (base.cost.status !== 'ok') throw new Error('fixture has cost');
    const noFigures = recommendation({ cost: { status: 'ok', data: { ...base.cost.data, figures: [] } } });
    expect(await chartOf(noFigures, silentLogger)).toBeUndefined();
  });

  it('is shown by the report under its cost heading, by a name beside the report', () => {
    const name = chartFileName('seattle_to_austin_20250102_030405_analysis.md');
    expect(name).toBe('seattle_to_austin_20250102_030405_cost_chart.png');
    const markdown = withChartLink(renderReport(recommendation()), name, 'Bar chart [of] costs');
    expect(markdown).toContain(`## Cost Analysis Report\n\n![Bar chart of costs](${name})\n`);
  });
});
