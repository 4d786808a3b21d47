import type { webApi } from '@slack/bolt';
import type { types } from '@slack/bolt';
import { MovebotError } from '../../src/errors.js';
import type {
  AnswerStreamer,
  AssistantThreads,
  PlanTask,
  ReplyTarget,
  PostedRef,
  StreamUpdate,
} from '../../src/ports/chat-adapter.js';

/** How a stream ends (AnswerStreamer.stop's last argument). */
export type StreamEnd = Parameters<AnswerStreamer['stop']>[2];
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';
import { escapeMrkdwn, slackSafeText } from './slack-mrkdwn.js';

type Chunk = types.AnyChunk;

/** startStream errors that mean this app or workspace cannot stream at all (not a passing failure). */
const CANNOT_STREAM = new Set([
  'unknown_method',
  'not_allowed_token_type',
  'missing_recipient_user_id',
  'missing_recipient_team_id',
  'method_deprecated',
  'feature_not_enabled',
  'not_authed',
  'missing_scope',
]);

/** Slack's streams: the plan as task updates, then the answer as Markdown text, closed with blocks. */
export function createSlackStreamer(deps: {
  client: webApi.WebClient;
  threadOf(target: ReplyTarget): string;
  /** Closes the stream with the answer's blocks and buttons, then posts its overflow and report. */
  finish(target: ReplyTarget, ref: PostedRef, end: StreamEnd): Promise<void>;
  platformError(action: string, err: unknown): MovebotError;
}): AnswerStreamer {
  const { client } = deps;
  return {
    async start(target, title, update) {
      // In channels a stream is addressed to the person who asked; DMs need no recipient.
      const recipient = target.channel.startsWith('D')
        ? {}
        : { recipient_user_id: target.userId, recipient_team_id: target.workspace };
      try {
        const res = await client.chat.startStream({
          channel: target.channel,
          thread_ts: deps.threadOf(target),
          task_display_mode: 'plan',
          chunks: [{ type: 'plan_update', title }, ...chunksOf(update)],
          ...recipient,
        });
        return { id: String(res.ts), channel: String(res.channel ?? target.channel), streaming: true };
      } catch (err) {
        const code = slackErrorCode(err);
        if (code && CANNOT_STREAM.has(code)) {
          throw new MovebotError('streaming_unavailable', `Slack cannot stream here (${code})`, { cause: err });
        }
        throw deps.platformError('chat.startStream', err);
      }
    },
    async append(_target, ref, update) {
      const chunks = chunksOf(update);
      if (chunks.length === 0) return;
      await streamCall('chat.appendStream', () => client.chat.appendStream({ channel: ref.channel, ts: ref.id, chunks }));
    },
    async stop(target, ref, end) {
      const chunks = chunksOf(end.update);
      if (end.answer) return deps.finish(target, ref, end);
      await streamCall('chat.stopStream', () =>
        client.chat.stopStream({ channel: ref.channel, ts: ref.id, ...(chunks.length ? { chunks } : {}) }),
      );
    },
  };

  async function streamCall(action: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (slackErrorCode(err) === 'message_not_in_streaming_state') {
        throw new MovebotError('stream_expired', `Slack ${action}: the stream is closed`, { cause: err });
      }
      throw deps.platformError(action, err);
    }
  }
}

/** Assistant threads: the status line while a turn runs, and the thread's title. */
export function createSlackAssistant(client: webApi.WebClient, threadOf: (t: ReplyTarget) => string): AssistantThreads {
  return {
    async setStatus(target, status, loadingMessages) {
      await client.assistant.threads.setStatus({
        channel_id: target.channel,
        thread_ts: threadOf(target),
        status,
        ...(loadingMessages?.length ? { loading_messages: loadingMessages } : {}),
      });
    },
    async setTitle(target, title) {
      await client.assistant.threads.setTitle({ channel_id: target.channel, thread_ts: threadOf(target), title });
    },
  };
}

/** A stream update as Slack chunks: task updates first, then the text (Markdown, within Slack's limit). */
export function chunksOf(update: StreamUpdate): Chunk[] {
  const chunks: Chunk[] = (update.tasks ?? []).map(taskChunk);
  if (update.text) chunks.push({ type: 'markdown_text', text: slackSafeText(update.text).slice(0, PLATFORM_LIMITS.slack.messageChars) });
  return chunks;
}

function taskChunk(task: PlanTask): Chunk {
  return {
    type: 'task_update',
    id: task.id,
    title: task.title,
    status: task.status,
    ...(task.details && { details: escapeMrkdwn(task.details) }),
    ...(task.sources?.length && { sources: task.sources.map((s) => ({ type: 'url' as const, url: s.url, text: s.title })) }),
  };
}

export function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } }).data?.error;
}
