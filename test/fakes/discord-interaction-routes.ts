/**
 * Interaction routes of the Discord fake: the callback (`POST /interactions/{id}/{token}/callback`)
 * and the interaction webhook (`/webhooks/{app}/{token}[/messages/{@original|id}]`), with Discord's
 * deadline (10062), token expiry (50027) and double-acknowledgement (40060) rules. Component
 * interactions also take 6 (deferred update) and 7 (update the clicked message, which becomes
 * @original); their ephemeral responses and follow-ups (flags 64) go to `state.ephemerals`.
 */
import { messageObject, type MessageRecord } from './discord-payloads.js';
import {
  error,
  type Handler,
  type MessageOps,
  type RestContext,
  type RestDeps,
  type RestReply,
} from './discord-message-ops.js';
import type { InteractionRecord } from './discord-state.js';

type ResponseKind = 'callback' | 'edit' | 'followup' | 'delete';

/**
 * Callback types Discord accepts per interaction type: 4 message, 5 deferred message, 6 deferred
 * update and 7 update (components only), 9 modal, 10 premium required (deprecated), 12 launch activity.
 */
const CALLBACK_TYPES: Record<InteractionRecord['type'], number[]> = {
  2: [4, 5, 9, 10, 12],
  3: [4, 5, 6, 7, 9, 10, 12],
};

