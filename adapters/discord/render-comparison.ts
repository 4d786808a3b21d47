import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { comparisonRows, rankedDestinations, rankingLines } from '../../src/team/comparison-report.js';
import type { Comparison } from '../../src/team/comparison-schema.js';
import { truncate } from '../../src/util/format.js';
import { noPings } from '../no-pings.js';

/** One embed of a comparison: a destination, its place and its deciding figures as inline fields. */
interface ComparisonEmbed {
  title: string;
  description: string;
  color?: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
}

const LIMITS = PLATFORM_LIMITS.discord;

/** The ranking's chat text: the order with reasons, then the justification; within one message. */
export function comparisonContent(c: Comparison, maxChars: number): string {
  const lines = [`**Ranking for a move from ${c.from.display}** (confidence: ${c.confidence})`];
  if (c.limitNote) lines.push(`_${c.limitNote}_`);
  lines.push(...rankingLines(c));
  if (c.justification.trim()) lines.push('', c.justification.trim());
  return truncate(noPings(lines.join('\n')), maxChars);
}

/** One embed per destination in ranked order, its figures side by side with the others' (same field order). */
export function comparisonEmbeds(c: Comparison, color: number): ComparisonEmbed[] {
  const rows = comparisonRows(c);
  return rankedDestinations(c).map(({ place, r }, i) => ({
    title: truncate(`${place}. ${r.to.display}`, LIMITS.embedTitle),
    description: r.cost.status === 'ok' ? `[NerdWallet cost of living calculator](${r.cost.data.sourceUrl})` : `Cost unavailable: ${noPings(r.cost.reason)}`,
    color,
    fields: rows.slice(0, LIMITS.embedFields).map((row) => ({
      name: truncate(row.label, LIMITS.fieldName),
      value: truncate(noPings(row.values[i] ?? '—'), LIMITS.fieldValue),
      inline: true,
    })),
  }));
}
