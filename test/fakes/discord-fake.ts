/**
 * A local Discord for integration tests and benchmarks: the real discord.js 14 talks to it over REST
 * and the gateway WebSocket on 127.0.0.1.
 *
 *   const discord = await createDiscordFake({ guilds: [{ id: '10', name: 'G', channels: [{ id: '20', name: 'general' }] }] });
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
 *     rest: { api: discord.restUrl } });                // discord.js calls GET /gateway/bot for the ws URL
 *   await client.login('any-token'); await once(client, 'ready');
 *   const { callback } = discord.dispatchInteraction({ channelId: '20', user, commandName: 'move',
 *     options: { from: 'Seattle', to: 'Austin' } });
 *   const response = await callback;                   // { kind:'callback', type: 5, atMs } or undefined
 *   discord.messagesIn('20');                          // what the channel shows, edits applied
 *   await discord.close();
 *
 * `new REST({ api: discord.restUrl }).setToken(t)` works the same way (command registration).
 *
 * REST (`/api/v10/…`, paths percent-decoded, e.g. `messages/%40original`): see discord-rest-fake.ts
 * for the route names and the error codes. `Authorization: Bot <token>` is required except on
 * interaction callbacks and interaction webhooks (discord.js sends none there). Multipart bodies
 * (`files[n]` + `payload_json`) are parsed; files land in `attachments` and are served back from the
 * attachment URLs. Interaction rules: the callback must come within `interactionDeadlineMs` (default
 * 3,000) of dispatch, else 404/10062; webhook calls after `tokenLifetimeMs` (default 15 min) or after
 * `expireInteractionToken(token)` get 401/50027. A deferred response (type 5) creates a "thinking"
 * message (flags 128) that the first edit — or first follow-up — turns into the answer, as Discord does.
 * The bot's own messages come back as gateway events (MESSAGE_CREATE/UPDATE/DELETE, THREAD_CREATE).
 *
 * Components (discord-components.ts): messages keep `components` (action rows of buttons) through
 * create, edit (`components: []` clears), interaction responses and follow-ups; invalid ones (> 5
 * rows or buttons per row, bad style, link without url, custom_id missing/> 100/duplicated, label >
 * 80) get 400/50035 with Discord's `errors` tree.
 *
 * Users (discord-user-events.ts): slash commands, button clicks, messages and threads, delivered under
 * the intent rules. `clickButton({ channelId, messageId, customId, user, guildId? })` sends a type 3
 * interaction carrying the message as it is now and returns `{ id, token, callback }` like
 * `dispatchInteraction`; its callback may be 4/5 (new message), 6 (deferred update) or 7 (update the
 * clicked message, which becomes @original); 6/7 on a slash command → 400/50035. Ephemeral (flags 64)
 * responses and follow-ups to a click are not in `messagesIn` but in `ephemerals`, and only the
 * clicking user can click their buttons (slash-command ephemerals stay in `messagesIn`, flags 64).
 *
 * Gateway (discord-gateway-fake.ts): HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE (channels and
 * active threads), RESUME. Intents matter: MESSAGE_CREATE needs GuildMessages (DirectMessages for
 * DMs); without MessageContent, `content`/embeds/attachments/components are blanked unless the bot is
 * mentioned, the message is a DM or the bot wrote it. A privileged intent outside `approvedIntents`
 * closes with 4014. discord.js drops MESSAGE_CREATE for channels it has not cached and, for DMs,
 * unless the client enables `partials: [Partials.Channel]`.
 *
 * State: `messagesIn(channelId)`, `ephemerals`, `threads`, `interactions` / `interaction(id)`
 * (responses with `atMs` after dispatch), `commands(guildId?)`, `attachments`, `typing`, `reactions`,
 * `calls` / `callsTo(route)`, `rateLimited`. Failures: `failNext(route, status | { status, code,
 * message, retryAfterSec }, count)`, `rateLimitNext(route, retryAfterSec)` (429 + Retry-After;
 * discord.js waits and retries), `setLatency(ms)`. `setEditRateLimit({ limit, windowMs })` (or the
 * `editRateLimit` option; default off) limits `editMessage` per channel and `editOriginal` per token:
 * X-RateLimit-* headers on each, 429 past the limit (recorded in `rateLimited`), so discord.js paces
 * edits on `remaining: 0` (discord-rate-limit.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createDiscordGateway } from './discord-gateway-fake.js';
import {
  type DiscordUser,
  type GuildSpec,
  Intent,
  type MessageRecord,
  PRIVILEGED_INTENTS,
} from './discord-payloads.js';
import { createEditRateLimiter, type EditRateLimit, type RateLimitRecord } from './discord-rate-limit.js';
import { createRestRoutes, type RestReply, restBody } from './discord-rest-fake.js';
import { createDiscordState, type DiscordCall } from './discord-state.js';
import { createDiscordUserEvents } from './discord-user-events.js';
import { delay, type FakeExchange, sendJson, startHttpFake } from './fake-http.js';

export type { DiscordUser, GuildSpec, MessageRecord, ThreadRecord } from './discord-payloads.js';
export { Intent } from './discord-payloads.js';
export type { EditRateLimit, RateLimitRecord } from './discord-rate-limit.js';
export type {
  AttachmentRecord,
  DiscordCall,
  EphemeralRecord,
  InteractionRecord,
  InteractionResponseRecord,
} from './discord-state.js';

export interface DiscordFakeOptions {
  guilds: GuildSpec[];
  /** Default `1000000000000000001`. */
  applicationId?: string;
  /** Default `1000000000000000002`. */
  botUserId?: string;
  /** Default `movebot`. */
  botUsername?: string;
  /** When set, REST and IDENTIFY must use exactly this token; otherwise any token is accepted. */
  token?: string;
  /** Privileged intents the app is approved for (bits of Intent). Default: all of them. */
  approvedIntents?: number;
  /** Default 41,250 like Discord. */
  heartbeatIntervalMs?: number;
  /** Time to the first interaction response before 10062. Default 3,000. */
  interactionDeadlineMs?: number;
  /** Interaction token lifetime before 50027. Default 15 minutes. */
  tokenLifetimeMs?: number;
  /** Delay before every REST response. Default 0. */
  latencyMs?: number;
  /** Rate limit on message edits (see `setEditRateLimit`). Default: none. */
  editRateLimit?: EditRateLimit;
}

