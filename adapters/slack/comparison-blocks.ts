import type { types } from '@slack/bolt';
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { comparisonRows, rankedDestinations } from '../../src/team/comparison-report.js';
import type { Comparison } from '../../src/team/comparison-schema.js';
import { headline, memoriesCounted } from '../../src/team/report.js';
import { escapeMrkdwn, slackLink, toMrkdwn } from './slack-mrkdwn.js';

type KnownBlock = types.KnownBlock;
const LIMITS = PLATFORM_LIMITS.slack;

/**
 * A several-destination answer: the ranking with its reasons, the justification, then one section per
 * destination whose fields hold its deciding figures (Slack's two-column fields read as a table).
 * `markdown`/`text` render prose the way the one-destination blocks do (slack-blocks.ts).
 */
export function comparisonBlocks(
  c: Comparison,
  opts: { hasReport: boolean; withJustification: boolean; savedDetails?: number; markdown: (md: string) => KnownBlock[]; text: (md: string) => KnownBlock[] },
): KnownBlock[] {
  const ranked = rankedDestinations(c);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${c.from.display} → ${c.destinations.map((d) => d.to.display).join(', ')}`, LIMITS.headerChars) },
    },
    ...opts.text(`**Ranking** (confidence: ${c.confidence})\n${ranked.map(({ place, r, reason }) => `${place}. **${r.to.display}**: ${headline(r.recommendation)}${reason ? `. ${reason}` : ''}`).join('\n')}`),
  ];
  if (c.limitNote) blocks.push(context(toMrkdwn(c.limitNote)));
  if (opts.savedDetails) blocks.push(context(toMrkdwn(memoriesCounted(opts.savedDetails))));
  if (c.justification && opts.withJustification) blocks.push(...opts.markdown(c.justification));
  const rows = comparisonRows(c);
  ranked.forEach(({ place, r }, i) => {
    blocks.push({ type: 'divider' }, ...opts.text(`**${place}. ${r.to.display}**`));
    const fields = rows.slice(0, LIMITS.fieldsPerSection).map((row) => ({
      type: 'mrkdwn' as const,
      text: truncate(`*${escapeMrkdwn(row.label)}*\n${escapeMrkdwn(row.values[i] ?? '—')}`, LIMITS.fieldChars),
    }));
    blocks.push({ type: 'section', fields });
    if (r.cost.status === 'ok') blocks.push(context(`Source: ${slackLink(r.cost.data.sourceUrl, 'NerdWallet cost of living calculator')}`));
    else blocks.push(context(toMrkdwn(`Cost unavailable: ${r.cost.reason}`)));
  });
  if (opts.hasReport) blocks.push(context('The full report, one section per destination, is attached below as a Markdown file.'));
  return blocks;
}

function context(mrkdwn: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(mrkdwn, LIMITS.blockText) }] };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