export function createInteractionRoutes(deps: RestDeps, ops: MessageOps) {
  const { state, applicationId } = deps;

  /** The interaction behind a webhook route, or the error Discord gives. */
  function webhookInteraction(ctx: RestContext): InteractionRecord | RestReply {
    if (ctx.params.app !== applicationId) return error(404, 10015, 'Unknown Webhook');
    const interaction = state.interactionByToken(ctx.params.token ?? '');
    if (!interaction) return error(401, 50027, 'Invalid Webhook Token');
    if (interaction.expired || Date.now() - interaction.dispatchedAt > deps.tokenLifetimeMs) {
      interaction.expired = true;
      return error(401, 50027, 'Invalid Webhook Token');
    }
    return interaction;
  }

  function record(interaction: InteractionRecord, kind: ResponseKind, ctx: RestContext): void {
    const response = {
      kind,
      data: ctx.json,
      atMs: Date.now() - interaction.dispatchedAt,
      ...(kind === 'callback' && { type: Number(ctx.json.type) }),
    };
    interaction.responses.push(response);
    if (kind === 'callback') interaction.settle(response);
  }

  function original(interaction: InteractionRecord): MessageRecord | undefined {
    return interaction.originalMessageId ? state.findAnywhere(interaction.originalMessageId) : undefined;
  }

  /** Runs `handle` on the webhook's message (`@original` or a follow-up id), or answers 10008. */
  function withWebhookMessage(
    ctx: RestContext,
    handle: (interaction: InteractionRecord, message: MessageRecord) => RestReply,
  ): RestReply {
    const interaction = webhookInteraction(ctx);
    if ('status' in interaction) return interaction;
    const id = ctx.params.message ?? '';
    const message = id === '@original' ? original(interaction) : state.findAnywhere(id);
    return message ? handle(interaction, message) : error(404, 10008, 'Unknown Message');
  }

  /** Ephemeral responses to component interactions are kept apart, for the clicking user only. */
  const ephemeralOwner = (interaction: InteractionRecord, flags: number) =>
    interaction.type === 3 && flags & 64
      ? { interactionId: interaction.id, userId: interaction.user.id }
      : undefined;

  const acknowledged = (interaction: InteractionRecord) =>
    interaction.responses.some((r) => r.kind === 'callback');

  const routes = {
    interactionCallback(ctx) {
      const interaction = state.interactions.get(ctx.params.id ?? '');
      if (!interaction || interaction.token !== ctx.params.token)
        return error(404, 10062, 'Unknown interaction');
      const type = Number(ctx.json.type);
      const allowed = CALLBACK_TYPES[interaction.type];
      if (!allowed.includes(type)) {
        return error(400, 50035, 'Invalid Form Body', {
          type: {
            _errors: [
              { code: 'BASE_TYPE_CHOICES', message: `Value must be one of (${allowed.join(', ')}).` },
            ],
          },
        });
      }
      if (acknowledged(interaction)) return error(400, 40060, 'Interaction has already been acknowledged.');
      if (Date.now() - interaction.dispatchedAt > deps.interactionDeadlineMs) {
        return error(404, 10062, 'Unknown interaction');
      }
      const data = (ctx.json.data ?? {}) as Record<string, unknown>;
      const component = interaction.type === 3;
      if (type === 6 || type === 7) {
        // Component updates act on the clicked message, which becomes the interaction's @original.
        const clicked = state.findAnywhere(interaction.messageId ?? '');
        if (!clicked) return error(404, 10008, 'Unknown Message');
        const updated = type === 7 ? ops.edit(clicked, { ...ctx, json: data }, 'data') : undefined;
        if (updated && updated.status !== 200) return updated;
        interaction.originalMessageId = clicked.id;
      }
      if (type === 4 || type === 5) {
        const invalid = type === 4 ? ops.validate(data, ctx.files.length, 'data') : undefined;
        if (invalid) return invalid;
        // A deferred response shows as a "thinking" message (flag 128) until it is edited.
        const flags = Number(data.flags ?? 0) | (type === 5 ? 128 : 0);
        const message = ops.newMessage(
          interaction.channelId,
          { ...ctx, json: type === 5 ? {} : data },
          {
            flags,
            type: component ? 0 : 20,
            interaction: {
              id: interaction.id,
              name: interaction.commandName,
              user: interaction.user,
              ...(component && { type: 3 as const, interactedMessageId: interaction.messageId }),
            },
            webhookId: applicationId,
            applicationId,
          },
          ephemeralOwner(interaction, flags),
        );
        interaction.originalMessageId = message.id;
        ops.created(message);
      }
      record(interaction, 'callback', ctx);
      if (ctx.query.get('with_response') !== 'true') return { status: 204 };
      const message = original(interaction);
      return {
        status: 200,
        body: {
          interaction: {
            id: interaction.id,
            type: interaction.type,
            response_message_id: message?.id,
            response_message_loading: type === 5,
            response_message_ephemeral: Boolean(message && message.flags & 64),
          },
          resource: { type, ...(message && { message: messageObject(message) }) },
        },
      };
    },
    getOriginal: (ctx) =>
      withWebhookMessage(ctx, (_interaction, message) => ({ status: 200, body: messageObject(message) })),
    editOriginal: (ctx) =>
      withWebhookMessage(ctx, (interaction, message) => {
        const reply = ops.edit(message, ctx);
        if (reply.status === 200) record(interaction, 'edit', ctx);
        return reply;
      }),
    deleteOriginal: (ctx) =>
      withWebhookMessage(ctx, (interaction, message) => {
        state.remove(message);
        if (!(message.flags & 64)) {
          deps.emit('MESSAGE_DELETE', {
            id: message.id,
            channel_id: message.channelId,
            guild_id: message.guildId,
          });
        }
        record(interaction, 'delete', ctx);
        return { status: 204 };
      }),
    followup(ctx) {
      const interaction = webhookInteraction(ctx);
      if ('status' in interaction) return interaction;
      if (!acknowledged(interaction)) return error(404, 10015, 'Unknown Webhook');
      const loading = original(interaction);
      let reply: RestReply;
      if (loading && loading.flags & 128) {
        // Discord turns the first follow-up after a deferral into the original response.
        reply = ops.edit(loading, ctx);
      } else {
        const invalid = ops.validate(ctx.json, ctx.files.length);
        if (invalid) return invalid;
        const channelId = ctx.query.get('thread_id') ?? interaction.channelId;
        const extra = { type: interaction.type === 3 ? 0 : 20, webhookId: applicationId, applicationId };
        const owner = ephemeralOwner(interaction, Number(ctx.json.flags ?? 0));
        reply = ops.created(ops.newMessage(channelId, ctx, extra, owner));
      }
      if (reply.status === 200) record(interaction, 'followup', ctx);
      return ctx.query.get('wait') === 'true' || reply.status !== 200 ? reply : { status: 204 };
    },
  } satisfies Record<string, Handler>;
  return routes;
}
