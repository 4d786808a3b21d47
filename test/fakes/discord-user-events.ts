import { componentInteractionObject, dmChannelObject, findButton } from './discord-components.js';
import type { createDiscordGateway } from './discord-gateway-fake.js';
import {
  channelObject,
  type DiscordUser,
  type GuildSpec,
  Intent,
  interactionObject,
  interactionToken,
  type MessageRecord,
  memberObject,
  messageObject,
  snowflake,
  threadObject,
} from './discord-payloads.js';
import type { DiscordState, InteractionRecord, InteractionResponseRecord } from './discord-state.js';

/**
 * The user side of the Discord fake: what people do (run a slash command, click a button, post a
 * message, open a thread), stored in the fake's state and delivered to the bot as gateway events
 * under Discord's intent rules. The fake's REST side uses `emitMessage` for the bot's own messages.
 */
export function createDiscordUserEvents(deps: {
  state: DiscordState;
  gateway: ReturnType<typeof createDiscordGateway>;
  bot: DiscordUser;
  applicationId: string;
  guilds: GuildSpec[];
  interactionDeadlineMs: number;
}) {
  const { state, gateway, bot, applicationId } = deps;

  /** Gateway delivery of a message event, honouring message intents and the MESSAGE_CONTENT rule. */
  function emitMessage(t: string, d: Record<string, unknown>, mentionsBot: boolean, byBot: boolean): void {
    const isDm = d.guild_id === undefined;
    gateway.dispatch(t, (intents: number) => {
      if (!(intents & (isDm ? Intent.DirectMessages : Intent.GuildMessages))) return undefined;
      if (intents & Intent.MessageContent || isDm || mentionsBot || byBot) return d;
      return { ...d, content: '', embeds: [], attachments: [], components: [] };
    });
  }

  function channelPayload(channelId: string, guildId: string): Record<string, unknown> {
    const thread = state.threads.get(channelId);
    if (thread) return threadObject(thread);
    const spec = deps.guilds.find((g) => g.id === guildId)?.channels.find((c) => c.id === channelId);
    return channelObject(spec ?? { id: channelId, name: 'unknown' }, guildId);
  }

  /** Stores a new interaction; `callback` settles with its first callback, or undefined after the deadline. */
  function register(
    fields: Omit<InteractionRecord, 'id' | 'token' | 'dispatchedAt' | 'responses' | 'expired' | 'settle'>,
  ) {
    const id = snowflake();
    const token = interactionToken();
    let settle: (r: InteractionResponseRecord | undefined) => void = () => undefined;
    const callback = new Promise<InteractionResponseRecord | undefined>((resolve) => {
      settle = resolve;
    });
    const timer = setTimeout(() => settle(undefined), deps.interactionDeadlineMs + 50);
    timer.unref();
    state.interactions.set(id, {
      ...fields,
      id,
      token,
      dispatchedAt: Date.now(),
      responses: [],
      expired: false,
      settle: (r) => {
        clearTimeout(timer);
        settle(r);
      },
    });
    return { id, token, callback };
  }

  /**
   * Delivers a slash command as INTERACTION_CREATE. `callback` resolves with the first callback
   * response, or undefined once the deadline passed without one.
   */
  function dispatchInteraction(input: {
    channelId: string;
    guildId?: string;
    user: DiscordUser;
    commandName: string;
    options?: Record<string, string | number | boolean>;
  }) {
    const guildId = input.guildId ?? state.guildOf(input.channelId) ?? '';
    const registered = [...(state.guildCommands.get(guildId) ?? []), ...state.globalCommands];
    const commandId = String(registered.find((c) => c.name === input.commandName)?.id ?? snowflake());
    const created = register({
      type: 2,
      guildId,
      channelId: input.channelId,
      user: input.user,
      commandName: input.commandName,
      options: input.options ?? {},
    });
    gateway.dispatch(
      'INTERACTION_CREATE',
      interactionObject({
        ...input,
        guildId,
        id: created.id,
        token: created.token,
        applicationId,
        commandId,
        channel: channelPayload(input.channelId, guildId),
      }),
    );
    return created;
  }

  /**
   * A user clicks a button on a message they can see (the bot's message in the channel, or an
   * ephemeral message shown to them): INTERACTION_CREATE of type 3 with the message as it is now.
   * Throws when there is no such message or enabled, non-link button. Returns like dispatchInteraction.
   */
  function clickButton(input: {
    channelId: string;
    messageId: string;
    customId: string;
    user: DiscordUser;
    guildId?: string;
  }) {
    const guildId = input.guildId ?? state.guildOf(input.channelId);
    const message = state.findVisible(input.channelId, input.messageId, input.user.id);
    if (!message) {
      throw new Error(
        `clickButton: ${input.user.username} sees no message ${input.messageId} in ${input.channelId}`,
      );
    }
    const button = findButton(message, input.customId);
    if (!button || button.disabled === true) {
      throw new Error(
        `clickButton: message ${message.id} has no enabled button with custom_id ${input.customId}`,
      );
    }
    const created = register({
      type: 3,
      guildId: guildId ?? '',
      channelId: input.channelId,
      user: input.user,
      commandName: '',
      options: {},
      customId: input.customId,
      messageId: message.id,
    });
    gateway.dispatch(
      'INTERACTION_CREATE',
      componentInteractionObject({
        id: created.id,
        token: created.token,
        applicationId,
        ...(guildId !== undefined && { guildId }),
        channelId: input.channelId,
        channel:
          guildId !== undefined
            ? channelPayload(input.channelId, guildId)
            : dmChannelObject(input.channelId, input.user),
        user: input.user,
        message,
        customId: input.customId,
      }),
    );
    return created;
  }

  /**
   * A user's message as MESSAGE_CREATE (stored too). No guild → a DM channel. `<@botId>` in the
   * content counts as a mention of the bot.
   */
  function dispatchMessage(input: {
    channelId: string;
    guildId?: string;
    author: DiscordUser;
    content: string;
    mentions?: DiscordUser[];
  }) {
    const guildId = input.guildId ?? state.guildOf(input.channelId);
    if (guildId === undefined) state.dmChannels.add(input.channelId);
    const mentions = [...(input.mentions ?? [])];
    if (input.content.includes(`<@${bot.id}>`) && !mentions.some((u) => u.id === bot.id)) mentions.push(bot);
    const message: MessageRecord = state.store({
      id: snowflake(),
      channelId: input.channelId,
      ...(guildId !== undefined && { guildId }),
      author: input.author,
      content: input.content,
      embeds: [],
      components: [],
      attachments: [],
      mentions,
      flags: 0,
      type: 0,
      createdAt: new Date().toISOString(),
      editedAt: null,
    });
    const member =
      guildId !== undefined ? { member: { ...memberObject(input.author), user: undefined } } : {};
    emitMessage(
      'MESSAGE_CREATE',
      { ...messageObject(message), ...member },
      mentions.some((u) => u.id === bot.id),
      false,
    );
    return message;
  }

  /** A public thread a user opens in a channel (owned by them, not the bot), as THREAD_CREATE. */
  function openUserThread(input: { parentId: string; owner: DiscordUser; name?: string }) {
    const thread = {
      id: snowflake(),
      parentId: input.parentId,
      guildId: state.guildOf(input.parentId) ?? '',
      name: input.name ?? 'thinking about moving',
      type: 11,
      ownerId: input.owner.id,
    };
    state.threads.set(thread.id, thread);
    gateway.dispatch('THREAD_CREATE', (intents: number) =>
      intents & Intent.Guilds ? { ...threadObject(thread), newly_created: true } : undefined,
    );
    return thread;
  }

  return { emitMessage, dispatchInteraction, clickButton, dispatchMessage, openUserThread };
}
