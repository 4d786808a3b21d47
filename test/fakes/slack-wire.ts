/**
 * Slack wire formats used by slack-fake.ts: request signing, the `event_callback` envelope, realistic
 * event payloads and monotonically increasing message timestamps. Pure functions, no server.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** A Slack event as delivered inside an `event_callback` envelope. */
export type SlackEvent = Record<string, unknown> & { type: string };

/** `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack signs every request to the app. */
export function signSlackRequest(signingSecret: string, timestampSec: number, body: string): string {
  const hmac = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return `v0=${hmac}`;
}

/** Issues Slack-style timestamps ("1700000000.000100", "1700000000.000200", …): unique and ordered. */
export function createTsGenerator(startSec = 1_700_000_000): () => string {
  let n = 0;
  return () => {
    n += 1;
    const micros = n * 100;
    const sec = startSec + Math.floor(micros / 1_000_000);
    return `${sec}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };
}

/** Orders Slack timestamps numerically without float rounding. */
export function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

/** A fresh event id like Slack's `Ev0123ABCD`. */
export function newEventId(): string {
  return `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** The `event_callback` envelope Slack POSTs to `/slack/events` (and wraps in Socket Mode payloads). */
export function eventCallbackEnvelope(
  event: SlackEvent,
  opts: { teamId: string; botUserId: string; appId: string; eventId?: string },
): Record<string, unknown> {
  return {
    token: 'fake-verification-token',
    team_id: opts.teamId,
    api_app_id: opts.appId,
    event,
    type: 'event_callback',
    event_id: opts.eventId ?? newEventId(),
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: opts.teamId,
        user_id: opts.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(8).toString('hex')}`,
  };
}

/** Fields a test gives to build a user's message or mention. */
export interface UserMessageInput {
  /** Channel id, e.g. `C123` (or `D123` for a DM). */
  channel: string;
  /** The human author's user id, e.g. `U123`. */
  user: string;
  /** Message text as the user typed it (Slack's mrkdwn with `<@U…>` mentions). */
  text: string;
  /** The message's own ts; a fresh one when omitted. */
  ts?: string;
  /** Parent ts when the message is a reply in a thread. */
  threadTs?: string;
}

/** `app_mention` event; `<@botUserId>` is prepended to the text when the text does not mention the bot. */
export function buildMentionEvent(
  input: UserMessageInput & { ts: string },
  botUserId: string,
  teamId: string,
) {
  const mention = `<@${botUserId}>`;
  const text = input.text.includes(mention) ? input.text : `${mention} ${input.text}`;
  return {
    type: 'app_mention',
    user: input.user,
    text,
    ts: input.ts,
    channel: input.channel,
    event_ts: input.ts,
    team: teamId,
    client_msg_id: randomBytes(8).toString('hex'),
    blocks: [richTextBlock(text)],
    ...(input.threadTs !== undefined && { thread_ts: input.threadTs }),
  } satisfies SlackEvent;
}

/** Extra fields for a `message` event. */
export interface MessageEventInput extends Omit<UserMessageInput, 'user'> {
  /** Human author; omitted for bot messages. */
  user?: string;
  /** `channel` (public channel) or `im` (DM); defaults from the channel id's first letter. */
  channelType?: 'channel' | 'group' | 'im' | 'mpim';
  /** e.g. `bot_message`, `message_changed`, `message_deleted`. */
  subtype?: string;
  /** Set for messages posted by a bot (Slack includes it on the bot's own messages too). */
  botId?: string;
}

/** `message` event as Slack sends it for channel messages and DMs. */
export function buildMessageEvent(input: MessageEventInput & { ts: string }, teamId: string) {
  return {
    type: 'message',
    text: input.text,
    ts: input.ts,
    channel: input.channel,
    event_ts: input.ts,
    team: teamId,
    channel_type: input.channelType ?? (input.channel.startsWith('D') ? 'im' : 'channel'),
    ...(input.user !== undefined && { user: input.user }),
    ...(input.subtype !== undefined && { subtype: input.subtype }),
    ...(input.botId !== undefined && { bot_id: input.botId }),
    ...(input.threadTs !== undefined && { thread_ts: input.threadTs }),
    ...(input.user !== undefined && { client_msg_id: randomBytes(8).toString('hex') }),
  } satisfies SlackEvent;
}

function richTextBlock(text: string) {
  return {
    type: 'rich_text',
    block_id: randomBytes(3).toString('hex'),
    elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
  };
}

/** Parses `blocks`/`attachments`/`files` which form-encoded Web API calls carry as JSON strings. */
export function decodeJsonFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  for (const key of ['blocks', 'attachments', 'files', 'metadata', 'suggested_prompts', 'loading_messages']) {
    const value = out[key];
    if (typeof value === 'string' && /^[[{]/.test(value.trim())) {
      try {
        out[key] = JSON.parse(value);
      } catch {
        // Leave malformed JSON as is: the method handler reports it as Slack would.
      }
    }
  }
  return out;
}

/** Why Slack would reject these blocks, or undefined when they pass the documented limits. */
export function blocksProblem(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > 50) return 'invalid_blocks';
  for (const block of blocks as Array<Record<string, unknown>>) {
    const text = (block?.text as { text?: unknown } | undefined)?.text;
    if (block?.type === 'section' && typeof text === 'string' && text.length > 3_000) return 'invalid_blocks';
  }
  if (JSON.stringify(blocks).length > 13_000) return 'msg_blocks_too_long';
  return undefined;
}
