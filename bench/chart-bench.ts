/**
 * `npm run bench:chart` (no services needed).
 *
 * What the cost chart adds to a turn: the time to render one chart (Vega layout to SVG, then resvg to
 * PNG with the bundled font), for one compared city and for three, as the median and the slowest of
 * BENCH_ROUNDS runs (default 30) after a warm-up, with the PNG's size. The turn runner renders once
 * per answer, so this is paid once per recommendation, not per surface.
 * Every round draws figures not drawn before (the renderer keeps charts it drew, by their figures), so
 * this is the cost of a chart for a pair nobody asked about yet; the CPU per chart is printed beside it.
 * Goal: median ≤ 150 ms for three cities.
 */
import { performance } from 'node:perf_hooks';
import { renderCostChart, type CostChartInput } from '../src/charts/cost-chart.js';

const GOAL_MS = 150;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);

const row = (label: string, percent: number, city: string) => ({
  label,
  value: `${Math.abs(percent)}% ${percent < 0 ? 'lower' : 'higher'} in ${city}`,
  evidence: '',
});
let round = 0;
/** Figures that differ every round (the last category moves by the round), so no chart is reused. */
const city = (name: string, base: number) => ({
  city: name,
  figures: ['Overall', 'Housing', 'Food', 'Transportation', 'Healthcare', 'Utilities'].map((l, i) => row(l, base + i * 4 + (i === 5 ? round : 0), name)),
});
const CASES: Array<[string, () => CostChartInput]> = [
  ['1 city × 6 categories', () => ({ origin: 'Seattle, WA', destinations: [city('Austin, TX', -23)] })],
  ['3 cities × 6 categories', () => ({ origin: 'Seattle, WA', destinations: [city('Austin, TX', -23), city('Denver, CO', -12), city('Boise, ID', -18)] })],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let met = true;
for (const [name, input] of CASES) {
  for (let i = 0; i < 3; i++, round++) await renderCostChart(input());
  const times: number[] = [];
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++, round++) {
    const t = performance.now();
    const chart = await renderCostChart(input());
    times.push(performance.now() - t);
    bytes = chart!.png.length;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / ROUNDS;
  const p50 = median(times);
  if (name.startsWith('3') && p50 > GOAL_MS) met = false;
  console.log(
    `${name}: median ${p50.toFixed(1)} ms, slowest ${Math.max(...times).toFixed(1)} ms, CPU ${cpuMs.toFixed(1)} ms per chart, PNG ${(bytes / 1024).toFixed(0)} KiB`,
  );
}
// A pair asked about again: the chart drawn for it before.
const again = CASES[1]![1]();
await renderCostChart(again);
const t = performance.now();
await renderCostChart(again);
console.log(`3 cities, drawn before: ${(performance.now() - t).toFixed(2)} ms`);
console.log(`goal: median ≤ ${GOAL_MS} ms for 3 cities: ${met ? 'met' : 'NOT met'}`);
process.exitCode = met ? 0 : 1;
