/**
 * The REST half of the Discord fake: routes under `/api/v10`, each with a name that tests use in
 * `failNext(route, …)` and find in recorded calls (`callsTo(route)`):
 *
 *   getGatewayBot, getCurrentUser, getCurrentApplication, putGlobalCommands, getGlobalCommands,
 *   putGuildCommands, getGuildCommands, interactionCallback, getOriginal, editOriginal (PATCH of
 *   @original or a follow-up id), deleteOriginal, followup, getChannel, getMessage, createMessage,
 *   editMessage, deleteMessage, startThreadFromMessage, startThread, typing, addReaction.
 *
 * Errors use Discord's bodies and codes: 10003 Unknown Channel, 10008 Unknown Message, 10015 Unknown
 * Webhook, 10062 Unknown interaction (callback after the deadline), 40060 already acknowledged, 50005
 * editing another user's message, 50027 Invalid Webhook Token (expired interaction token), 50006 empty
 * message, 50035 Invalid Form Body (content > 2,000, > 10 embeds, description > 4,096, embeds > 6,000
 * chars, invalid components, callback type not allowed for the interaction), 160004 thread already
 * created for this message; 429 from the optional edit rate limit (discord-rate-limit.ts).
 */
import { ChannelType, type DiscordUser, messageObject, snowflake, threadObject } from './discord-payloads.js';
import { createInteractionRoutes } from './discord-interaction-routes.js';
import {
  createMessageOps,
  error,
  type Handler,
  type RestContext,
  type RestDeps,
  type RestReply,
} from './discord-message-ops.js';

export { type RestContext, type RestDeps, type RestReply, restBody } from './discord-message-ops.js';

