import type { types } from '@slack/bolt';
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { comparisonRows, rankedDestinations, rankingLines } from '../../src/team/comparison-report.js';
import type { Comparison } from '../../src/team/comparison-schema.js';
import { memoriesCounted } from '../../src/team/report.js';
import { truncate } from '../../src/util/format.js';
import { escapeMrkdwn, slackLink } from './slack-mrkdwn.js';

type KnownBlock = types.KnownBlock;
const LIMITS = PLATFORM_LIMITS.slack;

/**
 * A several-destination answer: the ranking with its reasons, the justification, then one section per
 * destination whose fields hold its deciding figures (Slack's two-column fields read as a table).
 * `markdown`/`text`/`context` render prose the way the one-destination blocks do (slack-blocks.ts).
 */
export function comparisonBlocks(
  c: Comparison,
  opts: {
    hasReport: boolean;
    withJustification: boolean;
    savedDetails?: number;
    markdown: (md: string) => KnownBlock[];
    text: (md: string) => KnownBlock[];
    context: (text: string, trusted?: boolean) => KnownBlock;
  },
): KnownBlock[] {
  const ranked = rankedDestinations(c);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${c.from.display} → ${c.destinations.map((d) => d.to.display).join(', ')}`, LIMITS.headerChars) },
    },
    ...opts.text(`**Ranking** (confidence: ${c.confidence})\n${rankingLines(c).join('\n')}`),
  ];
  if (c.limitNote) blocks.push(opts.context(c.limitNote));
  if (opts.savedDetails) blocks.push(opts.context(memoriesCounted(opts.savedDetails)));
  if (c.justification && opts.withJustification) blocks.push(...opts.markdown(c.justification));
  const rows = comparisonRows(c);
  ranked.forEach(({ place, r }, i) => {
    blocks.push({ type: 'divider' }, ...opts.text(`**${place}. ${r.to.display}**`));
    const fields = rows.slice(0, LIMITS.fieldsPerSection).map((row) => ({
      type: 'mrkdwn' as const,
      text: truncate(`*${escapeMrkdwn(row.label)}*\n${escapeMrkdwn(row.values[i] ?? '—')}`, LIMITS.fieldChars),
    }));
    blocks.push({ type: 'section', fields });
    if (r.cost.status === 'ok') blocks.push(opts.context(`Source: ${slackLink(r.cost.data.sourceUrl, 'NerdWallet cost of living calculator')}`, true));
    else blocks.push(opts.context(`Cost unavailable: ${r.cost.reason}`));
  });
  if (opts.hasReport) blocks.push(opts.context('The full report, one section per destination, is attached below as a Markdown file.', true));
  return blocks;
}
