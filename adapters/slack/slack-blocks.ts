import type { types } from '@slack/bolt';
import { headline, memoriesCounted } from '../../src/team/report.js';
import { taxLines } from '../../src/team/taxes.js';
import { truncate } from '../../src/util/format.js';
import type { Recommendation, Section } from '../../src/team/types.js';
import { type AnswerControls, type ChatAnswer, PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { encodeAction, type FollowUpId } from '../../src/run/answer-actions.js';
import { splitText } from '../split-text.js';
import { comparisonBlocks } from './comparison-blocks.js';
import { escapeMrkdwn, slackLink, slackSafeText, toMrkdwn } from './slack-mrkdwn.js';

type KnownBlock = types.KnownBlock;

const LIMITS = PLATFORM_LIMITS.slack;
/** Block JSON per message; Slack rejects near 12-13k (msg_blocks_too_long), so keep a margin. */
const BLOCKS_JSON_BUDGET = LIMITS.messageChars - 1_000;
const { fallbackChars: FALLBACK_CHARS, headerChars: HEADER_CHARS, fieldChars: FIELD_CHARS, fieldsPerSection: FIELDS_PER_SECTION } =
  LIMITS;

/** One Slack message: `text` is always set, `blocks` carry the layout. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/**
 * The answer as Slack messages: the first replaces the placeholder, the rest follow in the thread.
 * Deterministic for a given answer, so a re-run yields the same parts under the same keys.
 */
export function renderAnswerMessages(answer: ChatAnswer): SlackMessage[] {
  const { outcome } = answer;
  const blocks =
    outcome.kind === 'recommendation'
      ? answerBlocks(outcome, answer, true)
      : outcome.kind === 'error'
        ? textBlocks(`:warning: ${outcome.text}`)
        : markdownBlocks(outcome.text);
  return asMessages(answer, [...blocks, ...controlBlocks(answer.controls)]);
}

/**
 * What closes a native stream: the text was streamed already (a recommendation's justification, or
 * the whole of any other answer), so only the rest of a recommendation and the buttons remain.
 */
export function renderStreamEnd(answer: ChatAnswer): SlackMessage[] {
  const { outcome } = answer;
  const blocks =
    outcome.kind === 'recommendation'
      ? answerBlocks(outcome, answer, false)
      : [];
  return asMessages(answer, [...blocks, ...controlBlocks(answer.controls)]);
}

/**
 * The buttons under an answer: Stop while it is written; thumbs up / down (Slack's feedback
 * buttons) and one-click follow-ups once it is done. Each value is the action id (answer-actions.ts).
 */
export function controlBlocks(controls: AnswerControls | undefined): KnownBlock[] {
  if (!controls) return [];
  const { runId } = controls;
  const button = (text: string, id: string, style?: 'danger') => ({
    type: 'button' as const,
    action_id: id,
    value: id,
    text: { type: 'plain_text' as const, text },
    ...(style && { style }),
  });
  const blocks: KnownBlock[] = [];
  if (controls.stop) {
    blocks.push({ type: 'actions', block_id: 'mb-stop', elements: [button('Stop', encodeAction({ kind: 'stop', runId }), 'danger')] });
  }
  if (controls.savedDetails) {
    // Lists the saved details the answer used to the asker alone (chat.postEphemeral on the click).
    blocks.push({ type: 'actions', block_id: 'mb-memories', elements: [button('Which ones?', encodeAction({ kind: 'memories', runId }))] });
  }
  if (controls.feedback) {
    const vote = (rating: 'up' | 'down', text: string, label: string) => ({
      text: { type: 'plain_text' as const, text },
      value: encodeAction({ kind: 'feedback', runId, rating }),
      accessibility_label: label,
    });
    blocks.push({
      type: 'context_actions',
      block_id: 'mb-feedback',
      elements: [
        {
          type: 'feedback_buttons',
          action_id: `mb:fb:${runId}`,
          positive_button: vote('up', 'Good answer', 'Mark this answer as good'),
          negative_button: vote('down', 'Not helpful', 'Mark this answer as not helpful'),
        },
      ],
    });
  }
  const followUps = controls.followUps ?? [];
  if (followUps.length > 0) {
    blocks.push({
      type: 'actions',
      block_id: 'mb-follow-ups',
      elements: followUps.map((f) => button(f.label, encodeAction({ kind: 'follow_up', runId, followUp: f.id as FollowUpId }))),
    });
  }
  return blocks;
}

function asMessages(answer: ChatAnswer, blocks: KnownBlock[]): SlackMessage[] {
  const { outcome } = answer;
  const fallback = slackSafeText(outcome.kind === 'error' ? `⚠️ ${outcome.text}` : outcome.text);
  return packBlocks(blocks).map((part, i) => ({
    text: truncate(
      i === 0 ? fallback.trim() || 'Answer' : `${firstLine(fallback)} (part ${i + 1})`,
      FALLBACK_CHARS,
    ),
    blocks: part,
  }));
}

/** The placeholder and its progress edits: the status text, and a Stop button while the answer is written. */
export function renderStatusMessage(text: string, controls?: AnswerControls): SlackMessage {
  const status = renderStatusText(text);
  return { text: status, blocks: [section(status), ...controlBlocks(controls)] };
}

/** Placeholder and progress text: mrkdwn, within one section's limit. */
export function renderStatusText(text: string): string {
  return truncate(toMrkdwn(text), LIMITS.blockText);
}

/**
 * Model-written prose in Slack's `markdown` block (standard Markdown, rendered by Slack), instead of our
 * own Markdown → mrkdwn conversion. Split like sections, so messages pack the same way and stay far
 * below the 12,000 characters all markdown blocks of one message may hold. Escaped like any text we
 * post, so it cannot notify anyone.
 */
export function markdownBlocks(markdown: string): KnownBlock[] {
  const text = slackSafeText(markdown.trim() || 'I have no answer to that.');
  return splitText(text, LIMITS.blockText).map((part) => ({ type: 'markdown', text: part }) as KnownBlock);
}

/** Markdown as mrkdwn section blocks, each within the 3,000-character section limit. */
export function textBlocks(markdown: string): KnownBlock[] {
  const mrkdwn = toMrkdwn(markdown.trim() || 'I have no answer to that.');
  return splitText(mrkdwn, LIMITS.blockText).map(section);
}

/** One destination's blocks, or a several-destination comparison's (comparison-blocks.ts). */
function answerBlocks(outcome: Extract<ChatAnswer['outcome'], { kind: 'recommendation' }>, answer: ChatAnswer, withJustification: boolean): KnownBlock[] {
  const hasReport = answer.report !== undefined;
  if (!outcome.comparison) return recommendationBlocks(outcome.recommendation, hasReport, withJustification, answer.savedDetails);
  return comparisonBlocks(outcome.comparison, { hasReport, withJustification, savedDetails: answer.savedDetails, markdown: markdownBlocks, text: textBlocks, context });
}

/** `savedDetails`: in a shared place, the memories used are counted, never quoted (src/memory/place.ts). */
function recommendationBlocks(r: Recommendation, hasReport: boolean, withJustification: boolean, savedDetails?: number): KnownBlock[] {
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${r.from.display} → ${r.to.display}`, HEADER_CHARS) },
    },
    ...textBlocks(`**Recommendation:** ${headline(r.recommendation)}    **Confidence:** ${r.confidence}`),
  ];
  if (savedDetails) blocks.push(context(memoriesCounted(savedDetails)));
  else if (r.memoriesUsed.length > 0) {
    blocks.push(context(`You mentioned: ${r.memoriesUsed.map((m) => `"${m}"`).join('; ')}`));
  }
  if (r.justification && withJustification) blocks.push(...markdownBlocks(r.justification));

  blocks.push({ type: 'divider' }, ...textBlocks('**💰 Cost of living**'));
  blocks.push(
    ...sectionOr(r.cost, (c) => {
      const out: KnownBlock[] = [];
      for (let i = 0; i < c.figures.length; i += FIELDS_PER_SECTION) {
        out.push({
          type: 'section',
          fields: c.figures.slice(i, i + FIELDS_PER_SECTION).map((f) => ({
            type: 'mrkdwn' as const,
            text: truncate(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, FIELD_CHARS),
          })),
        });
      }
      if (c.analysis.overall_cost_difference) out.push(...textBlocks(c.analysis.overall_cost_difference));
      out.push(
        context(
          `Source: ${slackLink(c.sourceUrl, 'NerdWallet cost of living calculator')}${c.cached ? ' (cached)' : ''}`,
          true,
        ),
      );
      return out;
    }),
  );

  if (r.taxes) {
    blocks.push({ type: 'divider' }, ...textBlocks('**🧾 State taxes**'));
    blocks.push(...textBlocks(taxLines(r.taxes, r.from, r.to).join('\n')));
  }

  blocks.push({ type: 'divider' }, ...textBlocks('**🌆 Vibe**'));
  blocks.push(
    ...sectionOr(r.sentiment, (s) => {
      const a = s.analysis;
      const lines = [a.overall_sentiment, a.vibe_description, a.alignment_with_preferences].filter(Boolean);
      if (a.livability_score != null) lines.push(`**Livability:** ${a.livability_score}/10`);
      return textBlocks(lines.join('\n\n'));
    }),
  );

  if (r.supportingFactors.length > 0) blocks.push(...textBlocks(`**For**\n${bullets(r.supportingFactors)}`));
  if (r.concerns.length > 0) blocks.push(...textBlocks(`**Against**\n${bullets(r.concerns)}`));

  blocks.push({ type: 'divider' }, ...textBlocks('**🧳 What people who moved say (Reddit)**'));
  blocks.push(...sectionOr(r.migration, (m) => (m.insights.summary ? textBlocks(m.insights.summary) : [])));
  for (const q of r.quotes) blocks.push(...textBlocks(`> "${q.quote}" — [Source](${q.url})`));

  if (r.nextSteps.length > 0) {
    blocks.push(
      { type: 'divider' },
      ...textBlocks(`**Next steps**\n${r.nextSteps.map((s, i) => `${i + 1}. ${s}`).join('\n')}`),
    );
  }
  if (hasReport) blocks.push(context('The full report is attached below as a Markdown file.'));
  return blocks;
}

function sectionOr<T>(s: Section<T>, render: (data: T) => KnownBlock[]): KnownBlock[] {
  return s.status === 'ok' ? render(s.data) : [context(`Unavailable: ${s.reason}`)];
}

/** Groups blocks into messages within the block count and size limits. */
export function packBlocks(blocks: KnownBlock[]): KnownBlock[][] {
  const messages: KnownBlock[][] = [];
  let current: KnownBlock[] = [];
  let size = 2;
  for (const block of blocks) {
    const blockSize = JSON.stringify(block).length + 1;
    if (
      current.length > 0 &&
      (current.length >= LIMITS.blocksPerMessage || size + blockSize > BLOCKS_JSON_BUDGET)
    ) {
      messages.push(trimDividers(current));
      current = [];
      size = 2;
    }
    current.push(block);
    size += blockSize;
  }
  if (current.length > 0) messages.push(trimDividers(current));
  return messages.filter((m) => m.length > 0);
}

/** A divider at either end of a message separates nothing. */
function trimDividers(blocks: KnownBlock[]): KnownBlock[] {
  let start = 0;
  let end = blocks.length;
  while (start < end && blocks[start]?.type === 'divider') start += 1;
  while (end > start && blocks[end - 1]?.type === 'divider') end -= 1;
  return blocks.slice(start, end);
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A small grey line; `trusted` when the text is already mrkdwn we built. */
function context(text: string, trusted = false): KnownBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(trusted ? text : toMrkdwn(text), LIMITS.blockText) }],
  };
}

function bullets(items: string[]): string {
  return items.map((i) => `- ${i}`).join('\n');
}

function firstLine(text: string): string {
  return truncate(
    text
      .split('\n')[0]
      ?.replace(/[*_`#>]/g, '')
      .trim() || 'Answer',
    200,
  );
}
