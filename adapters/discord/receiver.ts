import type { AnswerActions } from '../../src/run/answer-actions.js';
import { onButtonClick } from './button-clicks.js';
import { once } from 'node:events';
import {
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  MessageFlags,
  Partials,
} from 'discord.js';
import { Redis } from 'ioredis';
import type { ChatJob } from '../../src/ports/turn-job.js';
import { type EnqueueResult, limitReplyText, type MessageQueue } from '../../src/ports/message-queue.js';
import { type Clock, systemClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { describeError, MovebotError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { SessionStore } from '../../src/ports/session-store.js';
import { COMMAND_NAMES, interactionText, PRIVATE_COMMANDS } from './commands.js';
import { dropInteraction, saveInteraction } from './interaction-store.js';

export interface DiscordReceiverOptions {
  config: { discord: Pick<Config['discord'], 'token' | 'apiUrl'>; redisUrl: string };
  queue: MessageQueue;
  /** To recognise threads that hold a conversation, so follow-ups need no mention. */
  store: Pick<SessionStore, 'getSessionByThreadKey'>;
  /** For interaction tokens; by default a client of `config.redisUrl`, closed by stop(). */
  redis?: Redis;
  logger: Logger;
  /** A ready-made client (its intents are the caller's business); by default one is built. */
  client?: Client;
  /**
   * Requests the privileged MessageContent intent (DISCORD_MESSAGE_CONTENT=true): follow-ups in the
   * bot's threads then need no mention. Without it only mentions, DMs and slash commands reach us.
   * The intent must also be enabled in the developer portal, or login fails with 4014.
   */
  messageContent?: boolean;
  clock?: Clock;
  /** What the buttons under answers do (Stop, feedback, follow-ups); without it clicks are ignored. */
  actions?: AnswerActions;
}

export interface DiscordReceiver {
  /** Logs in and resolves once the gateway session is ready. */
  start(): Promise<void>;
  /** Disconnects from the gateway (and closes the Redis client it created). */
  stop(): Promise<void>;
  readonly client: Client;
}

/** The session key of a conversation rooted at `rootId` (see chat-adapter.ts for the thread model). */
export const discordThreadKey = (workspace: string, rootId: string) => `discord:${workspace}:${rootId}`;

/**
 * The web role's Discord side: acknowledges slash commands at once, turns commands, mentions and
 * follow-ups in the bot's threads into ChatJobs, and leaves all the work to the worker.
 */
export function createDiscordReceiver(options: DiscordReceiverOptions): DiscordReceiver {
  const { config, queue, store, logger } = options;
  const clock = options.clock ?? systemClock;
  const ownRedis = !options.redis;
  const redis = options.redis ?? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  if (ownRedis) redis.on('error', (err) => logger.warn({ err: err.message }, 'discord receiver redis error'));
  const client =
    options.client ??
    new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.DirectMessages,
        ...(options.messageContent ? [GatewayIntentBits.MessageContent] : []),
      ],
      // DM channels are not cached in advance; without this partial their messages are dropped.
      partials: [Partials.Channel],
      ...(config.discord.apiUrl && { rest: { api: config.discord.apiUrl } }),
    });

  client.on(Events.InteractionCreate, (interaction) => {
    onInteraction(interaction).catch((err) =>
      logger.error({ err: describeError(err), interactionId: interaction.id }, 'discord interaction failed'),
    );
  });
  client.on(Events.MessageCreate, (message) => {
    onMessage(message).catch((err) =>
      logger.error({ err: describeError(err), messageId: message.id }, 'discord message failed'),
    );
  });

  async function onInteraction(interaction: Interaction): Promise<void> {
    if (interaction.isButton() && options.actions) {
      await onButtonClick(interaction, { actions: options.actions, clock, logger, threadKey: discordThreadKey });
      return;
    }
    if (!interaction.isChatInputCommand() || !COMMAND_NAMES.has(interaction.commandName)) return;
    // Discord allows 3 s for the first response: acknowledge before anything that could be slow.
    const ephemeral = PRIVATE_COMMANDS.has(interaction.commandName);
    const callback = await interaction.deferReply({
      withResponse: true,
      ...(ephemeral && { flags: MessageFlags.Ephemeral }),
    });
    const rootId = callback.interaction.responseMessageId ?? (await interaction.fetchReply()).id;
    const text = interactionText(interaction);
    if (!text) {
      await interaction.editReply('Please tell me what you would like to know.');
      return;
    }
    const job: ChatJob = { ...jobFromInteraction(interaction, rootId, text), ...(ephemeral && { ephemeral }) };
    let result: EnqueueResult;
    try {
      await saveInteraction(
        redis,
        interaction.id,
        { token: interaction.token, applicationId: interaction.applicationId },
        clock.now(),
      );
      result = await queue.enqueue(job);
    } catch (err) {
      logger.warn(
        { err: describeError(err), interactionId: interaction.id },
        'could not queue a discord command',
      );
      await dropInteraction(redis, interaction.id).catch(() => {});
      await interaction.editReply(unavailableText);
      return;
    }
    if (result.limited) {
      // Over a limit: nothing was queued, so the deferred reply says which limit and when to retry.
      logger.info({ interactionId: interaction.id, limit: result.limited.limit }, 'discord command refused by a limit');
      await dropInteraction(redis, interaction.id).catch(() => {});
      await interaction.editReply(limitReplyText(result.limited));
      return;
    }
    logger.info(
      { interactionId: interaction.id, command: interaction.commandName, enqueued: result.enqueued },
      'discord command queued',
    );
  }

  function jobFromInteraction(
    interaction: ChatInputCommandInteraction,
    rootId: string,
    text: string,
  ): ChatJob {
    const workspace = interaction.guildId ?? '@dm';
    const channel = interaction.channelId;
    // In a DM or an existing thread the conversation is that channel; elsewhere a thread opens on the reply.
    const root = !interaction.inGuild() || interaction.channel?.isThread() ? channel : rootId;
    return {
      platform: 'discord',
      workspace,
      channel,
      ...(interaction.inGuild() && { thread: root }),
      messageId: interaction.id,
      interactionId: interaction.id,
      userId: interaction.user.id,
      userName: interaction.user.globalName ?? interaction.user.username,
      text,
      threadKey: discordThreadKey(workspace, root),
      receivedAt: new Date(clock.now()).toISOString(),
    };
  }

  async function onMessage(message: Message): Promise<void> {
    // Bots (ourselves included) and webhooks never start a turn: no loops between bots.
    if (message.author.bot || message.webhookId || message.system) return;
    const me = client.user;
    if (!me) return;
    const mentioned = message.mentions.users.has(me.id);
    // Without MessageContent the text of unaddressed messages arrives empty: nothing to answer.
    const text = stripMention(message.content, me.id);
    if (!text) return;
    const workspace = message.guildId ?? '@dm';
    const channel = message.channel;
    let root: string;
    if (!message.inGuild()) root = message.channelId;
    else if (channel.isThread()) {
      root = channel.id;
      // A thread is ours once its session exists, or while its first message still waits in the queue
      // (the worker creates the session), so a quick follow-up is not lost to that gap.
      const key = discordThreadKey(workspace, root);
      const known = async () => (await queue.hasPending(key)) || (await store.getSessionByThreadKey(key)) !== undefined;
      if (!mentioned && channel.ownerId !== me.id && !(await known())) return;
    } else if (mentioned) root = message.id;
    else return;

    const job: ChatJob = {
      platform: 'discord',
      workspace,
      channel: message.channelId,
      ...(message.inGuild() && { thread: root }),
      messageId: message.id,
      userId: message.author.id,
      userName: message.member?.displayName ?? message.author.globalName ?? message.author.username,
      text: text.slice(0, 8_000),
      threadKey: discordThreadKey(workspace, root),
      receivedAt: new Date(clock.now()).toISOString(),
    };
    try {
      const { enqueued, limited } = await queue.enqueue(job);
      if (limited) {
        logger.info({ messageId: message.id, limit: limited.limit }, 'discord message refused by a limit');
        await message.reply({ content: limitReplyText(limited), allowedMentions: { parse: [] } }).catch((err: unknown) =>
          logger.warn({ err: describeError(err), messageId: message.id }, 'could not post the limit reply'),
        );
        return;
      }
      logger.info({ messageId: message.id, enqueued }, 'discord message queued');
    } catch (err) {
      logger.warn({ err: describeError(err), messageId: message.id }, 'could not queue a discord message');
      await message.reply({ content: unavailableText, allowedMentions: { parse: [] } }).catch(() => {});
    }
  }

  return {
    client,
    async start() {
      const ready = once(client, Events.ClientReady);
      try {
        await client.login(config.discord.token);
        await ready;
      } catch (err) {
        const hint = /disallowed intents/i.test(String((err as Error).message))
          ? ' (enable the Message Content intent in the developer portal, or set DISCORD_MESSAGE_CONTENT=false)'
          : '';
        throw new MovebotError('platform_error', `Discord login failed: ${(err as Error).message}${hint}`, {
          cause: err,
        });
      }
      logger.info(
        { user: client.user?.tag, messageContent: Boolean(options.messageContent) },
        'discord connected',
      );
    },
    async stop() {
      await client.destroy();
      if (ownRedis) redis.disconnect();
    },
  };
}

const unavailableText = "Sorry, I can't take questions right now. Please try again in a minute.";

/** Removes mentions of the bot (`<@id>` / `<@!id>`) and tidies the spaces they leave. */
export function stripMention(content: string, botId: string): string {
  return content
    .replace(new RegExp(`<@!?${botId}>`, 'g'), '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
