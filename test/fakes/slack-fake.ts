/**
 * A local Slack for integration tests and benchmarks: the real @slack/bolt 5 / @slack/web-api 8 talk
 * to it over HTTP and WebSocket on 127.0.0.1.
 *
 *   const slack = await createSlackFake({ signingSecret: 'shh' });   // botUserId 'UBOT', teamId 'T1'
 *   const app = new App({ token: 'xoxb-test', signingSecret: 'shh',
 *     clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } } });
 *   const server = await app.start({ port: 0, host: '127.0.0.1' });       // HTTP mode
 *   const res = await slack.sendEvent(`http://127.0.0.1:${port}/slack/events`,
 *     slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'Seattle to Austin?' }));
 *   await waitFor(() => slack.threadMessages('C1', mention.ts).length === 2);
 *   await slack.close();
 *
 * Socket Mode: `new App({ socketMode: true, appToken: 'xapp-…', token: 'xoxb-…',
 * clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } } })`. Bolt hands its
 * `clientOptions` to @slack/socket-mode's own WebClient (SocketModeReceiver passes
 * `installerOptions.clientOptions`, which App fills from `clientOptions`), so the same `slackApiUrl`
 * reaches `apps.connections.open`; no separate option exists. Without `retryConfig` that client retries
 * apps.connections.open 100 times. `await slack.socketConnected()`, then `slack.sendSocketEvent(event,
 * { retryNum? })` → { envelopeId, ackMs, ack } once the app acks; `requestSocketReconnect()` sends
 * Slack's `disconnect` message. The fake pings every 10 s like Slack.
 *
 * Web API (`POST /api/<method>`, form-encoded or JSON; `Authorization: Bearer xoxb-…` or a `token`
 * field, else `invalid_auth`): auth.test, chat.postMessage, chat.postEphemeral, chat.update,
 * chat.delete, conversations.replies, reactions.add, users.info, files.getUploadURLExternal → upload
 * POST to `/upload/<fileId>` → files.completeUploadExternal, apps.connections.open (needs `xapp-`);
 * AI apps (rules in slack-streams.ts): chat.startStream / appendStream / stopStream,
 * assistant.threads.setStatus / setSuggestedPrompts / setTitle. Anything else: `unknown_method`.
 * Limits enforced: ≤ 50 blocks, section text ≤ 3,000 (invalid_blocks), blocks JSON > 13k
 * (msg_blocks_too_long), text truncated at 40,000. Timestamps are "1700000000.000100", +100 µs each.
 *
 * State (what users would see): `threadMessages(channel, threadTs)` (root + replies, edits applied,
 * deletions removed; streams with `streaming`, `tasks`, `planTitle`), `messagesIn(channel)`, `files`,
 * `statuses`, `suggestedPrompts`, `titles`, `ephemerals` (never in threads), `responseUrlPosts`,
 * `allCalls` / `callsTo(method)` ({ method, args, at }). `mentionEvent`, `messageEvent` and
 * `assistantThreadStartedEvent` also store the thread's root, so threads include it.
 *
 * Failures: `failNext(method, 'ratelimited' | 'channel_not_found' | 500 | { status, error,
 * retryAfterSec }, count, when?)` (`when(args)` picks the calls that fail, e.g. those with blocks),
 * `rateLimitNext(method, retryAfterSec, count)` (429 + Retry-After), `setLatency(ms)` / option
 * `latencyMs` (every Web API call), `disableStreaming(error?)` / `enableStreaming()`, `setStreamWindowMs`.
 *
 * Events to the app: `sendEvent(url, event, { eventId, retryNum, retryReason, badSignature,
 * timestampOffsetSec })` → { status, body, ms }, `urlVerification(url)`. Option `echoBotMessages`
 * (`'socket'` or an events URL) sends each bot message posted via chat.postMessage back as a `message`
 * event with `bot_id`, as Slack does (or `setEchoTarget(target)` later); `flushEchoes()` awaits those
 * deliveries and `echoed` lists them. Clicks: `blockActionPayload({ user, channel, messageTs, actionId,
 * value? })` (its response_url is served here), then `sendInteraction(url, payload, { badSignature? })`
 * (signed `payload=` form) or `sendSocketInteraction(payload)`. Bounded polling: `waitFor` (fake-http.ts).
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import {
  delay,
  type FakeExchange,
  type HttpFake,
  type ParsedBody,
  sendJson,
  startHttpFake,
} from './fake-http.js';
import { createSlackDeliveries } from './slack-deliveries.js';
import { createSlackSocketMode } from './slack-socket-mode.js';
import type { SlackStatusRecord, SlackSuggestedPrompts, SlackTitleRecord } from './slack-streams.js';
import {
  createSlackWorkspace,
  type SlackEphemeral,
  type SlackFakeFile,
  type SlackFakeMessage,
  type SlackResponseUrlPost,
} from './slack-web-api.js';
import {
  type AssistantThreadInput,
  buildAssistantThreadStartedEvent,
  buildMentionEvent,
  buildMessageEvent,
  createTsGenerator,
  decodeJsonFields,
  failureReply,
  type MessageEventInput,
  type SlackFailure,
  type UserMessageInput,
} from './slack-wire.js';

export type * from './slack-streams.js';
export type {
  SlackEphemeral,
  SlackFakeFile,
  SlackFakeMessage,
  SlackResponseUrlPost,
} from './slack-web-api.js';
export type {
  BlockActionInput,
  SendEventOptions,
  SlackDelivery,
  SlackEvent,
  SlackFailure,
} from './slack-wire.js';

export interface SlackFakeOptions {
  /** Secret used to sign events sent to the app. */
  signingSecret: string;
  /** The bot's user id, returned by auth.test. Default `UBOT`. */
  botUserId?: string;
  /** Default `T1`. */
  teamId?: string;
  /** Delay added before every Web API response. Default 0. */
  latencyMs?: number;
  /** Where to echo the bot's own messages as `message` events: `'socket'` or the app's events URL. */
  echoBotMessages?: string;
}

