/**
 * Discord API v10 object shapes used by the Discord fake: snowflakes, users, channels, guilds,
 * messages and interactions, complete enough for discord.js 14 to build its structures from them.
 */
import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A snowflake id for "now": discord.js derives `createdTimestamp` from it. */
export function snowflake(): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment).toString();
}

/** Channel types the fake knows (Discord's numbers). */
export const ChannelType = {
  GuildText: 0,
  DM: 1,
  GuildAnnouncement: 5,
  PublicThread: 11,
  PrivateThread: 12,
} as const;

/** Gateway intents the fake applies (bits). */
export const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

/** Privileged intents: a client asking for one that is not approved is closed with 4014. */
export const PRIVILEGED_INTENTS = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;

export interface DiscordUser {
  id: string;
  username: string;
  bot?: boolean;
}

export interface ChannelSpec {
  id: string;
  name: string;
  /** Discord channel type; default 0 (text). */
  type?: number;
}

export interface GuildSpec {
  id: string;
  name: string;
  channels: ChannelSpec[];
}

/** A thread the fake knows: started from a message (same id) or standalone. */
export interface ThreadRecord {
  id: string;
  parentId: string;
  guildId: string;
  name: string;
  type: number;
  /** The message it was started from, when it was. */
  fromMessageId?: string;
  ownerId: string;
}

export function userObject(user: DiscordUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    global_name: user.bot ? null : user.username,
    discriminator: user.bot ? '0001' : '0',
    avatar: null,
    bot: user.bot ?? false,
    public_flags: 0,
  };
}

export function memberObject(user: DiscordUser): Record<string, unknown> {
  return {
    user: userObject(user),
    roles: [],
    nick: null,
    avatar: null,
    joined_at: new Date(0).toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    permissions: '2251799813685247',
  };
}

export function channelObject(channel: ChannelSpec, guildId: string): Record<string, unknown> {
  return {
    id: channel.id,
    type: channel.type ?? ChannelType.GuildText,
    guild_id: guildId,
    name: channel.name,
    position: 0,
    permission_overwrites: [],
    parent_id: null,
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
  };
}

export function threadObject(thread: ThreadRecord): Record<string, unknown> {
  return {
    id: thread.id,
    type: thread.type,
    guild_id: thread.guildId,
    parent_id: thread.parentId,
    owner_id: thread.ownerId,
    name: thread.name,
    last_message_id: null,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    flags: 0,
    thread_metadata: {
      archived: false,
      auto_archive_duration: 1440,
      archive_timestamp: new Date().toISOString(),
      locked: false,
      create_timestamp: new Date().toISOString(),
    },
  };
}

export function guildCreateObject(
  guild: GuildSpec,
  bot: DiscordUser,
  threads: ThreadRecord[],
): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: '1',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [
      {
        id: guild.id,
        name: '@everyone',
        color: 0,
        hoist: false,
        position: 0,
        permissions: '2251799813685247',
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: new Date(0).toISOString(),
    large: false,
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [memberObject(bot)],
    channels: guild.channels.map((c) => channelObject(c, guild.id)),
    threads: threads.filter((t) => t.guildId === guild.id).map(threadObject),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** Fields the fake keeps for every message. */
export interface MessageRecord {
  id: string;
  channelId: string;
  guildId?: string;
  author: DiscordUser;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: Array<{ id: string; filename: string; size: number; url: string; content_type?: string }>;
  mentions: DiscordUser[];
  /** Message flags: 64 ephemeral, 128 "thinking" (deferred interaction response). */
  flags: number;
  /** 0 default, 20 chat-input command response, 21 thread starter. */
  type: number;
  createdAt: string;
  editedAt: string | null;
  /**
   * Set for interaction responses: type 2 slash command (`name`), 3 message component (the clicked
   * message is `interactedMessageId`).
   */
  interaction?: { id: string; name: string; user: DiscordUser; type?: 2 | 3; interactedMessageId?: string };
  webhookId?: string;
  applicationId?: string;
  /** The thread started from this message, if any (same id). */
  threadId?: string;
}

export function messageObject(m: MessageRecord): Record<string, unknown> {
  return {
    id: m.id,
    type: m.type,
    channel_id: m.channelId,
    ...(m.guildId !== undefined && { guild_id: m.guildId }),
    author: userObject(m.author),
    content: m.content,
    timestamp: m.createdAt,
    edited_timestamp: m.editedAt,
    tts: false,
    mention_everyone: false,
    mentions: m.mentions.map(userObject),
    mention_roles: [],
    attachments: m.attachments,
    embeds: m.embeds,
    components: m.components,
    pinned: false,
    flags: m.flags,
    ...(m.webhookId !== undefined && { webhook_id: m.webhookId }),
    ...(m.applicationId !== undefined && { application_id: m.applicationId }),
    ...(m.interaction && {
      interaction: {
        id: m.interaction.id,
        type: m.interaction.type ?? 2,
        name: m.interaction.name,
        user: userObject(m.interaction.user),
      },
      interaction_metadata: {
        id: m.interaction.id,
        type: m.interaction.type ?? 2,
        user: userObject(m.interaction.user),
        authorizing_integration_owners: { 0: m.guildId ?? '0' },
        ...(m.interaction.interactedMessageId !== undefined && {
          interacted_message_id: m.interaction.interactedMessageId,
        }),
      },
    }),
    ...(m.threadId !== undefined && { thread: { id: m.threadId } }),
  };
}

/** Discord option types inferred from the JS value (string 3, integer 4, boolean 5, number 10). */
export function commandOptions(
  options: Record<string, string | number | boolean>,
): Array<Record<string, unknown>> {
  return Object.entries(options).map(([name, value]) => ({
    name,
    value,
    type: typeof value === 'string' ? 3 : typeof value === 'boolean' ? 5 : Number.isInteger(value) ? 4 : 10,
  }));
}

export interface InteractionInput {
  guildId: string;
  channelId: string;
  user: DiscordUser;
  commandName: string;
  options?: Record<string, string | number | boolean>;
}

/** A full APPLICATION_COMMAND (chat input) interaction as the gateway delivers it. */
export function interactionObject(
  input: InteractionInput & {
    id: string;
    token: string;
    applicationId: string;
    commandId: string;
    channel: Record<string, unknown>;
  },
): Record<string, unknown> {
  return {
    id: input.id,
    application_id: input.applicationId,
    type: 2,
    token: input.token,
    version: 1,
    guild_id: input.guildId,
    guild: { id: input.guildId, locale: 'en-US', features: [] },
    channel_id: input.channelId,
    channel: input.channel,
    member: memberObject(input.user),
    data: {
      id: input.commandId,
      name: input.commandName,
      type: 1,
      guild_id: input.guildId,
      options: commandOptions(input.options ?? {}),
    },
    app_permissions: '2251799813685247',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { 0: input.guildId },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
}

/** An interaction token: long and opaque like Discord's. */
export function interactionToken(): string {
  return `aW50ZXJhY3Rpb24${randomBytes(24).toString('base64url')}`;
}
