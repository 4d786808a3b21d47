import { comparisonRows, rankedDestinations } from '../../src/team/comparison-report.js';
import type { Comparison } from '../../src/team/comparison-schema.js';
import { headline } from '../../src/team/report.js';
import { noPings } from '../no-pings.js';

/** One embed of a comparison: a destination, its place and its deciding figures as inline fields. */
export interface ComparisonEmbed {
  title: string;
  description: string;
  color?: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
}

/** Discord's embed limits: 256-character titles, 25 fields of 256 / 1,024 characters; 6,000 in all per message. */
const FIELD_NAME = 256;
const FIELD_VALUE = 1_024;
const FIELDS = 25;

/** The ranking's chat text: the order with reasons, then the justification; within one message. */
export function comparisonContent(c: Comparison, maxChars: number): string {
  const lines = [`**Ranking for a move from ${c.from.display}** (confidence: ${c.confidence})`];
  if (c.limitNote) lines.push(`_${c.limitNote}_`);
  for (const { place, r, reason } of rankedDestinations(c)) lines.push(`${place}. **${r.to.display}**: ${headline(r.recommendation)}${reason ? `. ${reason}` : ''}`);
  if (c.justification.trim()) lines.push('', c.justification.trim());
  return truncate(noPings(lines.join('\n')), maxChars);
}

/** One embed per destination in ranked order, its figures side by side with the others' (same field order). */
export function comparisonEmbeds(c: Comparison, color: number): ComparisonEmbed[] {
  const rows = comparisonRows(c);
  return rankedDestinations(c).map(({ place, r }, i) => ({
    title: truncate(`${place}. ${r.to.display}`, 256),
    description: r.cost.status === 'ok' ? `[NerdWallet cost of living calculator](${r.cost.data.sourceUrl})` : `Cost unavailable: ${noPings(r.cost.reason)}`,
    color,
    fields: rows.slice(0, FIELDS).map((row) => ({
      name: truncate(row.label, FIELD_NAME),
      value: truncate(noPings(row.values[i] ?? '—'), FIELD_VALUE),
      inline: true,
    })),
  }));
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
