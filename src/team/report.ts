import type { Clock } from '../clock.js';
import { cellsOf } from '../tools/cost-extraction.js';
import { taxLines, taxSummaryLine } from './taxes.js';
import type { CityRef, Recommendation, Section } from './types.js';

/**
 * How a rendering treats the asker's remembered facts: quoted where only they read it; in a shared
 * place (`shared`, a channel) only counted, never quoted (src/memory/place.ts).
 */
export interface RenderOptions {
  shared?: boolean;
}

/**
 * Renders a Recommendation as the original system's Markdown report. Every figure printed here comes
 * from the structured data (parsed from the source page), never from model prose.
 */
export function renderReport(r: Recommendation, options: RenderOptions = {}): string {
  const out: string[] = [];
  out.push(`# Should You Move from ${r.from.display} to ${r.to.display}?`, '');
  out.push(`**Report Generated:** ${formatDate(r.generatedAt)}  `);
  out.push('**Analysis Type:** Multi-agent team (Cost Analyst, Sentiment Analyst, Migration Researcher)', '');

  out.push('## Executive Summary', '');
  out.push(`**Recommendation:** ${headline(r.recommendation)}  `);
  out.push(`**Confidence Level:** ${r.confidence}`, '');
  if (r.memoriesUsed.length && options.shared) {
    out.push(`*${memoriesCounted(r.memoriesUsed.length)} They are not listed in a report shared in a channel.*`, '');
  } else if (r.memoriesUsed.length) {
    out.push(`*Personalised with what you told me before: ${r.memoriesUsed.map((m) => `"${m}"`).join('; ')}.*`, '');
  }

  out.push('## Cost Analysis Report', '');
  out.push(...section(r.cost, (c) => {
    const lines: string[] = [];
    if (c.figures.length) {
      lines.push('| Category | Difference | Source sentence |', '|---|---|---|');
      for (const f of c.figures) lines.push(`| ${cell(f.label)} | ${cell(f.value)} | ${cell(quoted(f.evidence))} |`);
      lines.push('');
    }
    const a = c.analysis;
    lines.push(...para('Overall', a.overall_cost_difference), ...para('Housing', a.housing_comparison));
    lines.push(...para('Food', a.food_comparison), ...para('Transportation', a.transportation_comparison));
    lines.push(...para('Taxes', a.taxes_comparison));
    if (a.key_insights.length) lines.push('**Key insights:**', ...bullets(a.key_insights), '');
    lines.push(`*Source: [NerdWallet cost of living calculator](${c.sourceUrl})${c.cached ? ' (cached)' : ''}*`, '');
    return lines;
  }));

  if (r.taxes) out.push('## State Taxes', '', ...taxLines(r.taxes, r.from, r.to), '');

  out.push('## Sentiment & Lifestyle Analysis Report', '');
  out.push(...section(r.sentiment, (s) => {
    const a = s.analysis;
    const lines = [...para('Overall sentiment', a.overall_sentiment), ...para('Vibe', a.vibe_description)];
    if (a.livability_score != null) lines.push(`**Livability score:** ${a.livability_score}/10`, '');
    lines.push(...para('Fit with your preferences', a.alignment_with_preferences));
    if (a.notable_pros.length) lines.push('**Pros:**', ...bullets(a.notable_pros), '');
    if (a.notable_cons.length) lines.push('**Cons:**', ...bullets(a.notable_cons), '');
    if (s.sources.length) lines.push(`*Sources: ${s.sources.map((x) => link(x.title, x.url)).join(', ')}*`, '');
    return lines;
  }));

  out.push('## Migration Research Report', '');
  out.push(...section(r.migration, (m) => {
    const i = m.insights;
    const lines = [`**Sources analysed:** ${i.number_of_sources} Reddit discussions`, ''];
    lines.push(...para('What redditors say', i.redditor_perspectives));
    if (i.common_reasons_for_moving.length) lines.push('**Common reasons for moving:**', ...bullets(i.common_reasons_for_moving), '');
    if (i.common_challenges.length) lines.push('**Common challenges:**', ...bullets(i.common_challenges), '');
    if (i.common_positive_outcomes.length) lines.push('**Positive outcomes:**', ...bullets(i.common_positive_outcomes), '');
    if (i.regrets_or_warnings.length) lines.push('**Regrets or warnings:**', ...bullets(i.regrets_or_warnings), '');
    lines.push(...para('Summary', i.summary));
    return lines;
  }));

  out.push('## Key Supporting Factors', '', ...bullets(r.supportingFactors, 'None identified.'), '');
  out.push('## Key Concerns', '', ...bullets(r.concerns, 'None identified.'), '');
  out.push('## Detailed Justification', '', r.justification || '_Not available._', '');
  out.push('## Featured Migration Quotes', '');
  if (r.quotes.length === 0) out.push('_No verifiable quotes were found._', '');
  for (const q of r.quotes) out.push(`> "${oneLine(q.quote)}"`, `> — [Source](${q.url})`, '');
  out.push('## Next Steps', '', ...r.nextSteps.map((s, i) => `${i + 1}. ${s}`), '');
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/**
 * `{from}_to_{to}_{YYYYMMDD_HHMMSS}_analysis.md`, as the original names its reports. The stamp is UTC,
 * like the report's "Report Generated" line: a report attached in Slack is read in every time zone.
 */
export function reportFileName(r: Pick<Recommendation, 'from' | 'to'>, clock: Clock): string {
  return fileNameFor(r.from, [r.to], clock, 'analysis');
}

/** `{from}_to_{a}_{b}…_{YYYYMMDD_HHMMSS}_{kind}.md`: the name of a report about these cities. */
export function fileNameFor(from: CityRef, to: CityRef[], clock: Clock, kind: string): string {
  const stamp = new Date(clock.now()).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  return `${slug(from.name)}_to_${to.map((c) => slug(c.name)).join('_')}_${stamp}_${kind}.md`;
}

/** A compact chat answer (the full report is attached or saved separately). */
export function renderSummary(r: Recommendation, options: RenderOptions = {}): string {
  const lines = [
    `**${headline(r.recommendation)}** for ${r.from.display} → ${r.to.display} (confidence: ${r.confidence})`,
  ];
  if (r.memoriesUsed.length && options.shared) lines.push(`_${memoriesCounted(r.memoriesUsed.length)}_`);
  else if (r.memoriesUsed.length) lines.push(`_You mentioned: ${r.memoriesUsed.map((m) => `"${m}"`).join('; ')}._`);
  lines.push(...costLines(r));
  // In a shared place the section comes without the income (src/memory/place.ts): rates, no estimate.
  const taxes = taxSummaryLine(r.taxes, r.from, r.to);
  if (taxes) lines.push(taxes);
  if (r.sentiment.status === 'ok') lines.push(`**Vibe:** ${r.sentiment.data.analysis.overall_sentiment}`);
  else lines.push(`**Vibe:** unavailable: ${r.sentiment.reason}`);
  if (r.migration.status === 'ok') lines.push(`**Reddit:** ${r.migration.data.insights.summary}`);
  else lines.push(`**Reddit:** unavailable: ${r.migration.reason}`);
  if (r.supportingFactors.length) lines.push('**For:**', ...bullets(r.supportingFactors.slice(0, 4)));
  if (r.concerns.length) lines.push('**Against:**', ...bullets(r.concerns.slice(0, 4)));
  lines.push(...quoteLines(r));
  if (r.nextSteps.length) lines.push('**Next steps:**', ...r.nextSteps.slice(0, 4).map((s, i) => `${i + 1}. ${s}`));
  return lines.join('\n');
}

/**
 * Someone else's recommendation as another person in the thread may build on it: the cities, the
 * page's figures and verbatim quotes. Every model-written part was written from that person's situation.
 */
export function renderSharedSummary(r: Recommendation): string {
  return [
    `Analysis of ${r.from.display} → ${r.to.display}, made for another person in this thread`,
    ...costLines(r),
    ...quoteLines(r),
  ].join('\n');
}

/** "Personalised with 2 of your saved details.": how a shared place hears of them (src/memory/place.ts). */
export function memoriesCounted(count: number): string {
  return `Personalised with ${count} of your saved ${count === 1 ? 'detail' : 'details'}.`;
}

function costLines(r: Recommendation): string[] {
  if (r.cost.status !== 'ok') return [`**Cost:** unavailable: ${r.cost.reason}`];
  const top = r.cost.data.figures.slice(0, 4).map((f) => `${f.label}: ${f.value}`);
  return top.length ? [`**Cost:** ${top.join(' · ')}`] : [];
}

function quoteLines(r: Recommendation): string[] {
  return r.quotes.slice(0, 2).map((q) => `> "${oneLine(q.quote)}" — [Source](${q.url})`);
}

export function headline(kind: Recommendation['recommendation']): string {
  return kind === 'move' ? 'Move' : kind === "don't move" ? "Don't move" : 'More research needed';
}

function section<T>(s: Section<T>, render: (data: T) => string[]): string[] {
  return s.status === 'ok' ? render(s.data) : [`_Unavailable: ${s.reason}._`, ''];
}

function para(label: string, text: string): string[] {
  return text ? [`**${label}:** ${text}`, ''] : [];
}

function bullets(items: string[], empty?: string): string[] {
  if (items.length === 0) return empty ? [`_${empty}_`] : [];
  return items.map((i) => `- ${i}`);
}

/** A quote with line breaks would fall out of its `>` block; verbatim apart from whitespace. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A table row from the page quoted as its cells ("Housing · 31% lower"): escaped pipes read as noise. */
function quoted(evidence: string): string {
  const row = evidence.trim();
  if (!row.startsWith('|')) return evidence;
  return cellsOf(row).filter(Boolean).join(' · ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function link(title: string, url: string): string {
  return `[${title.replace(/[[\]]/g, '')}](${url})`;
}

function formatDate(iso: string): string {
  return `${new Date(iso).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
