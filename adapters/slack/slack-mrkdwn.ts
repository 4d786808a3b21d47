import { noPings } from '../no-pings.js';
/**
 * Markdown as our team writes it (**bold**, _italic_, [text](url), headings, lists, quotes, code) to
 * Slack mrkdwn (*bold*, _italic_, <url|text>). Text is escaped (&, <, >) so that model output can
 * never ping `<!channel>` or a user, nor forge a link; only links we build here stay live.
 */

const CODE = /```[\s\S]*?```|`[^`\n]+`/g;
const LINK = /\[([^\]\n]*)\]\((https?:\/\/[^)\s]+)\)/g;
const BARE_URL = /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/g;

/** Converts Markdown to Slack mrkdwn. */
export function toMrkdwn(markdown: string): string {
  const stash: string[] = [];
  const hold = (text: string) => `\u0000${stash.push(text) - 1}\u0000`;

  let text = markdown.replace(/\r\n?/g, '\n');
  // Code is shown as typed (escaped only, as Slack requires).
  text = text.replace(CODE, (code) => hold(escapeMrkdwn(code)));
  text = text.replace(LINK, (_m, label: string, url: string) => hold(slackLink(url, label)));
  text = text.replace(BARE_URL, (url) => hold(slackLink(url)));
  text = noPings(escapeMrkdwn(text));
  text = text
    .split('\n')
    .map((line) => convertLine(line))
    .join('\n');
  // Bold before italics: **x** → *x*, then single *x* (Markdown italics) → _x_.
  text = text.replace(/\*\*(?=\S)([^*\n]+?)\*\*|__(?=\S)([^_\n]+?)__/g, (_m, a?: string, b?: string) =>
    hold(`*${a ?? b}*`),
  );
  text = text.replace(/(^|[^\w*])\*(?=\S)([^*\n]+?)\*(?!\w)/g, '$1_$2_');
  text = text.replace(/~~(?=\S)([^~\n]+?)~~/g, '~$1~');
  // Restore in reverse so stashed items that contain other placeholders unfold fully.
  for (let i = stash.length - 1; i >= 0; i -= 1) text = text.replaceAll(`\u0000${i}\u0000`, stash[i] ?? '');
  return text;
}

/** `<url|label>` with the characters Slack's link syntax reserves neutralised. */
export function slackLink(url: string, label?: string): string {
  const safeUrl = url.replace(/[<>| ]/g, encodeURIComponent);
  const safeLabel = label?.replace(/[|]/g, '¦').trim();
  return safeLabel ? `<${safeUrl}|${escapeMrkdwn(safeLabel)}>` : `<${safeUrl}>`;
}

/** Slack's three control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for Slack's `text` fields and streamed Markdown: escaped so `<!channel>`, `<!here>` or
 * `<@U123>` from a model or a forum post shows as written instead of notifying anyone.
 */
export function slackSafeText(text: string): string {
  return noPings(escapeMrkdwn(text));
}

/** Headings become bold lines, list bullets become •, quotes keep Slack's `>` (escaped above). */
function convertLine(line: string): string {
  const heading = /^#{1,6}\s+(.*)$/.exec(line);
  if (heading) return `**${(heading[1] ?? '').replace(/\*\*/g, '')}**`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${bullet[2] ?? ''}`;
  const quote = /^&gt;\s?(.*)$/.exec(line);
  if (quote) return `> ${quote[1] ?? ''}`;
  if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return '───';
  return line;
}
