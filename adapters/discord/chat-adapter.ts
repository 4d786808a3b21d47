import { type APIMessage, DiscordAPIError, MessageFlags, REST, type RawFile, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../../src/clock.js';
import { MovebotError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { ChatAdapter, ChatAnswer, PostedRef, ReplyTarget } from '../../src/ports/chat-adapter.js';
import { dropInteraction, type InteractionCredentials, loadInteraction } from './interaction-store.js';
import { type DiscordMessageBody, renderAnswer, renderChart, renderReport, renderStatus, threadName } from './render.js';

/** PostedRef id of an interaction's original (deferred) response, edited through its webhook. */
export const ORIGINAL = '@original';

/** Discord error codes meaning the interaction token can no longer be used. */
const TOKEN_GONE = new Set([10015, 10062, 50027]);
const THREAD_EXISTS = 160004;

export interface DiscordChatAdapterOptions {
  /** Bot token: channel posts, threads, and everything after the interaction token expired. */
  token: string;
  applicationId: string;
  /** Discord API base without the version (a local fake in tests). */
  apiUrl?: string;
  /** Where the receiver left interaction tokens (see interaction-store.ts). */
  redis: Redis;
  logger: Logger;
  clock?: Clock;
  /** Retries of 5xx/network failures inside @discordjs/rest (default 3; 429s are always waited out). */
  retries?: number;
}

/**
 * The worker's Discord side, over REST only (no gateway connection).
 *
 * Conversation model: every conversation lives in a thread whose id is the id of its root message
 * (Discord gives a thread started from a message that message's id), and the session's thread key
 * is `discord:{guild}:{rootId}`. `target.thread` is that root id; when it differs from
 * `target.channel` the thread may not exist yet and is created from the root message on first use.
 * For a slash command the root is the deferred reply itself, so follow-ups in the thread opened on
 * it carry the same thread key without any mapping to store.
 */
export function createDiscordChatAdapter(
  options: DiscordChatAdapterOptions,
): ChatAdapter & { readonly rest: REST } {
  const { redis, logger } = options;
  const clock = options.clock ?? systemClock;
  const rest = new REST({
    ...(options.apiUrl && { api: options.apiUrl }),
    ...(options.retries !== undefined && { retries: options.retries }),
  }).setToken(options.token);

  async function credentials(target: ReplyTarget): Promise<InteractionCredentials | undefined> {
    return target.interactionId ? await loadInteraction(redis, target.interactionId, clock.now()) : undefined;
  }

  /**
   * Edits the interaction's original response; false when the token is missing or no longer
   * accepted, so the caller posts with the bot token instead.
   */
  async function editOriginal(target: ReplyTarget, body: DiscordMessageBody): Promise<boolean> {
    const creds = await credentials(target);
    if (!creds) return false;
    try {
      await rest.patch(Routes.webhookMessage(creds.applicationId, creds.token, ORIGINAL), {
        body,
        auth: false,
      });
      return true;
    } catch (err) {
      if (!(err instanceof DiscordAPIError && TOKEN_GONE.has(Number(err.code))))
        throw platformError('edit', err);
      logger.info(
        { interactionId: target.interactionId, code: err.code },
        'interaction token gone; posting as the bot',
      );
      await dropInteraction(redis, target.interactionId ?? '');
      return false;
    }
  }

  async function post(channelId: string, body: DiscordMessageBody, files?: RawFile[]): Promise<APIMessage> {
    try {
      return (await rest.post(Routes.channelMessages(channelId), {
        body,
        ...(files && { files }),
      })) as APIMessage;
    } catch (err) {
      throw platformError('post', err);
    }
  }

  /**
   * The channel the conversation continues in: its thread, created from the root message when
   * needed. A thread that cannot be created (no permission, a DM) leaves the reply in the channel.
   */
  async function conversationChannel(target: ReplyTarget, name: string): Promise<string> {
    if (!target.thread) return target.channel;
    if (target.thread === target.channel) return target.thread;
    try {
      await rest.post(Routes.threads(target.channel, target.thread), {
        body: { name, auto_archive_duration: 1440 },
      });
    } catch (err) {
      if (err instanceof DiscordAPIError && err.code === THREAD_EXISTS) return target.thread;
      logger.warn(
        { channel: target.channel, code: codeOf(err) },
        'could not open a thread; replying in the channel',
      );
      return target.channel;
    }
    return target.thread;
  }

  return {
    platform: 'discord',
    rest,

    async postPlaceholder(target, text, controls) {
      const body = renderStatus(text, target.ephemeral ? undefined : controls);
      if (target.interactionId && (await editOriginal(target, body)))
        return { id: ORIGINAL, channel: target.channel };
      if (target.ephemeral) throw privateReplyGone();
      const where = await conversationChannel(target, threadName(text));
      const message = await post(where, body);
      return { id: message.id, channel: where, ...(where !== target.channel && { thread: where }) };
    },

    async updateProgress(target, ref, text, controls) {
      const body = renderStatus(text, target.ephemeral ? undefined : controls);
      // Progress is best effort: with the token gone, the answer is posted as the bot later.
      if (ref.id === ORIGINAL) await editOriginal(target, body);
      else await editMessage(ref, body);
    },

    async deleteMessage(_target, ref) {
      try {
        await rest.delete(Routes.channelMessage(ref.channel, ref.id));
      } catch (err) {
        throw platformError('delete', err);
      }
    },

    async deliverAnswer(target, ref, answer, progress) {
      const posted = new Set(progress.alreadyPosted);
      const { main, overflow } = renderAnswer(target.ephemeral ? { ...answer, controls: undefined } : answer);
      if (target.ephemeral) return deliverPrivately(target, main, overflow, posted, progress.onPosted);
      let thread: Promise<string> | undefined;
      const channelOnce = () => {
        thread ??= conversationChannel(target, threadName(answer));
        return thread;
      };
      const record = async (partKey: string, id: string) => {
        posted.add(partKey);
        await progress.onPosted(partKey, id);
      };

      if (ref.id !== ORIGINAL) await editMessage(ref, main);
      else if (!(await editOriginal(target, main)) && !posted.has('answer')) {
        // The deferred reply can no longer be edited: the answer goes into the thread instead.
        const message = await post(await channelOnce(), main);
        await record('answer', message.id);
      }

      const where = ref.thread ?? (await channelOnce());
      if (where !== target.channel && !posted.has('thread')) await record('thread', where);
      for (const [i, part] of overflow.entries()) {
        const key = `part-${i + 2}`;
        if (posted.has(key)) continue;
        await record(key, (await post(where, part)).id);
      }
      if (answer.report && !posted.has('report')) {
        const message = await post(where, renderReport(answer.report.fileName), [reportFile(answer.report)]);
        await record('report', message.id);
      }
      if (answer.chart && !posted.has('chart')) {
        const message = await post(where, renderChart(answer.chart), [chartFile(answer.chart)]);
        await record('chart', message.id);
      }
    },
  };

  /**
   * An ephemeral answer: the original response and follow-ups only the asker sees, through the
   * interaction's token. Nothing goes to the channel, also not when the token has expired.
   */
  async function deliverPrivately(
    target: ReplyTarget,
    main: DiscordMessageBody,
    overflow: DiscordMessageBody[],
    posted: Set<string>,
    onPosted: (partKey: string, id: string) => Promise<void>,
  ): Promise<void> {
    if (!(await editOriginal(target, main))) throw privateReplyGone();
    const creds = await credentials(target);
    for (const [i, part] of overflow.entries()) {
      const key = `part-${i + 2}`;
      if (posted.has(key) || !creds) continue;
      try {
        const message = (await rest.post(Routes.webhook(creds.applicationId, creds.token), {
          body: { ...part, flags: MessageFlags.Ephemeral },
          query: new URLSearchParams({ wait: 'true' }),
          auth: false,
        })) as APIMessage;
        await onPosted(key, message.id);
      } catch (err) {
        throw platformError('follow-up', err);
      }
    }
  }

  async function editMessage(ref: PostedRef, body: DiscordMessageBody): Promise<void> {
    try {
      await rest.patch(Routes.channelMessage(ref.channel, ref.id), { body });
    } catch (err) {
      throw platformError('edit', err);
    }
  }
}

function privateReplyGone(): MovebotError {
  return new MovebotError(
    'platform_error',
    'the interaction token of a private reply has expired; it is not posted in the channel instead',
    { transient: false },
  );
}

function chartFile(chart: NonNullable<ChatAnswer['chart']>): RawFile {
  return { name: chart.fileName, data: chart.png, contentType: 'image/png' };
}

function reportFile(report: NonNullable<ChatAnswer['report']>): RawFile {
  return { name: report.fileName, data: Buffer.from(report.markdown, 'utf8'), contentType: 'text/markdown' };
}

function codeOf(err: unknown): number | string | undefined {
  return err instanceof DiscordAPIError ? err.code : undefined;
}

/**
 * Wraps a REST failure; 429 and 5xx are transient, so the worker's retry may succeed. The cause is
 * reduced to status and code: @discordjs/rest errors carry the request URL, which for interaction
 * webhooks contains the token.
 */
function platformError(action: string, err: unknown): MovebotError {
  const status = (err as { status?: number }).status;
  const transient = status === undefined || status === 429 || status >= 500;
  const detail =
    err instanceof DiscordAPIError
      ? `${err.status} ${err.code} ${err.message}`
      : `${(err as Error).name}: ${(err as Error).message}`;
  return new MovebotError('platform_error', `Discord ${action} failed: ${detail}`, {
    cause: { status, code: codeOf(err) },
    transient,
  });
}
