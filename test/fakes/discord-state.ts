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
  token: string;
  guildId: string;
  channelId: string;
  user: DiscordUser;
  commandName: string;
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

/** A file that arrived with a message (multipart `files[n]`). */
export interface AttachmentRecord {
  channelId: string;
  messageId: string;
  filename: string;
  contentType?: string;
  content: Buffer;
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

  /** Finds a message by id in any channel (webhook edits do not name the channel). */
  function findAnywhere(messageId: string): MessageRecord | undefined {
    for (const channel of messages.values()) {
      const message = channel.get(messageId);
      if (message) return message;
    }
    return undefined;
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
    remove: (message: MessageRecord) => void messages.get(message.channelId)?.delete(message.id),
    messagesIn: (channelId: string) => [...(messages.get(channelId)?.values() ?? [])],
    interactionByToken: (token: string) => [...interactions.values()].find((i) => i.token === token),
  };
}

export type DiscordState = ReturnType<typeof createDiscordState>;
