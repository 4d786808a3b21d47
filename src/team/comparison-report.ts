import type { Clock } from '../clock.js';
import type { Comparison } from './comparison-schema.js';
import { fileNameFor, headline, type RenderOptions, renderReport } from './report.js';
import { incomeTaxText } from './taxes.js';
import type { Recommendation, StateTax } from './types.js';

/** One row of the side-by-side table: a deciding figure and its value per destination (in ranked order). */
export interface ComparisonRow {
  label: string;
  values: string[];
}

/** The destinations best first, each with its place's reason. */
export function rankedDestinations(c: Comparison): Array<{ place: number; r: Recommendation; reason: string }> {
  return c.ranking.flatMap((entry, i) => {
    const d = c.destinations[entry.index];
    return d ? [{ place: i + 1, r: d.recommendation, reason: entry.reason }] : [];
  });
}

/**
 * The deciding figures side by side, in ranked order: the verdict, the livability score, the state
 * taxes and the page's cost figures (every figure parsed from its page, never from model prose).
 */
export function comparisonRows(c: Comparison): ComparisonRow[] {
  const ranked = rankedDestinations(c).map((d) => d.r);
  const rows: ComparisonRow[] = [
    { label: 'Verdict', values: ranked.map((r) => `${headline(r.recommendation)} (${r.confidence})`) },
  ];
  // The page names its destination in labels and values ("Housing (Austin, TX)", "38% lower in Austin, TX"):
  // without it, the same row of each page lines up; the origin's own figures are the same on every page.
  const figures = ranked.map((r) =>
    r.cost.status === 'ok'
      ? r.cost.data.figures.map((f) => ({ label: f.label.replace(r.to.display, 'destination'), value: f.value.replace(` in ${r.to.display}`, '') }))
      : undefined,
  );
  const labels = [...new Set(figures.flatMap((f) => f?.map((x) => x.label) ?? []))].filter((l) => !l.includes(`(${c.from.display})`));
  rows.push({
    label: 'Livability',
    values: ranked.map((r) =>
      r.sentiment.status === 'ok' && r.sentiment.data.analysis.livability_score != null ? `${r.sentiment.data.analysis.livability_score}/10` : '—',
    ),
  });
  rows.push(...taxRows(ranked));
  for (const label of labels) {
    rows.push({ label, values: figures.map((f) => (f ? (f.find((x) => x.label === label)?.value ?? '—') : 'unavailable')) });
  }
  return rows;
}

/** Each destination state's income tax and combined sales tax, read from its Tax Foundation page. */
function taxRows(ranked: Recommendation[]): ComparisonRow[] {
  const sides = ranked.map((r) => (r.taxes?.status === 'ok' ? r.taxes.data.to : undefined));
  if (sides.every((s) => s === undefined)) return [];
  const of = (f: (t: StateTax) => string) => sides.map((s) => (s?.status === 'ok' ? f(s.data) : 'unavailable'));
  return [
    { label: 'State income tax', values: of((t) => incomeTaxText(t.incomeTax)) },
    { label: 'Sales tax (state + avg. local)', values: of((t) => (t.combinedSalesTax ? `${t.combinedSalesTax.rate}%` : '—')) },
  ];
}

/** "1. **Raleigh, NC**: Move. Housing 44% lower…": the places best first, each with its verdict and reason. */
export function rankingLines(c: Comparison): string[] {
  return rankedDestinations(c).map(({ place, r, reason }) => `${place}. **${r.to.display}**: ${headline(r.recommendation)}${reason ? `. ${reason}` : ''}`);
}

/** The chat answer: the ranking with its reasons, then the deciding figures per destination. */
export function renderComparisonSummary(c: Comparison): string {
  const ranked = rankedDestinations(c);
  const lines = [`**Ranking for a move from ${c.from.display}** (confidence: ${c.confidence})`];
  if (c.limitNote) lines.push(`_${c.limitNote}_`);
  lines.push(...rankingLines(c));
  const rows = comparisonRows(c);
  ranked.forEach(({ r }, i) => {
    const figures = rows.slice(1).map((row) => `${row.label}: ${row.values[i]}`);
    lines.push(`**${r.to.display}:** ${figures.join(' · ')}`);
  });
  return lines.join('\n');
}

/** The Markdown report: the ranking, a table of the deciding figures, then one section per destination. */
export function renderComparisonReport(c: Comparison, options: RenderOptions = {}): string {
  const ranked = rankedDestinations(c);
  const out = [`# Where Should You Move from ${c.from.display}?`, ''];
  out.push(`**Destinations compared:** ${c.destinations.map((d) => d.to.display).join(', ')}  `);
  out.push(`**Confidence Level:** ${c.confidence}`, '');
  if (c.limitNote) out.push(`*${c.limitNote}*`, '');
  out.push('## Ranking', '');
  for (const { place, r, reason } of ranked) out.push(`${place}. **${r.to.display}** (${headline(r.recommendation)})${reason ? `: ${reason}` : ''}`);
  out.push('', '## Side by Side', '');
  out.push(`| | ${ranked.map(({ r }) => cell(r.to.display)).join(' | ')} |`, `|---|${ranked.map(() => '---').join('|')}|`);
  for (const row of comparisonRows(c)) out.push(`| ${cell(row.label)} | ${row.values.map(cell).join(' | ')} |`);
  out.push('', '## Why This Order', '', c.justification || '_Not available._', '');
  for (const { place, r } of ranked) {
    // Each destination's own report, one heading level down, exactly as a one-destination answer reads.
    const section = renderReport(r, options).replace(/^(#+) /gm, '#$1 ').replace(/^## Should You Move/m, `## ${place}. Should You Move`);
    out.push(section, '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/** `{from}_to_{a}_{b}_{c}_{stamp}_comparison.md`, like a one-destination report's name. */
export function comparisonFileName(c: Comparison, clock: Clock): string {
  return fileNameFor(c.from, c.destinations.map((d) => d.to), clock, 'comparison');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}
