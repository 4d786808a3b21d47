import { webApi } from '@slack/bolt';
import { describeError, MovebotError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { type ChatAdapter, type ChatAnswer, type DeliveryProgress, PLATFORM_LIMITS, type PostedRef, type ReplyTarget } from '../../src/ports/chat-adapter.js';
import { renderAnswerMessages, renderStatusMessage, renderStreamEnd, type SlackMessage } from './slack-blocks.js';
import { toMrkdwn } from './slack-mrkdwn.js';
import { toSlackLogger } from './slack-logger.js';
import { chunksOf, createSlackAssistant, createSlackStreamer, type StreamEnd, slackErrorCode } from './slack-streamer.js';
import { slackClientOptions } from './slack-web-client.js';

export interface SlackChatAdapterOptions {
  /** Bot token (xoxb-…). */
  token: string;
  /** Web API base (SLACK_API_URL), e.g. a local fake's `http://127.0.0.1:P/api/`. */
  apiUrl?: string;
  logger: Logger;
  /** A ready-made client (its options are the caller's business); by default one is built. */
  client?: webApi.WebClient;
  /** Web API retries for the built client (tests pass `{ retries: 0 }`). */
  retryConfig?: webApi.WebClientOptions['retryConfig'];
}

/** Slack's answers to blocks it cannot show. */
const REFUSED_BLOCKS = new Set(['invalid_blocks', 'msg_blocks_too_long']);

/** Part keys this adapter records (see ChatAdapter.deliverAnswer): overflow messages and the file. */
export const SLACK_PART_KEYS = {
  /** The answer posted anew because the placeholder was gone. */
  answer: 'answer',
  overflow: (n: number) => `part-${n}`,
  report: 'report',
  chart: 'chart',
} as const;

/**
 * The worker's Slack side: the placeholder in the thread, progress edits, then the answer in its
 * place (Block Kit), overflow parts after it and the Markdown report as a file in the thread.
 */
export function createSlackChatAdapter(
  options: SlackChatAdapterOptions,
): ChatAdapter & { client: webApi.WebClient } {
  const { logger } = options;
  const client =
    options.client ??
    new webApi.WebClient(options.token, {
      ...slackClientOptions({ apiUrl: options.apiUrl, retryConfig: options.retryConfig }),
      logger: toSlackLogger(logger),
    });

  const threadOf = (target: ReplyTarget) => target.thread ?? target.messageId;

  async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw platformError(action, err);
    }
  }

  async function post(target: ReplyTarget, message: { text: string; blocks?: SlackMessage['blocks'] }): Promise<string> {
    const res = await call('chat.postMessage', () =>
      client.chat.postMessage({
        channel: target.channel,
        thread_ts: threadOf(target),
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return String(res.ts);
  }

  return {
    platform: 'slack',
    client,

    async postPlaceholder(target, text, controls) {
      const id = await orAsText(renderStatusMessage(text, controls), (message) => post(target, message));
      return { id, channel: target.channel };
    },

    async updateProgress(_target, ref, text, controls) {
      await orAsText(renderStatusMessage(text, controls), (message) =>
        call('chat.update', () => client.chat.update({ channel: ref.channel, ts: ref.id, ...message })),
      );
    },

    async deleteMessage(_target, ref) {
      await call('chat.delete', () => client.chat.delete({ channel: ref.channel, ts: ref.id }));
    },

    async postEphemeral(target, userId, text) {
      // Only `userId` sees it, in the thread; it is not stored by Slack, so it is never edited later.
      const res = await call('chat.postEphemeral', () =>
        client.chat.postEphemeral({
          channel: target.channel,
          user: userId,
          thread_ts: threadOf(target),
          text: toMrkdwn(text).slice(0, PLATFORM_LIMITS.slack.messageChars),
        }),
      );
      return String(res.message_ts ?? 'ephemeral');
    },

    async deliverAnswer(target, ref, answer, progress) {
      const { posted, record } = partsOf(progress);
      const [main, ...overflow] = renderAnswerMessages(answer);
      if (main) await replacePlaceholder(target, ref, main, posted, record);
      await postRest(target, overflow, answer, posted, record);
    },

    streamer: createSlackStreamer({ client, threadOf, platformError, finish: finishStream }),
    assistant: createSlackAssistant(client, threadOf),
  };

  /** Closes a stream with the answer's blocks and buttons, then its overflow and report. */
  async function finishStream(target: ReplyTarget, ref: PostedRef, end: StreamEnd): Promise<void> {
    const { posted, record } = partsOf(end.progress);
    const [main, ...overflow] = renderStreamEnd(end.answer!);
    const chunks = chunksOf(end.update);
    try {
      await client.chat.stopStream({
        channel: ref.channel,
        ts: ref.id,
        ...(chunks.length ? { chunks } : {}),
        ...(main ? { blocks: main.blocks } : {}),
      });
    } catch (err) {
      if (slackErrorCode(err) === 'message_not_in_streaming_state') {
        throw new MovebotError('stream_expired', 'Slack chat.stopStream: the stream is closed', { cause: err });
      }
      throw platformError('chat.stopStream', err);
    }
    await postRest(target, overflow, end.answer!, posted, record);
  }

  /** A status message whose blocks (the Stop button) Slack refuses is sent again as plain text. */
  async function orAsText<T>(message: SlackMessage, send: (m: { text: string; blocks?: SlackMessage['blocks'] }) => Promise<T>): Promise<T> {
    try {
      return await send(message);
    } catch (err) {
      const code = (err as { cause?: { error?: string } }).cause?.error;
      if (!code || !REFUSED_BLOCKS.has(code)) throw err;
      return send({ text: message.text });
    }
  }

  /** Overflow messages and the report file, each once (a re-run skips what reply state lists). */
  async function postRest(
    target: ReplyTarget,
    overflow: SlackMessage[],
    answer: ChatAnswer,
    posted: Set<string>,
    record: (key: string, id: string) => Promise<void>,
  ): Promise<void> {
    for (const [i, message] of overflow.entries()) {
      const key = SLACK_PART_KEYS.overflow(i + 2);
      if (posted.has(key)) continue;
      await record(key, await post(target, message));
    }
    const { report, chart } = answer;
    if (report && !posted.has(SLACK_PART_KEYS.report)) {
      await uploadPart(target, SLACK_PART_KEYS.report, { filename: report.fileName, title: report.fileName, content: report.markdown }, record);
    }
    if (chart && !posted.has(SLACK_PART_KEYS.chart)) {
      const image = { filename: chart.fileName, title: 'Cost of living chart', file: chart.png, alt_text: chart.alt };
      await uploadPart(target, SLACK_PART_KEYS.chart, image, record);
    }
  }

  /** Edits are idempotent, so a re-run edits again; only a vanished placeholder needs a new post. */
  async function replacePlaceholder(
    target: ReplyTarget,
    ref: PostedRef,
    message: SlackMessage,
    posted: Set<string>,
    record: (key: string, id: string) => Promise<void>,
  ): Promise<void> {
    try {
      await client.chat.update({
        channel: ref.channel,
        ts: ref.id,
        text: message.text,
        blocks: message.blocks,
      });
    } catch (err) {
      if (slackErrorCode(err) !== 'message_not_found') throw platformError('chat.update', err);
      if (posted.has(SLACK_PART_KEYS.answer)) return;
      logger.warn({ channel: ref.channel }, 'placeholder was deleted; posting the answer anew');
      await record(SLACK_PART_KEYS.answer, await post(target, message));
    }
  }

  /**
   * The report or the chart as a file in the thread, recorded as posted (so a re-run uploads it once).
   * The answer is already in the thread: a failed upload is logged, not retried as a failed job.
   */
  async function uploadPart(
    target: ReplyTarget,
    part: typeof SLACK_PART_KEYS.report | typeof SLACK_PART_KEYS.chart,
    file: { filename: string; title: string; content: string } | { filename: string; title: string; file: Buffer; alt_text: string },
    record: (key: string, id: string) => Promise<void>,
  ): Promise<void> {
    let fileId: string | undefined;
    try {
      fileId = uploadedFileId(await client.filesUploadV2({ channel_id: target.channel, thread_ts: threadOf(target), ...file }));
    } catch (err) {
      logger.warn({ err: describeError(platformError('files.uploadV2', err)), part }, 'file upload failed');
      return;
    }
    await record(part, fileId ?? 'uploaded');
  }
}

function partsOf(progress: DeliveryProgress | undefined) {
  const posted = new Set(progress?.alreadyPosted ?? []);
  const record = async (partKey: string, id: string) => {
    posted.add(partKey);
    await progress?.onPosted(partKey, id);
  };
  return { posted, record };
}

function uploadedFileId(res: unknown): string | undefined {
  const files = (res as { files?: Array<{ files?: Array<{ id?: string }> }> }).files;
  return files?.[0]?.files?.[0]?.id;
}

/**
 * Wraps a Web API failure. Rate limits, HTTP 5xx and network errors are transient (the worker's retry
 * may succeed); platform errors like channel_not_found are not.
 */
function platformError(action: string, err: unknown): MovebotError {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number };
  const code = e.code ?? '';
  const transient =
    code === webApi.ErrorCode.RateLimitedError ||
    code === webApi.ErrorCode.HTTPError ||
    code === webApi.ErrorCode.RequestError ||
    e.data?.error === 'ratelimited' ||
    e.data?.error === 'internal_error' ||
    e.data?.error === 'fatal_error';
  const detail = e.data?.error ?? (e.statusCode ? `HTTP ${e.statusCode}` : (err as Error).message);
  return new MovebotError('platform_error', `Slack ${action} failed: ${detail}`, {
    cause: { code, error: e.data?.error, status: e.statusCode, retryAfter: e.retryAfter },
    transient,
  });
}
