import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunImage } from '../ports/run-events.js';
import type { Clock } from '../clock.js';
import { comparisonFileName } from '../team/comparison-report.js';
import type { Comparison } from '../team/comparison-schema.js';
import { reportFileName } from '../team/report.js';
import type { Recommendation, TeamOutcome } from '../team/types.js';
import type { CostChart, CostChartInput } from './cost-chart.js';

/** Renders a cost chart (renderCostChart; tests give one that fails). */
export type ChartRenderer = (input: CostChartInput) => Promise<CostChart | undefined>;

/**
 * renderCostChart, loaded on the first chart: Vega and resvg take ~120 ms and ~30 MB to load, which
 * roles that never draw (the web role) should not pay at start.
 */
const drawLazily: ChartRenderer = async (input) => (await import('./cost-chart.js')).renderCostChart(input);

/** The chart of a run, rendered once by the turn runner; every surface delivers these same bytes. */
export type RunChart = CostChart;

/** What the chart compares: every destination of a comparison, or the one of a recommendation, that has cost figures. */
function chartInputOf(r: Recommendation | undefined, comparison?: Comparison): CostChartInput | undefined {
  if (!r) return undefined;
  const pairs = comparison ? comparison.destinations.map((d) => d.recommendation) : [r];
  const destinations = pairs.flatMap((p) =>
    p.cost.status === 'ok' && p.cost.data.figures.length > 0 ? [{ city: p.to.display, figures: p.cost.data.figures }] : [],
  );
  return destinations.length > 0 ? { origin: r.from.display, destinations } : undefined;
}

/**
 * The cost chart of a recommendation (all of a comparison's destinations), or undefined when it has
 * no percentage figures. Rendering is an extra: a failure is logged and the answer goes out without it.
 */
export async function chartOf(
  r: Recommendation | undefined,
  logger: Logger,
  render: ChartRenderer = drawLazily,
  comparison?: Comparison,
): Promise<RunChart | undefined> {
  const input = chartInputOf(r, comparison);
  if (!input) return undefined;
  try {
    return await render(input);
  } catch (err) {
    logger.warn({ err: describeError(err) }, 'cost chart not rendered; answering without it');
    return undefined;
  }
}

/**
 * A recommendation's report file (a comparison's names every destination) and, when there is a chart,
 * the chart's file beside it. The report is not yet linked to the chart: link it (withChartLink) once
 * it is in the form its place may show.
 */
export function reportFiles(
  team: Extract<TeamOutcome, { kind: 'recommendation' }>,
  clock: Clock,
  chart: RunChart | undefined,
): { report: { fileName: string; markdown: string }; chart?: RunChart & { fileName: string } } {
  const fileName = team.comparison ? comparisonFileName(team.comparison, clock) : reportFileName(team.recommendation, clock);
  return { report: { fileName, markdown: team.markdown }, ...(chart && { chart: { ...chart, fileName: chartFileName(fileName) } }) };
}

/** `seattle_to_austin_…_cost_chart.png`, beside `seattle_to_austin_…_analysis.md`. */
export function chartFileName(reportFileName: string): string {
  return `${reportFileName.replace(/_analysis\.md$/, '').replace(/\.md$/, '')}_cost_chart.png`;
}

/**
 * The report with the chart shown under its cost heading (`![alt](file.png)`, a file beside it); in a
 * comparison's report, under the side-by-side table.
 */
export function withChartLink(markdown: string, fileName: string, alt: string): string {
  const image = `![${alt.replace(/[[\]]/g, '')}](${fileName})`;
  const why = markdown.indexOf('\n## Why This Order\n');
  if (why >= 0) return `${markdown.slice(0, why)}\n${image}\n${markdown.slice(why)}`;
  const heading = '\n## Cost Analysis Report\n';
  const at = markdown.indexOf(heading);
  if (at < 0) return `${markdown.trimEnd()}\n\n${image}\n`;
  const after = at + heading.length;
  return `${markdown.slice(0, after)}\n${image}\n${markdown.slice(after)}`;
}

/** The chart as an API run's `images` entry (Agno's Image: base64 content, MIME type, alt text). */
export function runImageOf(chart: RunChart, id: string): RunImage {
  return {
    id,
    content: chart.png.toString('base64'),
    mime_type: 'image/png',
    format: 'png',
    alt_text: chart.alt,
    width: chart.width,
    height: chart.height,
  };
}
