import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { CHART } from '../constants.js';
import { MovebotError } from '../errors.js';
import type { FigureView } from '../team/types.js';

/**
 * The cost chart: for each compared city, how much more or less each cost category (overall,
 * housing, food…) costs than in the origin, as grouped bars. Vega lays it out, resvg turns the
 * SVG into a PNG with a font shipped in node_modules, so it renders the same on a machine without
 * fonts. Only percentages read from the source page are charted, never model prose.
 */
export interface CostChartInput {
  origin: string;
  /** One or more compared cities, each with the figure rows its cost section shows. */
  destinations: Array<{ city: string; figures: FigureView[] }>;
}

export interface CostChart {
  png: Buffer;
  /** What the chart shows, in words, for screen readers and platforms that show no image. */
  alt: string;
  width: number;
  height: number;
}

/** One bar: a category's difference from the origin, in percent (negative: cheaper). */
export interface CostBar {
  city: string;
  category: string;
  percent: number;
}

const require = createRequire(import.meta.url);
const FONT_FAMILY = 'Inter';
/** A TrueType file resvg can load (the @fontsource packages ship only WOFF, which it cannot). */
const FONT_FILE = require.resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf');
const WIDTH = 640;
const HEIGHT = 360;

/** "23% lower in Austin", "about the same": the signed difference of the destination from the origin. */
export function percentOf(value: string, origin: string): number | undefined {
  if (/^about the same$/i.test(value.trim())) return 0;
  const m = /^(\d+(?:\.\d+)?)% (higher|lower)(?: in (.+))?$/i.exec(value.trim());
  if (!m) return undefined;
  const size = Number(m[1]) * (m[2]!.toLowerCase() === 'higher' ? 1 : -1);
  // A page may state the origin's difference instead ("Seattle is 20% higher"): the other way round.
  return m[3]?.trim().toLowerCase() === origin.trim().toLowerCase() ? -size : size;
}

/** The bars a chart would show; empty when no city has a percentage figure. */
export function costBars(input: CostChartInput): CostBar[] {
  const bars: CostBar[] = [];
  for (const d of input.destinations) {
    for (const f of d.figures) {
      const percent = percentOf(f.value, input.origin);
      if (percent !== undefined) bars.push({ city: d.city, category: f.label, percent });
    }
  }
  return bars;
}

/** Charts by what they show (see CHART.cacheEntries), least recently used first; one drawing per figures at a time. */
const rendered = new Map<string, Promise<CostChart>>();

/**
 * Renders the chart; undefined when there is nothing to chart (no percentage figures). The same
 * figures give the same chart, so a chart drawn (or being drawn) in this process is reused: about
 * 45 ms of CPU saved per answer about a pair someone asked about before.
 */
export async function renderCostChart(input: CostChartInput): Promise<CostChart | undefined> {
  const bars = costBars(input);
  if (bars.length === 0) return undefined;
  const key = JSON.stringify([input.origin, bars]);
  let chart = rendered.get(key);
  if (chart) rendered.delete(key);
  else chart = draw(input.origin, bars);
  rendered.set(key, chart);
  if (rendered.size > CHART.cacheEntries) rendered.delete(rendered.keys().next().value!);
  try {
    return await chart;
  } catch (err) {
    // A failed drawing is not kept: the next answer tries again.
    if (rendered.get(key) === chart) rendered.delete(key);
    throw err;
  }
}

async function draw(origin: string, bars: CostBar[]): Promise<CostChart> {
  try {
    const svg = await toSvg(spec(origin, bars));
    const image = new Resvg(svg, {
      font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
      fitTo: { mode: 'width', value: WIDTH * 2 },
      background: 'white',
    }).render();
    return { png: image.asPng(), alt: altText(origin, bars), width: image.width, height: image.height };
  } catch (err) {
    throw new MovebotError('chart_failed', 'the cost chart could not be rendered', { cause: err });
  }
}

/**
 * A Vega grouped bar chart (Vega's own grouped-bar example, with signed values): one group per
 * category, one bar per city. Plain Vega rather than Vega-Lite: Vega-Lite patches Set.prototype on
 * import, which breaks discord.js's event emitter loaded in the same process.
 */
function spec(origin: string, bars: CostBar[]): vega.Spec {
  const cities = [...new Set(bars.map((b) => b.city))];
  return {
    width: WIDTH - 160,
    height: HEIGHT - 150,
    padding: 12,
    background: 'white',
    config: { text: { font: FONT_FAMILY }, title: { font: FONT_FAMILY, subtitleFont: FONT_FAMILY }, axis: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY }, legend: { labelFont: FONT_FAMILY } },
    title: { text: `Cost of living compared with ${origin}`, subtitle: 'Below 0: cheaper than there. Source: NerdWallet', fontSize: 15 },
    data: [{ name: 'bars', values: bars }],
    scales: [
      { name: 'x', type: 'band', domain: { data: 'bars', field: 'category' }, range: 'width', padding: 0.2 },
      { name: 'y', type: 'linear', domain: { data: 'bars', field: 'percent' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: cities, range: 'category' },
    ],
    axes: [
      { orient: 'left', scale: 'y', title: `% difference from ${origin}`, grid: true },
      { orient: 'bottom', scale: 'x', labelLimit: 150, ticks: false },
    ],
    legends: [{ fill: 'color', orient: 'top', direction: 'horizontal' }],
    marks: [
      {
        type: 'group',
        from: { facet: { data: 'bars', name: 'facet', groupby: 'category' } },
        encode: { enter: { x: { scale: 'x', field: 'category' } } },
        signals: [{ name: 'width', update: "bandwidth('x')" }],
        scales: [{ name: 'pos', type: 'band', range: 'width', domain: cities, padding: 0.05 }],
        marks: [
          {
            name: 'bar',
            from: { data: 'facet' },
            type: 'rect',
            encode: {
              enter: {
                x: { scale: 'pos', field: 'city' },
                width: { scale: 'pos', band: 1 },
                y: { scale: 'y', field: 'percent' },
                y2: { scale: 'y', value: 0 },
                fill: { scale: 'color', field: 'city' },
              },
            },
          },
          {
            type: 'text',
            from: { data: 'bar' },
            encode: {
              enter: {
                x: { field: 'x', offset: { field: 'width', mult: 0.5 } },
                y: { signal: "datum.datum.percent < 0 ? datum.y2 + 13 : datum.y - 4" },
                align: { value: 'center' },
                fontSize: { value: 11 },
                fill: { value: '#333' },
                text: { signal: "(datum.datum.percent > 0 ? '+' : '') + datum.datum.percent + '%'" },
              },
            },
          },
        ],
      },
    ],
  };
}

async function toSvg(chart: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(chart), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** "Cost of living compared with Seattle. Austin: Overall 23% lower, Housing 31% lower." */
export function altText(origin: string, bars: CostBar[]): string {
  const byCity = new Map<string, string[]>();
  for (const b of bars) {
    const words = b.percent === 0 ? 'about the same' : `${Math.abs(b.percent)}% ${b.percent > 0 ? 'higher' : 'lower'}`;
    byCity.set(b.city, [...(byCity.get(b.city) ?? []), `${b.category} ${words}`]);
  }
  const cities = [...byCity].map(([city, parts]) => `${city}: ${parts.join(', ')}.`);
  return `Bar chart of the cost of living compared with ${origin}. ${cities.join(' ')}`;
}
