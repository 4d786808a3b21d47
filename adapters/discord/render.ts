import type { ChatAnswer } from '../../src/ports/chat-adapter.js';
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { splitText } from '../split-text.js';

const LIMITS = PLATFORM_LIMITS.discord;
const EMBED_CHUNK = LIMITS.embedChunk;
const EMBED_COLOR = 0x2f80ed;

/** A message body as Discord's REST API takes it (create, edit or interaction webhook edit). */
export interface DiscordMessageBody {
  content: string;
  embeds: Array<{ description: string; color?: number; title?: string }>;
  /** Always empty: model output must never ping @everyone, roles or users. */
  allowed_mentions: { parse: [] };
  attachments?: Array<{ id: number; filename: string }>;
}

/** The answer as Discord messages: `main` replaces the placeholder, `overflow` follows in the thread. */
export interface RenderedAnswer {
  main: DiscordMessageBody;
  overflow: DiscordMessageBody[];
}

const body = (content: string, embeds: DiscordMessageBody['embeds'] = []): DiscordMessageBody => ({
  content,
  embeds,
  allowed_mentions: { parse: [] },
});

/** The placeholder and progress text; progress boards are short, but never let one break the limit. */
export function renderStatus(text: string): DiscordMessageBody {
  return body(truncate(text, LIMITS.messageChars));
}

/**
 * Short answers go in `content`; longer ones in embeds, whose 4,096-character descriptions hold twice
 * as much per message, one embed per message so each stays within the 6,000-character total.
 */
export function renderAnswer(answer: ChatAnswer): RenderedAnswer {
  const text = answerText(answer);
  if (text.length <= LIMITS.messageChars) return { main: body(text), overflow: [] };
  const [first = '', ...rest] = splitText(text, EMBED_CHUNK);
  const embed = (description: string) => [{ description, color: EMBED_COLOR }];
  return { main: body('', embed(first)), overflow: rest.map((chunk) => body('', embed(chunk))) };
}

/** The chat text of an answer, with failures marked so they read as such. */
export function answerText(answer: ChatAnswer): string {
  const { outcome } = answer;
  const text = outcome.text.trim() || 'I have no answer to that.';
  return outcome.kind === 'error' ? `⚠️ ${text}` : text;
}

/** The message carrying the full Markdown report as a file. */
export function renderReport(fileName: string): DiscordMessageBody {
  return { ...body(`📄 Full report: \`${fileName}\``), attachments: [{ id: 0, filename: fileName }] };
}

/** A thread name (Discord allows 1–100 characters) for the conversation. */
export function threadName(answerOrStatus: ChatAnswer | string): string {
  if (typeof answerOrStatus !== 'string' && answerOrStatus.outcome.kind === 'recommendation') {
    const { from, to } = answerOrStatus.outcome.recommendation;
    return truncate(`${from.display} → ${to.display}`, 100);
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

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
