import { noPings } from '../no-pings.js';
import type { AnswerControls, ChatAnswer } from '../../src/ports/chat-adapter.js';
import { encodeAction, type FollowUpId } from '../../src/run/answer-actions.js';
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { splitText } from '../split-text.js';
import { truncate } from '../../src/util/format.js';
import { comparisonContent, comparisonEmbeds } from './render-comparison.js';

const LIMITS = PLATFORM_LIMITS.discord;
const EMBED_CHUNK = LIMITS.embedChunk;
const EMBED_COLOR = 0x2f80ed;

/** A row of buttons (message components type 1 holding type 2). */
export interface DiscordActionRow {
  type: 1;
  components: Array<{ type: number; style: number; label: string; custom_id: string; emoji?: { name: string } }>;
}

/** A message body as Discord's REST API takes it (create, edit or interaction webhook edit). */
export interface DiscordMessageBody {
  content: string;
  embeds: Array<{
    description: string;
    color?: number;
    title?: string;
    image?: { url: string };
    fields?: Array<{ name: string; value: string; inline?: boolean }>;
  }>;
  /** Always empty: model output must never ping @everyone, roles or users. */
  allowed_mentions: { parse: [] };
  /** Buttons (Stop, feedback, follow-ups); an empty list removes earlier ones on an edit. */
  components?: DiscordActionRow[];
  /** Files sent with the message; `description` is an image's alt text. */
  attachments?: Array<{ id: number; filename: string; description?: string }>;
}

/** The answer as Discord messages: `main` replaces the placeholder, `overflow` follows in the thread. */
export interface RenderedAnswer {
  main: DiscordMessageBody;
  overflow: DiscordMessageBody[];
}

const body = (content: string, embeds: DiscordMessageBody['embeds'] = []): DiscordMessageBody => ({
  content: noPings(content),
  embeds: embeds.map((e) => ({ ...e, description: noPings(e.description) })),
  allowed_mentions: { parse: [] },
  components: [],
});

/** The placeholder and progress (the plan, then the answer as it is written), with a Stop button while it runs. */
export function renderStatus(text: string, controls?: AnswerControls): DiscordMessageBody {
  return { ...body(truncate(text, LIMITS.messageChars)), components: renderControls(controls) };
}

/**
 * The buttons under an answer, as action rows: Stop while it is written; "Which ones?" (shared places:
 * the saved details the answer used), thumbs up / down and the one-click follow-ups once it is done. Each custom_id is the action id (answer-actions.ts).
 */
export function renderControls(controls: AnswerControls | undefined): DiscordActionRow[] {
  if (!controls) return [];
  const { runId } = controls;
  const button = (label: string, custom_id: string, style: number, emoji?: string) => ({
    type: 2,
    style,
    label,
    custom_id,
    ...(emoji && { emoji: { name: emoji } }),
  });
  const rows: DiscordActionRow[] = [];
  if (controls.stop) rows.push({ type: 1, components: [button('Stop', encodeAction({ kind: 'stop', runId }), STYLE.danger, '⏹️')] });
  // Lists the saved details the answer used to the asker alone (an ephemeral follow-up on the click).
  if (controls.savedDetails) {
    rows.push({ type: 1, components: [button('Which ones?', encodeAction({ kind: 'memories', runId }), STYLE.secondary, '🔒')] });
  }
  if (controls.feedback) {
    rows.push({
      type: 1,
      components: [
        button('Helpful', encodeAction({ kind: 'feedback', runId, rating: 'up' }), STYLE.secondary, '👍'),
        button('Not helpful', encodeAction({ kind: 'feedback', runId, rating: 'down' }), STYLE.secondary, '👎'),
      ],
    });
  }
  const followUps = controls.followUps ?? [];
  if (followUps.length > 0) {
    rows.push({
      type: 1,
      components: followUps.map((f) =>
        button(f.label, encodeAction({ kind: 'follow_up', runId, followUp: f.id as FollowUpId }), STYLE.primary),
      ),
    });
  }
  return rows;
}

