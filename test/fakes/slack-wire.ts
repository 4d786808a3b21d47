/**
 * Slack wire formats used by slack-fake.ts: request signing, the `event_callback` envelope, realistic
 * event and `block_actions` payloads and monotonically increasing message timestamps. Pure functions,
 * no server, apart from `postSigned` (the signed POST every delivery to the app goes through).
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

/** Arguments that form-encoded Web API calls carry as JSON strings. */
const JSON_FIELDS = [
  'blocks',
  'attachments',
  'files',
  'metadata',
  'chunks',
  'prompts',
  'suggested_prompts',
  'loading_messages',
];

/** Parses the JSON_FIELDS (`blocks`, `chunks`, …) of a form-encoded Web API call. */
export function decodeJsonFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  for (const key of JSON_FIELDS) {
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
  let markdown = 0;
  for (const block of blocks as Array<Record<string, unknown>>) {
    const text = (block?.text as { text?: unknown } | undefined)?.text;
    if (block?.type === 'section' && typeof text === 'string' && text.length > 3_000) return 'invalid_blocks';
    // The markdown block: standard Markdown, at most 12,000 characters over all such blocks of a message.
    if (block?.type === 'markdown') {
      if (typeof block.text !== 'string' || block.text.length === 0) return 'invalid_blocks';
      markdown += block.text.length;
    }
  }
  if (markdown > 12_000) return 'invalid_blocks';
  if (JSON.stringify(blocks).length > 13_000) return 'msg_blocks_too_long';
  return undefined;
}

/** What the app answered to a signed request. */
export interface SlackDelivery {
  status: number;
  body: string;
  /** Wall-clock time from sending to the full response. */
  ms: number;
}

/** How to sign a request to the app. */
export interface SignOptions {
  /** Sign with a wrong secret: Bolt must answer 401. */
  badSignature?: boolean;
  /** Shift the signed timestamp, e.g. -600 for a stale request. */
  timestampOffsetSec?: number;
}

/** Options of the fake's `sendEvent`. */
export interface SendEventOptions extends SignOptions {
  eventId?: string;
  teamId?: string;
  /** Sets `X-Slack-Retry-Num` (and the reason, default `http_timeout`). */
  retryNum?: number;
  retryReason?: string;
}

/** How a Web API call should fail: an error (HTTP 200), an HTTP status, or both (with Retry-After). */
export type SlackFailure = string | number | { status?: number; error?: string; retryAfterSec?: number };

/** The HTTP response for an injected failure: 429s carry Retry-After and `ratelimited`. */
export function failureReply(failure: SlackFailure) {
  const f =
    typeof failure === 'object'
      ? failure
      : typeof failure === 'number'
        ? { status: failure }
        : { error: failure };
  const status = f.status ?? (f.retryAfterSec !== undefined ? 429 : 200);
  const headers: Record<string, string> =
    status === 429 ? { 'retry-after': String(f.retryAfterSec ?? 1) } : {};
  const body = { ok: false, error: f.error ?? (status === 429 ? 'ratelimited' : 'fatal_error') };
  return { status, body, headers };
}

/**
 * POSTs `body` to the app signed as Slack signs it (X-Slack-Signature, X-Slack-Request-Timestamp).
 * A URL without a path goes to Bolt's default `/slack/events`.
 */
export async function postSigned(
  targetUrl: string,
  body: string,
  opts: SignOptions & { signingSecret: string; contentType: string; headers?: Record<string, string> },
): Promise<SlackDelivery> {
  const url = new URL(targetUrl);
  if (url.pathname === '/') url.pathname = '/slack/events';
  const timestamp = Math.floor(Date.now() / 1000) + (opts.timestampOffsetSec ?? 0);
  const secret = opts.badSignature ? `${opts.signingSecret}-wrong` : opts.signingSecret;
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': opts.contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(secret, timestamp, body),
      ...opts.headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text, ms: performance.now() - started };
}