/** Picks the calls an injected failure applies to, by their arguments. */
export type CallMatcher = (args: Record<string, unknown>) => boolean;

/** A recorded Web API call. */
export interface SlackCall {
  method: string;
  /** Arguments with `blocks`/`attachments`/`files` parsed from JSON; the token is removed. */
  args: Record<string, unknown>;
  /** `Date.now()` when the call arrived. */
  at: number;
}

export type { EchoRecord } from './slack-deliveries.js';

export type SlackFake = Awaited<ReturnType<typeof createSlackFake>>;

export async function createSlackFake(options: SlackFakeOptions) {
  const botUserId = options.botUserId ?? 'UBOT';
  const teamId = options.teamId ?? 'T1';
  const appId = 'AFAKEAPP';
  const botId = 'BFAKEBOT';
  let latencyMs = options.latencyMs ?? 0;
  const nextTs = createTsGenerator();
  const calls: SlackCall[] = [];
  const failures = new Map<string, Array<{ failure: SlackFailure; when?: CallMatcher }>>();
  const socketMode = createSlackSocketMode({ appId, teamId, botUserId });
  const deliveries = createSlackDeliveries({
    ...{ signingSecret: options.signingSecret, teamId, botUserId, botId, appId },
    sendSocketEvent: (event) => socketMode.sendSocketEvent(event),
    echoTarget: options.echoBotMessages,
  });
  let server: HttpFake | undefined;

  const workspace = createSlackWorkspace({
    botUserId,
    botId,
    teamId,
    appId,
    nextTs,
    uploadUrlBase: () => `${baseUrl()}/upload/`,
    actionUrlBase: () => `${baseUrl()}/actions/`,
    onBotMessage: deliveries.echo,
  });

  const baseUrl = () => server?.url ?? '';

  async function onRequest(ex: FakeExchange): Promise<void> {
    const { req, res } = ex;
    const path = ex.url.pathname;
    if (req.method === 'POST' && path.startsWith('/upload/'))
      return upload(path.slice('/upload/'.length), ex, res);
    if (req.method === 'POST' && path.startsWith('/actions/')) {
      const result = workspace.respondToAction(path.slice('/actions/'.length), decodeJsonFields(ex.fields));
      return sendJson(res, result ? 200 : 404, result ?? { ok: false, error: 'expired_url' });
    }
    const match = /^\/api\/([\w.]+)$/.exec(path);
    if (req.method !== 'POST' || !match?.[1]) return sendJson(res, 404, { ok: false, error: 'not_found' });
    const method = match[1];
    const args = decodeJsonFields(ex.fields);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? String(args.token ?? '');
    delete args.token;
    calls.push({ method, args, at: Date.now() });
    if (latencyMs > 0) await delay(latencyMs);

    const queued = failures.get(method) ?? [];
    const index = queued.findIndex((f) => !f.when || f.when(args));
    if (index >= 0) {
      const reply = failureReply(queued.splice(index, 1)[0]!.failure);
      return sendJson(res, reply.status, reply.body, reply.headers);
    }
    const wantsAppToken = method === 'apps.connections.open';
    if (!token.startsWith(wantsAppToken ? 'xapp-' : 'xoxb-')) {
      return sendJson(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    }
    if (wantsAppToken) {
      const ticket = randomBytes(8).toString('hex');
      return sendJson(res, 200, { ok: true, url: `ws://127.0.0.1:${server?.port}/socket?ticket=${ticket}` });
    }
    const handler = workspace.methods[method];
    sendJson(res, 200, handler ? handler(args) : { ok: false, error: 'unknown_method' });
  }

  function upload(fileId: string, body: ParsedBody, res: ServerResponse): void {
    const file = workspace.files.get(fileId);
    if (!file) {
      sendJson(res, 404, { ok: false, error: 'file_not_found' });
      return;
    }
    // @slack/web-api posts the bytes as a multipart field; accept a raw body too.
    file.content = body.parts.find((p) => p.filename !== undefined)?.data ?? body.raw;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${file.content.length}`);
  }

  server = await startHttpFake('slack-fake', onRequest, { webSockets: { '/socket': socketMode.onSocket } });
  const apiUrl = `${server.url}/api/`;

  return {
    /** Pass as `clientOptions.slackApiUrl`. Ends with `/api/`. */
    apiUrl,
    port: server.port,
    botUserId,
    botId,
    teamId,
    appId,
    /** Every Web API call in arrival order. */
    allCalls: calls as readonly SlackCall[],
    /** Calls of one method, e.g. `callsTo('chat.postMessage')`. */
    callsTo: (method: string) => calls.filter((c) => c.method === method),
    /** Current messages of a thread, root first, edits applied and deletions removed. */
    threadMessages: (channel: string, threadTs: string): SlackFakeMessage[] =>
      workspace.threadMessages(channel, threadTs),
    /** Every current message of a channel (top level and replies) in ts order. */
    messagesIn: (channel: string): SlackFakeMessage[] => workspace.messagesIn(channel),
    /** Uploaded files by id, with content and the channel/thread they were shared to. */
    files: workspace.files as ReadonlyMap<string, SlackFakeFile>,
    /** Uploaded files shared into one thread. */
    filesInThread: (channel: string, threadTs: string) =>
      [...workspace.files.values()].filter((f) => f.channel === channel && f.threadTs === threadTs),
    /** Every assistant.threads.setStatus call's effect, in order. */
    statuses: workspace.ai.statuses as readonly SlackStatusRecord[],
    /** Every assistant.threads.setSuggestedPrompts call, in order. */
    suggestedPrompts: workspace.ai.suggestedPrompts as readonly SlackSuggestedPrompts[],
    /** Every assistant.threads.setTitle call, in order. */
    titles: workspace.ai.titles as readonly SlackTitleRecord[],
    /** chat.postEphemeral messages (seen by one user only, so absent from threads and channels). */
    ephemerals: workspace.ephemerals as readonly SlackEphemeral[],
    /** What the app POSTed to the `response_url` of interactions, in order. */
    responseUrlPosts: workspace.responseUrlPosts as readonly SlackResponseUrlPost[],
    /** How long a stream accepts appends after chat.startStream (default 5 minutes). */
    setStreamWindowMs: workspace.ai.setStreamWindowMs,
    /** From now on the streaming methods answer `{ ok: false, error }`, like a workspace without them. */
    disableStreaming(error = 'unknown_method') {
      workspace.ai.setStreamingDisabled(error);
    },
    enableStreaming() {
      workspace.ai.setStreamingDisabled(undefined);
    },
    /** Overrides what users.info returns for one user id. */
    setUser(id: string, user: Record<string, unknown>) {
      workspace.users.set(id, { id, ...user });
    },
    /**
     * The next `count` calls of `method` (those `when` accepts, when given) fail: an error string
     * (HTTP 200), an HTTP status, or both.
     */
    failNext(method: string, failure: SlackFailure, count = 1, when?: CallMatcher) {
      const queue = failures.get(method) ?? [];
      for (let i = 0; i < count; i += 1) queue.push({ failure, when });
      failures.set(method, queue);
    },
    /** The next `count` calls of `method` get 429 with `Retry-After: retryAfterSec`. */
    rateLimitNext(method: string, retryAfterSec = 1, count = 1) {
      this.failNext(method, { status: 429, retryAfterSec }, count);
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    /** Starts/stops echoing bot messages back as events (`'socket'`, an events URL, or undefined). */
    setEchoTarget: deliveries.setEchoTarget,
    /** Every echo of a bot message: its channel/ts and the app's HTTP status, `'acked'` or `'failed'`. */
    echoed: deliveries.echoed,
    /** Awaits echo deliveries in flight. */
    flushEchoes: deliveries.flushEchoes,
    /** A user's @-mention of the bot (type app_mention); also stores the user's message. */
    mentionEvent(input: UserMessageInput) {
      const ts = input.ts ?? nextTs();
      const event = buildMentionEvent({ ...input, ts }, botUserId, teamId);
      storeUserMessage({ ...input, ts, text: event.text });
      return event;
    },
    /** A `message` event (channel or DM, optional subtype/bot_id); stores it unless it has a subtype. */
    messageEvent(input: MessageEventInput) {
      const ts = input.ts ?? nextTs();
      const event = buildMessageEvent({ ...input, ts }, teamId);
      if (!input.subtype && !input.botId) storeUserMessage({ ...input, ts, user: input.user ?? 'UUNKNOWN' });
      return event;
    },
    /** Delivers an event to the app's events URL, signed (retry headers with `retryNum`). */
    sendEvent: deliveries.sendEvent,
    /**
     * The user opened the app's assistant container: an `assistant_thread_started` event for
     * sendEvent / sendSocketEvent. Stores the thread's root (subtype `assistant_app_thread`).
     */
    assistantThreadStartedEvent(input: AssistantThreadInput) {
      const threadTs = input.threadTs ?? nextTs();
      workspace.storeAssistantRoot(input.channel, input.user, threadTs);
      return buildAssistantThreadStartedEvent({ ...input, threadTs, eventTs: nextTs() }, teamId);
    },
    /**
     * A click on an element of a message as Slack sends it in `block_actions`, with the stored
     * message's current form and a `response_url` served by this fake.
     */
    blockActionPayload: workspace.blockActionPayload,
    /** POSTs an interactivity payload signed, as `payload=<JSON>` form data, like Slack does. */
    sendInteraction: deliveries.sendInteraction,
    /** Slack's one-time URL check; Bolt answers with the challenge. */
    urlVerification: deliveries.urlVerification,
    /** Resolves once a Socket Mode client has connected and been sent `hello`. */
    socketConnected: socketMode.connected,
    /** Pushes an event over Socket Mode; resolves with the ack once the app sends `{ envelope_id }`. */
    sendSocketEvent: socketMode.sendSocketEvent,
    /** Pushes an interactivity payload (`interactive` envelope); resolves with the app's ack. */
    sendSocketInteraction: socketMode.sendSocketInteraction,
    /** Asks Socket Mode clients to reconnect, as Slack does every few hours. */
    requestSocketReconnect: socketMode.requestReconnect,
    close: () => server?.close() ?? Promise.resolve(),
  };

  function storeUserMessage(input: UserMessageInput & { ts: string }): void {
    workspace.store({
      channel: input.channel,
      ts: input.ts,
      user: input.user,
      text: input.text,
      reactions: [],
      edited: false,
      ...(input.threadTs !== undefined && input.threadTs !== input.ts && { threadTs: input.threadTs }),
    });
  }
}