/** Discord's button styles. */
const STYLE = { primary: 1, secondary: 2, danger: 4 } as const;

/**
 * Short answers go in `content`; longer ones in embeds, whose 4,096-character descriptions hold twice
 * as much per message, one embed per message so each stays within the 6,000-character total.
 */
export function renderAnswer(answer: ChatAnswer): RenderedAnswer {
  const { outcome } = answer;
  if (outcome.kind === 'recommendation' && outcome.comparison) {
    const c = outcome.comparison;
    const main = { ...body(comparisonContent(c, LIMITS.messageChars)), embeds: comparisonEmbeds(c, EMBED_COLOR), components: renderControls(answer.controls) };
    return { main, overflow: [] };
  }
  const text = answerText(answer);
  const components = renderControls(answer.controls);
  if (text.length <= LIMITS.messageChars) return { main: { ...body(text), components }, overflow: [] };
  const [first = '', ...rest] = splitText(text, EMBED_CHUNK);
  const embed = (description: string) => [{ description, color: EMBED_COLOR }];
  const messages = [first, ...rest].map((chunk) => body('', embed(chunk)));
  // The buttons go under the last part, where the reader finishes.
  messages[messages.length - 1]!.components = components;
  return { main: messages[0]!, overflow: messages.slice(1) };
}

/** The chat text of an answer, with failures marked so they read as such. */
export function answerText(answer: ChatAnswer): string {
  const { outcome } = answer;
  const text = (outcome.kind === 'recommendation' ? withJustification(outcome) : outcome.text).trim() || 'I have no answer to that.';
  return outcome.kind === 'error' ? `⚠️ ${text}` : text;
}

/**
 * A recommendation's summary with its justification under the headline: the progress edits showed the
 * justification as it was written, so the answer that replaces them keeps it (as Slack's answer does).
 */
function withJustification(outcome: Extract<ChatAnswer['outcome'], { kind: 'recommendation' }>): string {
  const justification = (outcome.comparison ?? outcome.recommendation).justification.trim();
  if (!justification) return outcome.text;
  const [headline = '', ...rest] = outcome.text.split('\n');
  return [headline, justification, ...rest].join('\n');
}

/** The message carrying the full Markdown report as a file. */
export function renderReport(fileName: string): DiscordMessageBody {
  return { ...body(`📄 Full report: \`${fileName}\``), attachments: [{ id: 0, filename: fileName }] };
}

/**
 * The message carrying the cost chart: an embed showing the attached PNG (`attachment://…`), with its
 * alt text as the attachment's description (what screen readers read) and as the embed's text.
 */
export function renderChart(chart: { fileName: string; alt: string }): DiscordMessageBody {
  const image = { url: `attachment://${chart.fileName}` };
  return {
    ...body('', [{ title: 'Cost of living compared', description: truncate(chart.alt, EMBED_CHUNK), color: EMBED_COLOR, image }]),
    attachments: [{ id: 0, filename: chart.fileName, description: truncate(chart.alt, 1_024) }],
  };
}

/** A thread name (Discord allows 1–100 characters) for the conversation. */
export function threadName(answerOrStatus: ChatAnswer | string): string {
  if (typeof answerOrStatus !== 'string' && answerOrStatus.outcome.kind === 'recommendation') {
    const { from, to } = answerOrStatus.outcome.recommendation;
    const destinations = answerOrStatus.outcome.comparison?.destinations.map((d) => d.to) ?? [to];
    return truncate(`${from.display} → ${destinations.map((d) => d.display).join(', ')}`, 100);
  }
  const text = typeof answerOrStatus === 'string' ? answerOrStatus : answerText(answerOrStatus);
  const firstLine = text
    .split('\n')[0]
    ?.replace(/^Looking into\s+/i, '')
    .replace(/[*_`>#]/g, '')
    .replace(/…$/, '')
    .trim();
  return truncate(firstLine || 'movebot', 90);
}
