import { formatNumber } from '../../util/format.js';
import { unavailableReason } from '../../user-errors.js';
import type { CostFigures } from '../../tools/cost-of-living.js';
import { stripUngroundedNumbers } from '../grounding.js';
import { PROMPTS } from '../prompts.js';
import { type CostAnalysis, CostAnalysisSchema } from '../schemas.js';
import type { CostSection, FigureView, Section } from '../types.js';
import { untrusted } from '../untrusted.js';
import { type AnalystContext, describeUser } from './analyst-context.js';

const CATEGORY_LABELS: Record<string, string> = {
  housing: 'Housing',
  food: 'Food',
  transportation: 'Transportation',
  healthcare: 'Healthcare',
  utilities: 'Utilities',
  entertainment: 'Entertainment & other',
};

/** Turns parsed figures into display rows; every value comes from the page, with its sentence. */
export function figureViews(figures: CostFigures): FigureView[] {
  const percent = (f: { percent: number; direction: string; city: string }) =>
    f.direction === 'same' ? 'about the same' : `${f.percent}% ${f.direction} in ${f.city}`;
  const rows: FigureView[] = [];
  if (figures.overall) rows.push({ label: 'Overall', value: percent(figures.overall), evidence: figures.overall.evidence });
  for (const [key, label] of Object.entries(CATEGORY_LABELS)) {
    const f = figures.categories[key as keyof CostFigures['categories']];
    if (f) rows.push({ label, value: percent(f), evidence: f.evidence });
  }
  for (const d of figures.dollars) {
    rows.push({ label: `${d.label} (${d.city})`, value: `$${formatNumber(d.amount)}`, evidence: d.evidence });
  }
  return rows;
}

export async function runCostAnalyst(ctx: AnalystContext): Promise<Section<CostSection>> {
  const tool = ctx.tools.costOfLiving;
  if (!tool) return { status: 'unavailable', reason: 'cost data is not configured (FIRECRAWL_API_KEY is not set)' };
  if (!ctx.fromListed || !ctx.toListed) {
    return { status: 'unavailable', reason: ctx.unlistedReason ?? "NerdWallet's calculator does not list one of these cities" };
  }
  let comparison: Awaited<ReturnType<typeof tool.compare>>;
  try {
    comparison = await tool.compare(ctx.fromListed, ctx.toListed);
  } catch (err) {
    return { status: 'unavailable', reason: unavailableReason("NerdWallet's comparison could not be fetched", err) };
  }
  const figures = figureViews(comparison.figures);
  const { value } = await ctx.llm.structured({
    label: 'cost-analyst',
    model: ctx.models['cost-analyst'],
    meter: ctx.meter,
    signal: ctx.signal,
    schema: CostAnalysisSchema,
    schemaName: 'CostAnalysis',
    messages: [
      { role: 'system', content: PROMPTS.costAnalyst },
      {
        role: 'user',
        content: [
          describeUser(ctx),
          `Figures extracted by code from ${comparison.url}:`,
          figures.length ? figures.map((f) => `- ${f.label}: ${f.value}`).join('\n') : '(no figures could be extracted)',
          untrusted(comparison.url, comparison.excerpt),
        ].join('\n\n'),
      },
    ],
  });
  // The model may still type a number; keep only sentences whose figures the page really states.
  const source = `${comparison.excerpt}\n${figures.map((f) => `${f.value} ${f.evidence}`).join('\n')}`;
  const analysis = groundAnalysis(value, source);
  return { status: 'ok', data: { analysis, figures, sourceUrl: comparison.url, cached: comparison.cached } };
}

function groundAnalysis(a: CostAnalysis, source: string): CostAnalysis {
  const g = (t: string) => stripUngroundedNumbers(t, source);
  return {
    overall_cost_difference: g(a.overall_cost_difference),
    housing_comparison: g(a.housing_comparison),
    food_comparison: g(a.food_comparison),
    transportation_comparison: g(a.transportation_comparison),
    taxes_comparison: g(a.taxes_comparison),
    key_insights: a.key_insights.map(g).filter(Boolean),
  };
}