/** How a REST route should fail: an HTTP status, or Discord's error fields. */
export type DiscordFailure =
  | number
  | { status?: number; code?: number; message?: string; retryAfterSec?: number };

const WEBHOOK_ROUTES = new Set([
  'interactionCallback',
  'getOriginal',
  'editOriginal',
  'deleteOriginal',
  'followup',
]);

export type DiscordFake = Awaited<ReturnType<typeof createDiscordFake>>;

export async function createDiscordFake(options: DiscordFakeOptions) {
  const applicationId = options.applicationId ?? '1000000000000000001';
  const bot: DiscordUser = {
    id: options.botUserId ?? '1000000000000000002',
    username: options.botUsername ?? 'movebot',
    bot: true,
  };
  const interactionDeadlineMs = options.interactionDeadlineMs ?? 3_000;
  let latencyMs = options.latencyMs ?? 0;
  const state = createDiscordState(options.guilds);
  const failures = new Map<string, DiscordFailure[]>();
  const editLimits = createEditRateLimiter(options.editRateLimit);
  let baseUrl = '';

  const gateway = createDiscordGateway({
    bot,
    applicationId,
    guilds: () => options.guilds,
    threads: () => [...state.threads.values()],
    url: () => `${baseUrl.replace(/^http/, 'ws')}/gateway`,
    approvedIntents: options.approvedIntents ?? PRIVILEGED_INTENTS,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    ...(options.token !== undefined && { token: options.token }),
  });

  const users = createDiscordUserEvents({
    state,
    gateway,
    bot,
    applicationId,
    guilds: options.guilds,
    interactionDeadlineMs,
  });

  const rest = createRestRoutes({
    state,
    bot,
    applicationId,
    baseUrl: () => baseUrl,
    interactionDeadlineMs,
    tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60_000,
    emit(t, d) {
      if (t === 'THREAD_CREATE')
        gateway.dispatch(t, (intents: number) => (intents & Intent.Guilds ? d : undefined));
      else users.emitMessage(t, d, false, true);
    },
  });

  async function onRequest(ex: FakeExchange): Promise<void> {
    const { req, res, url } = ex;
    if (req.method === 'GET' && url.pathname.startsWith('/attachments/'))
      return serveAttachment(url.pathname, res);
    const versioned = /^\/api\/v\d+(\/.*)$/.exec(url.pathname);
    const path = (versioned?.[1] ?? '').split('/').map(decodeURIComponent).join('/');
    const method = req.method ?? 'GET';
    const route = versioned ? rest.match(method, path) : undefined;
    const { json, files } = restBody(ex);
    const call: DiscordCall = {
      method,
      path,
      route: route?.name ?? 'unknown',
      query: Object.fromEntries(url.searchParams),
      body: json,
      at: Date.now(),
    };
    state.calls.push(call);
    const reply = await answer(req, route, { json, files, query: url.searchParams, method });
    call.status = reply.status;
    if (reply.status === 204) {
      res.writeHead(204, reply.headers);
      res.end();
    } else sendJson(res, reply.status, reply.body ?? {}, reply.headers);
  }

  async function answer(
    req: IncomingMessage,
    route: ReturnType<typeof rest.match>,
    ctx: {
      json: Record<string, unknown>;
      files: Array<{ filename: string; data: Buffer }>;
      query: URLSearchParams;
      method: string;
    },
  ): Promise<RestReply> {
    if (!route) return { status: 404, body: { message: '404: Not Found', code: 0 } };
    if (latencyMs > 0) await delay(latencyMs);
    if (!WEBHOOK_ROUTES.has(route.name) && !authorized(req.headers.authorization)) {
      return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
    }
    const failure = failures.get(route.name)?.shift();
    if (failure !== undefined) return failureReply(failure);
    const limit = editLimits.take(route.name, route.params);
    if (limit?.limited) return limit.limited;
    const reply = route.handler({ ...ctx, params: route.params });
    return limit ? { ...reply, headers: { ...reply.headers, ...limit.headers } } : reply;
  }

  function authorized(header: string | undefined): boolean {
    const token = /^Bot (.+)$/.exec(header ?? '')?.[1];
    return token !== undefined && (options.token === undefined || token === options.token);
  }

  function failureReply(failure: DiscordFailure): RestReply {
    const f = typeof failure === 'number' ? { status: failure } : failure;
    const status = f.status ?? (f.retryAfterSec !== undefined ? 429 : 500);
    if (status === 429) {
      const retryAfter = f.retryAfterSec ?? 1;
      return {
        status,
        body: {
          message: 'You are being rate limited.',
          retry_after: retryAfter,
          global: false,
          code: f.code ?? 0,
        },
        headers: { 'retry-after': String(retryAfter), 'x-ratelimit-scope': 'user' },
      };
    }
    return { status, body: { message: f.message ?? `${status}: fake failure`, code: f.code ?? 0 } };
  }

  function serveAttachment(pathname: string, res: ServerResponse): void {
    const [, , channelId, attachmentId] = pathname.split('/');
    for (const message of state.messagesIn(channelId ?? '')) {
      const index = message.attachments.findIndex((a) => a.id === attachmentId);
      const file = state.attachments.filter((a) => a.messageId === message.id)[index];
      if (index !== -1 && file) {
        res.writeHead(200, { 'content-type': file.contentType ?? 'application/octet-stream' });
        res.end(file.content);
        return;
      }
    }
    sendJson(res, 404, { message: '404: Not Found', code: 0 });
  }

  const server = await startHttpFake('discord-fake', onRequest, {
    webSockets: { '/gateway': gateway.onConnection },
  });
  baseUrl = server.url;

  return {
    /** Pass as discord.js `rest: { api }` (no version suffix). */
    restUrl: `${baseUrl}/api`,
    gatewayUrl: `${baseUrl.replace(/^http/, 'ws')}/gateway`,
    port: server.port,
    applicationId,
    bot,
    /** Gateway introspection and control: identifies, intents, disconnectAll(code), invalidateSessions(). */
    gateway,
    /** What users do: slash commands, messages, threads they open (discord-user-events.ts). */
    dispatchInteraction: users.dispatchInteraction,
    clickButton: users.clickButton,
    dispatchMessage: users.dispatchMessage,
    openUserThread: users.openUserThread,
    /** Any other gateway dispatch, sent as is to every session. */
    dispatch: (t: string, d: unknown) => gateway.dispatch(t, d),
    /** Current messages of a channel or thread in creation order, edits applied, deletions removed. */
    messagesIn: (channelId: string): MessageRecord[] => state.messagesIn(channelId),
    get threads() {
      return [...state.threads.values()];
    },
    get interactions() {
      return [...state.interactions.values()];
    },
    interaction: (id: string) => state.interactions.get(id),
    /** Ephemeral responses to component interactions (never in `messagesIn`), edits applied. */
    get ephemerals() {
      return state.ephemerals();
    },
    /** Registered commands: global, or for one guild. */
    commands: (guildId?: string) =>
      guildId ? (state.guildCommands.get(guildId) ?? []) : state.globalCommands,
    attachments: state.attachments,
    typing: state.typing,
    reactions: state.reactions,
    calls: state.calls as readonly DiscordCall[],
    callsTo: (route: string) => state.calls.filter((c) => c.route === route),
    /** The next `count` calls of `route` fail (route names in discord-rest-fake.ts). */
    failNext(route: string, failure: DiscordFailure, count = 1) {
      const queue = failures.get(route) ?? [];
      for (let i = 0; i < count; i += 1) queue.push(failure);
      failures.set(route, queue);
    },
    rateLimitNext(route: string, retryAfterSec = 0.05, count = 1) {
      this.failNext(route, { status: 429, retryAfterSec }, count);
    },
    /** Makes webhook calls with this interaction token fail with 401/50027 from now on. */
    expireInteractionToken(token: string) {
      const interaction = state.interactionByToken(token);
      if (interaction) interaction.expired = true;
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    /** Limits message edits per channel / interaction token (undefined: no limit, the default). */
    setEditRateLimit(limit: EditRateLimit | undefined) {
      editLimits.set(limit);
    },
    /** The 429s the edit rate limit served. */
    rateLimited: editLimits.rateLimited as readonly RateLimitRecord[],
    close: () => server.close(),
  };
}