export function createRestRoutes(deps: RestDeps) {
  const { state, bot, applicationId } = deps;
  const ops = createMessageOps(deps);
  const interactions = createInteractionRoutes(deps, ops);
  const param = (ctx: RestContext, name: string) => ctx.params[name] ?? '';
  const findMessage = (ctx: RestContext) => state.findMessage(param(ctx, 'channel'), param(ctx, 'message'));

  const getGatewayBot: Handler = () => ({
    status: 200,
    body: {
      url: `${deps.baseUrl().replace(/^http/, 'ws')}/gateway`,
      shards: 1,
      session_start_limit: { total: 1_000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
    },
  });

  const getCurrentUser: Handler = () => ({
    status: 200,
    body: { ...userBody(bot), verified: true, mfa_enabled: false, flags: 0 },
  });

  const getCurrentApplication: Handler = () => ({
    status: 200,
    body: { id: applicationId, name: bot.username, flags: 0, bot_public: true, bot: userBody(bot) },
  });

  function putCommands(ctx: RestContext, list: Array<Record<string, unknown>>): RestReply {
    const body = Array.isArray(ctx.json) ? (ctx.json as Array<Record<string, unknown>>) : [];
    const registered = body.map((command) => ({
      // Re-registering a command keeps its id, as Discord's bulk overwrite does.
      id: list.find((c) => c.name === command.name)?.id ?? snowflake(),
      application_id: applicationId,
      version: snowflake(),
      type: 1,
      default_member_permissions: null,
      nsfw: false,
      ...(ctx.params.guild !== undefined && { guild_id: ctx.params.guild }),
      ...command,
    }));
    list.splice(0, list.length, ...registered);
    return { status: 200, body: registered };
  }

  const putGuildCommands: Handler = (ctx) => {
    const list = state.guildCommands.get(param(ctx, 'guild')) ?? [];
    state.guildCommands.set(param(ctx, 'guild'), list);
    return putCommands(ctx, list);
  };

  const getChannel: Handler = (ctx) => {
    const id = param(ctx, 'channel');
    const thread = state.threads.get(id);
    if (thread) return { status: 200, body: threadObject(thread) };
    const guild = state.guilds.find((g) => g.channels.some((c) => c.id === id));
    const channel = guild?.channels.find((c) => c.id === id);
    if (!guild || !channel) return error(404, 10003, 'Unknown Channel');
    const body = {
      id,
      type: channel.type ?? 0,
      guild_id: guild.id,
      name: channel.name,
      permission_overwrites: [],
    };
    return { status: 200, body };
  };

  const getMessage: Handler = (ctx) => {
    const message = findMessage(ctx);
    return message ? { status: 200, body: messageObject(message) } : error(404, 10008, 'Unknown Message');
  };

  const createMessage: Handler = (ctx) => {
    const channelId = param(ctx, 'channel');
    if (!state.channelExists(channelId)) return error(404, 10003, 'Unknown Channel');
    return ops.validate(ctx.json, ctx.files.length) ?? ops.created(ops.newMessage(channelId, ctx));
  };

  const editMessage: Handler = (ctx) => {
    const message = findMessage(ctx);
    if (!message) return error(404, 10008, 'Unknown Message');
    if (message.author.id !== bot.id)
      return error(403, 50005, 'Cannot edit a message authored by another user');
    return ops.edit(message, ctx);
  };

  const deleteMessage: Handler = (ctx) => {
    const message = findMessage(ctx);
    if (!message) return error(404, 10008, 'Unknown Message');
    state.remove(message);
    deps.emit('MESSAGE_DELETE', { id: message.id, channel_id: message.channelId, guild_id: message.guildId });
    return { status: 204 };
  };

  const startThreadFromMessage: Handler = (ctx) => {
    const message = findMessage(ctx);
    if (!message) return error(404, 10008, 'Unknown Message');
    if (message.threadId) return error(400, 160004, 'A thread has already been created for this message');
    // A thread started from a message shares the message's id.
    message.threadId = message.id;
    return ops.createThread(message.channelId, message.id, ChannelType.PublicThread, ctx, message.id);
  };

  const startThread: Handler = (ctx) => {
    const channelId = param(ctx, 'channel');
    if (!state.guildOf(channelId) || state.threads.has(channelId))
      return error(404, 10003, 'Unknown Channel');
    return ops.createThread(channelId, snowflake(), Number(ctx.json.type ?? ChannelType.PrivateThread), ctx);
  };

  const typing: Handler = (ctx) => {
    if (!state.channelExists(param(ctx, 'channel'))) return error(404, 10003, 'Unknown Channel');
    state.typing.push({ channelId: param(ctx, 'channel'), at: Date.now() });
    return { status: 204 };
  };

  const addReaction: Handler = (ctx) => {
    if (!findMessage(ctx)) return error(404, 10008, 'Unknown Message');
    state.reactions.push({
      channelId: param(ctx, 'channel'),
      messageId: param(ctx, 'message'),
      emoji: param(ctx, 'emoji'),
    });
    return { status: 204 };
  };

  const webhookMessage = 'webhooks/:app/:token/messages/:message';
  const routes: Array<[method: string, pattern: string, name: string, handler: Handler]> = [
    ['GET', 'gateway/bot', 'getGatewayBot', getGatewayBot],
    ['GET', 'users/@me', 'getCurrentUser', getCurrentUser],
    ['GET', 'applications/@me', 'getCurrentApplication', getCurrentApplication],
    [
      'PUT',
      'applications/:app/commands',
      'putGlobalCommands',
      (ctx) => putCommands(ctx, state.globalCommands),
    ],
    [
      'GET',
      'applications/:app/commands',
      'getGlobalCommands',
      () => ({ status: 200, body: state.globalCommands }),
    ],
    ['PUT', 'applications/:app/guilds/:guild/commands', 'putGuildCommands', putGuildCommands],
    [
      'GET',
      'applications/:app/guilds/:guild/commands',
      'getGuildCommands',
      (ctx) => ({ status: 200, body: state.guildCommands.get(param(ctx, 'guild')) ?? [] }),
    ],
    ['POST', 'interactions/:id/:token/callback', 'interactionCallback', interactions.interactionCallback],
    ['GET', webhookMessage, 'getOriginal', interactions.getOriginal],
    ['PATCH', webhookMessage, 'editOriginal', interactions.editOriginal],
    ['DELETE', webhookMessage, 'deleteOriginal', interactions.deleteOriginal],
    ['POST', 'webhooks/:app/:token', 'followup', interactions.followup],
    ['GET', 'channels/:channel', 'getChannel', getChannel],
    ['GET', 'channels/:channel/messages/:message', 'getMessage', getMessage],
    ['POST', 'channels/:channel/messages', 'createMessage', createMessage],
    ['PATCH', 'channels/:channel/messages/:message', 'editMessage', editMessage],
    ['DELETE', 'channels/:channel/messages/:message', 'deleteMessage', deleteMessage],
    ['POST', 'channels/:channel/messages/:message/threads', 'startThreadFromMessage', startThreadFromMessage],
    ['POST', 'channels/:channel/threads', 'startThread', startThread],
    ['POST', 'channels/:channel/typing', 'typing', typing],
    ['PUT', 'channels/:channel/messages/:message/reactions/:emoji/@me', 'addReaction', addReaction],
  ];

  /** Finds the route for a decoded path (without `/api/v10/`). */
  function match(method: string, path: string) {
    const segments = path.split('/').filter(Boolean);
    for (const [m, pattern, name, handler] of routes) {
      const parts = pattern.split('/');
      if (m !== method || parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = parts.every((part, i) => {
        if (part.startsWith(':')) params[part.slice(1)] = segments[i] ?? '';
        return part.startsWith(':') || part === segments[i];
      });
      if (ok) return { name, handler, params };
    }
    return undefined;
  }

  return { match };
}

function userBody(user: DiscordUser) {
  return {
    id: user.id,
    username: user.username,
    global_name: null,
    discriminator: '0001',
    avatar: null,
    bot: true,
  };
}