/** Fields a test gives to build a click on a message's interactive element. */
export interface BlockActionInput {
  /** Who clicked. */
  user: string;
  channel: string;
  /** The message carrying the element (normally a bot message). */
  messageTs: string;
  /** The thread the message is in; taken from the stored message when omitted. */
  threadTs?: string;
  actionId: string;
  /**
   * The clicked button's value (for `feedback_buttons`, the positive or negative button's value).
   * Default: the `value` of the element with this action_id in the stored message, if any.
   */
  value?: string;
  /** Default: that element's block's `block_id`, else a random one. */
  blockId?: string;
  /** Default: that element's type, else `button`. */
  elementType?: 'button' | 'feedback_buttons';
  teamId?: string;
}

/** A `block_actions` payload as Slack sends it (form field `payload`, or a Socket Mode `interactive`). */
export function buildBlockActionPayload(
  input: BlockActionInput,
  ctx: {
    teamId: string;
    appId: string;
    userName: string;
    responseUrl: string;
    /** The message's current wire form, when the fake has it. */
    message?: Record<string, unknown>;
  },
): Record<string, unknown> {
  const teamId = input.teamId ?? ctx.teamId;
  const threadTs = input.threadTs ?? (ctx.message?.thread_ts as string | undefined);
  const found = findElement(ctx.message?.blocks, input.actionId);
  const value = input.value ?? (typeof found?.element.value === 'string' ? found.element.value : undefined);
  const nowSec = Date.now() / 1000;
  return {
    type: 'block_actions',
    user: { id: input.user, username: ctx.userName, name: ctx.userName, team_id: teamId },
    api_app_id: ctx.appId,
    token: 'fake-verification-token',
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channel,
      is_ephemeral: false,
      ...(threadTs !== undefined && { thread_ts: threadTs }),
    },
    trigger_id: `${Math.floor(nowSec)}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`,
    team: { id: teamId, domain: `fake-${teamId.toLowerCase()}` },
    enterprise: null,
    is_enterprise_install: false,
    channel: {
      id: input.channel,
      name: input.channel.startsWith('D') ? 'directmessage' : `channel-${input.channel.toLowerCase()}`,
    },
    ...(ctx.message && { message: ctx.message }),
    state: { values: {} },
    response_url: ctx.responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? found?.blockId ?? randomBytes(3).toString('hex'),
        ...(value !== undefined && { value }),
        type: input.elementType ?? found?.element.type ?? 'button',
        action_ts: nowSec.toFixed(6),
      },
    ],
  };
}

/** The interactive element with `actionId` in a message's blocks (in `elements` or as `accessory`). */
function findElement(
  blocks: unknown,
  actionId: string,
): { element: Record<string, unknown>; blockId?: string } | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as Array<Record<string, unknown>>) {
    const candidates = [...(Array.isArray(block?.elements) ? block.elements : []), block?.accessory];
    const element = candidates.find(
      (e) => (e as Record<string, unknown> | undefined)?.action_id === actionId,
    );
    if (element) {
      const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
      return { element: element as Record<string, unknown>, ...(blockId !== undefined && { blockId }) };
    }
  }
  return undefined;
}

/** Fields for an `assistant_thread_started` event (the user opened the app's assistant container). */
export interface AssistantThreadInput {
  /** The DM with the app, e.g. `D1`. */
  channel: string;
  user: string;
  /** The thread's root ts; a fresh one when omitted. */
  threadTs?: string;
  /** The channel the user was viewing when opening the assistant. */
  contextChannel?: string;
}

export function buildAssistantThreadStartedEvent(
  input: AssistantThreadInput & { threadTs: string; eventTs: string },
  teamId: string,
) {
  return {
    type: 'assistant_thread_started',
    assistant_thread: {
      user_id: input.user,
      channel_id: input.channel,
      thread_ts: input.threadTs,
      context: {
        ...(input.contextChannel !== undefined && { channel_id: input.contextChannel }),
        team_id: teamId,
        enterprise_id: null,
      },
    },
    event_ts: input.eventTs,
  } satisfies SlackEvent;
}
