/**
 * What the Discord fake remembers, as users of the guild would see it: messages per channel/thread
 * (edits applied, deletions removed), threads, interactions and their responses, commands, uploads.
 * discord-rest-fake.ts changes it; discord-fake.ts exposes it to tests.
 */
import type { DiscordUser, GuildSpec, MessageRecord, ThreadRecord } from './discord-payloads.js';

/** One response to an interaction: the callback, or an edit/follow-up through its webhook. */
export interface InteractionResponseRecord {
  /** `callback` (POST …/callback), `edit` (PATCH @original), `followup`, `delete`. */
  kind: 'callback' | 'edit' | 'followup' | 'delete';
  /** Callback type for `callback` (4 message, 5 deferred, 6/7 component updates). */
  type?: number;
  /** The JSON body (payload_json for multipart). */
  data: Record<string, unknown>;
  /** Milliseconds after the interaction was dispatched. */
  atMs: number;
}

export interface InteractionRecord {
  id: string;
  /** Interaction type: 2 application command (`dispatchInteraction`), 3 message component (`clickButton`). */
  type: 2 | 3;
  token: string;
  /** '' in a DM. */
  guildId: string;
  channelId: string;
  user: DiscordUser;
  /** The slash command ('' for a component interaction). */
  commandName: string;
  /** For a component interaction: the clicked button's custom_id and the message it is on. */
  customId?: string;
  messageId?: string;
  options: Record<string, string | number | boolean>;
  /** `Date.now()` at dispatch. */
  dispatchedAt: number;
  responses: InteractionResponseRecord[];
  /** Id of the original response message once the callback created one. */
  originalMessageId?: string;
  /** Set by `expireInteractionToken` (or when the token lifetime passed). */
  expired: boolean;
  /** Settles the promise returned by dispatchInteraction. */
  settle: (response: InteractionResponseRecord | undefined) => void;
}

/** Who may see an ephemeral message: the user of one interaction. */
export interface EphemeralOwner {
  interactionId: string;
  userId: string;
}

/** An ephemeral response to a component interaction, as only the clicking user sees it. */
export interface EphemeralRecord extends EphemeralOwner {
  messageId: string;
  channelId: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
}

/** A file that arrived with a message (multipart `files[n]`). */
export interface AttachmentRecord {
  channelId: string;
  messageId: string;
  filename: string;
  contentType?: string;
  content: Buffer;
  /** The attachment's `description` from payload_json (an image's alt text). */
  description?: string;
}

/** A recorded REST call. */
export interface DiscordCall {
  method: string;
  /** Decoded path after `/api/v10`, e.g. `/webhooks/123/tok/messages/@original`. */
  path: string;
  /** The fake's route name, e.g. `createMessage` (see discord-rest-fake.ts). */
  route: string;
  query: Record<string, string>;
  /** JSON body, or payload_json of a multipart body. */
  body: unknown;
  at: number;
  status?: number;
}

export function createDiscordState(guilds: GuildSpec[]) {
  const messages = new Map<string, Map<string, MessageRecord>>();
  const threads = new Map<string, ThreadRecord>();
  const dmChannels = new Set<string>();
  const interactions = new Map<string, InteractionRecord>();
  const globalCommands: Array<Record<string, unknown>> = [];
  const guildCommands = new Map<string, Array<Record<string, unknown>>>();
  const attachments: AttachmentRecord[] = [];
  const typing: Array<{ channelId: string; at: number }> = [];
  const reactions: Array<{ channelId: string; messageId: string; emoji: string }> = [];
  const calls: DiscordCall[] = [];
  /** Ephemeral messages of component interactions: not in their channel, only their owner sees them. */
  const ephemeral = new Map<string, { owner: EphemeralOwner; message: MessageRecord }>();

  /** Guild id of a guild channel or thread; undefined for DMs and unknown channels. */
  function guildOf(channelId: string): string | undefined {
    const thread = threads.get(channelId);
    if (thread) return thread.guildId;
    return guilds.find((g) => g.channels.some((c) => c.id === channelId))?.id;
  }

  function channelExists(channelId: string): boolean {
    return guildOf(channelId) !== undefined || dmChannels.has(channelId);
  }

  function channelType(channelId: string): number | undefined {
    const thread = threads.get(channelId);
    if (thread) return thread.type;
    for (const g of guilds) {
      const channel = g.channels.find((c) => c.id === channelId);
      if (channel) return channel.type ?? 0;
    }
    return dmChannels.has(channelId) ? 1 : undefined;
  }

  function store(message: MessageRecord): MessageRecord {
    let channel = messages.get(message.channelId);
    if (!channel) {
      channel = new Map();
      messages.set(message.channelId, channel);
    }
    channel.set(message.id, message);
    return message;
  }

  function findMessage(channelId: string, messageId: string): MessageRecord | undefined {
    return messages.get(channelId)?.get(messageId);
  }

  /** Finds a message by id in any channel, ephemeral ones included (webhook edits do not name the channel). */
  function findAnywhere(messageId: string): MessageRecord | undefined {
    for (const channel of messages.values()) {
      const message = channel.get(messageId);
      if (message) return message;
    }
    return ephemeral.get(messageId)?.message;
  }

  function storeEphemeral(message: MessageRecord, owner: EphemeralOwner): MessageRecord {
    ephemeral.set(message.id, { owner, message });
    return message;
  }

  /** Ephemeral messages in creation order, edits applied, deletions removed. */
  function ephemerals(): EphemeralRecord[] {
    return [...ephemeral.values()].map(({ owner, message: m }) => ({
      ...owner,
      messageId: m.id,
      channelId: m.channelId,
      content: m.content,
      embeds: m.embeds,
      components: m.components,
      flags: m.flags,
    }));
  }

  return {
    guilds,
    messages,
    threads,
    dmChannels,
    interactions,
    globalCommands,
    guildCommands,
    attachments,
    typing,
    reactions,
    calls,
    guildOf,
    channelExists,
    channelType,
    store,
    findMessage,
    findAnywhere,
    storeEphemeral,
    ephemerals,
    /** The message in its channel, or an ephemeral message visible only to `userId`. */
    findVisible: (channelId: string, messageId: string, userId: string): MessageRecord | undefined => {
      const hidden = ephemeral.get(messageId);
      if (hidden) {
        const visible = hidden.owner.userId === userId && hidden.message.channelId === channelId;
        return visible ? hidden.message : undefined;
      }
      return findMessage(channelId, messageId);
    },
    remove: (message: MessageRecord) => {
      messages.get(message.channelId)?.delete(message.id);
      ephemeral.delete(message.id);
    },
    messagesIn: (channelId: string) => [...(messages.get(channelId)?.values() ?? [])],
    interactionByToken: (token: string) => [...interactions.values()].find((i) => i.token === token),
  };
}

export type DiscordState = ReturnType<typeof createDiscordState>;
