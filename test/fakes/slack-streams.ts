/**
 * Slack's AI-app Web API for the Slack fake: text streaming (chat.startStream, chat.appendStream,
 * chat.stopStream with markdown, task and plan chunks) and the assistant.threads methods (setStatus,
 * setSuggestedPrompts, setTitle). slack-web-api.ts merges these methods into its method table.
 *
 * A streamed message is an ordinary bot message in its thread with `streaming: true`, `tasks` and
 * `planTitle`; its `text` is all markdown appended so far. A stream ends with chat.stopStream, or by
 * itself once the stream window (5 minutes unless changed) has passed since chat.startStream.
 */
import type { SlackFakeMessage, SlackResult } from './slack-web-api.js';
import { blocksProblem } from './slack-wire.js';

export const STREAM_METHODS = ['chat.startStream', 'chat.appendStream', 'chat.stopStream'] as const;
/** Slack's limit for one stream's markdown text. */
export const STREAM_MARKDOWN_LIMIT = 12_000;
export const DEFAULT_STREAM_WINDOW_MS = 5 * 60_000;
const TASK_STATUSES = ['pending', 'in_progress', 'complete', 'error'] as const;

/** A task of a streamed message, as its latest `task_update` chunk left it. */
export interface SlackFakeTask {
  id: string;
  title: string;
  status: (typeof TASK_STATUSES)[number];
  details?: string;
  output?: string;
  /** The latest update's sources (an update with sources replaces the earlier ones). */
  sources?: Array<{ type: 'url'; url: string; text: string }>;
}

/** One assistant.threads.setStatus call. */
export interface SlackStatusRecord {
  channel: string;
  threadTs: string;
  status: string;
  loadingMessages?: string[];
}

/** One assistant.threads.setSuggestedPrompts call. */
export interface SlackSuggestedPrompts {
  channel: string;
  threadTs: string;
  title?: string;
  prompts: Array<{ title: string; message: string }>;
}

/** One assistant.threads.setTitle call. */
export interface SlackTitleRecord {
  channel: string;
  threadTs: string;
  title: string;
}

type Chunk =
  | { type: 'markdown_text'; text: string }
  | { type: 'plan_update'; title: string }
  | { type: 'task_update'; task: SlackFakeTask }
  | { type: 'blocks'; blocks: unknown[] };

type Method = (args: Record<string, unknown>) => SlackResult;

export interface AiMethodsOptions {
  find(channel: unknown, ts: unknown): SlackFakeMessage | undefined;
  /** Stores a new, empty bot message in a thread. */
  postInThread(channel: string, threadTs: string): SlackFakeMessage;
  wire(message: SlackFakeMessage): Record<string, unknown>;
}

export function createAiMethods(opts: AiMethodsOptions) {
  const startedAt = new WeakMap<SlackFakeMessage, number>();
  const statuses: SlackStatusRecord[] = [];
  const suggestedPrompts: SlackSuggestedPrompts[] = [];
  const titles: SlackTitleRecord[] = [];
  let windowMs = DEFAULT_STREAM_WINDOW_MS;
  let disabledWith: string | undefined;
  const fail = (error: string): SlackResult => ({ ok: false, error });

  /** True while the message is a stream that was neither stopped nor left past the window. */
  function isStreaming(message: SlackFakeMessage): boolean {
    if (!message.streaming) return false;
    if (Date.now() - (startedAt.get(message) ?? 0) < windowMs) return true;
    message.streaming = false;
    return false;
  }

  /** The stream a call names, or the error Slack gives for it. */
  function openStream(args: Record<string, unknown>): SlackFakeMessage | string {
    if (!args.channel || !args.ts) return 'invalid_arguments';
    const message = opts.find(args.channel, args.ts);
    if (!message) return 'message_not_found';
    return isStreaming(message) ? message : 'message_not_in_streaming_state';
  }

  const streamMethods: Record<(typeof STREAM_METHODS)[number], Method> = {
    'chat.startStream': (args) => {
      if (!args.channel || !args.thread_ts) return fail('invalid_arguments');
      const channel = String(args.channel);
      if (!channel.startsWith('D')) {
        if (!args.recipient_user_id) return fail('missing_recipient_user_id');
        if (!args.recipient_team_id) return fail('missing_recipient_team_id');
      }
      const mode = args.task_display_mode;
      if (mode !== undefined && mode !== 'timeline' && mode !== 'plan') return fail('invalid_arguments');
      const chunks = readContent(args);
      if (typeof chunks === 'string') return fail(chunks);
      if (markdownLength(chunks) > STREAM_MARKDOWN_LIMIT) return fail('msg_too_long');
      const message = opts.postInThread(channel, String(args.thread_ts));
      message.streaming = true;
      message.tasks = [];
      if (mode !== undefined) message.taskDisplayMode = mode;
      startedAt.set(message, Date.now());
      applyChunks(message, chunks);
      return { ok: true, channel: message.channel, ts: message.ts };
    },
    'chat.appendStream': (args) => {
      const message = openStream(args);
      if (typeof message === 'string') return fail(message);
      if (args.markdown_text === undefined && args.chunks === undefined) return fail('invalid_arguments');
      const chunks = readContent(args);
      if (typeof chunks === 'string') return fail(chunks);
      if (message.text.length + markdownLength(chunks) > STREAM_MARKDOWN_LIMIT) return fail('msg_too_long');
      applyChunks(message, chunks);
      return { ok: true, channel: message.channel, ts: message.ts };
    },
    'chat.stopStream': (args) => {
      const message = openStream(args);
      if (typeof message === 'string') return fail(message);
      const chunks = readContent(args);
      if (typeof chunks === 'string') return fail(chunks);
      if (message.text.length + markdownLength(chunks) > STREAM_MARKDOWN_LIMIT) return fail('msg_too_long');
      const problem = blocksProblem(args.blocks);
      if (problem) return fail(problem);
      applyChunks(message, chunks);
      if (Array.isArray(args.blocks)) message.blocks = [...(message.blocks ?? []), ...args.blocks];
      if (args.metadata !== undefined) message.metadata = args.metadata;
      message.streaming = false;
      return { ok: true, channel: message.channel, ts: message.ts, message: opts.wire(message) };
    },
  };

  const methods: Record<string, Method> = {
    'assistant.threads.setStatus': (args) => {
      if (!args.channel_id || !args.thread_ts) return fail('invalid_arguments');
      const loadingMessages = jsonArray(args.loading_messages);
      statuses.push({
        channel: String(args.channel_id),
        threadTs: String(args.thread_ts),
        status: String(args.status ?? ''),
        ...(loadingMessages && { loadingMessages: loadingMessages.map(String) }),
      });
      return { ok: true };
    },
    'assistant.threads.setSuggestedPrompts': (args) => {
      if (!args.channel_id || !args.thread_ts) return fail('invalid_arguments');
      const prompts = jsonArray(args.prompts);
      const valid = prompts?.every((p) => isRecord(p) && isText(p.title) && isText(p.message));
      if (!prompts || !valid || prompts.length < 1 || prompts.length > 4) return fail('invalid_arguments');
      suggestedPrompts.push({
        channel: String(args.channel_id),
        threadTs: String(args.thread_ts),
        ...(args.title !== undefined && { title: String(args.title) }),
        prompts: (prompts as Array<{ title: string; message: string }>).map(({ title, message }) => ({
          title,
          message,
        })),
      });
      return { ok: true };
    },
    'assistant.threads.setTitle': (args) => {
      if (!args.channel_id || !args.thread_ts || !args.title) return fail('invalid_arguments');
      const record = {
        channel: String(args.channel_id),
        threadTs: String(args.thread_ts),
        title: String(args.title),
      };
      titles.push(record);
      // Slack shows the title as the assistant thread's root message.
      const root = opts.find(record.channel, record.threadTs);
      if (root?.subtype === 'assistant_app_thread') root.text = record.title;
      return { ok: true };
    },
  };
  for (const name of STREAM_METHODS) {
    const method = streamMethods[name];
    methods[name] = (args) => (disabledWith ? fail(disabledWith) : method(args));
  }

  return {
    methods,
    isStreaming,
    statuses,
    suggestedPrompts,
    titles,
    setStreamWindowMs(ms: number) {
      windowMs = ms;
    },
    /** Makes the streaming methods answer `{ ok: false, error }`; undefined turns them back on. */
    setStreamingDisabled(error: string | undefined) {
      disabledWith = error;
    },
  };
}

/** The chunks a call carries (its `markdown_text` as one chunk), or the error Slack gives. */
function readContent(args: Record<string, unknown>): Chunk[] | string {
  const hasText = args.markdown_text !== undefined;
  if (hasText && args.chunks !== undefined) return 'cannot_provide_both_markdown_text_and_chunks';
  if (hasText) return [{ type: 'markdown_text', text: String(args.markdown_text) }];
  if (args.chunks === undefined) return [];
  if (!Array.isArray(args.chunks)) return 'invalid_chunks';
  const chunks: Chunk[] = [];
  for (const raw of args.chunks) {
    const chunk = parseChunk(raw);
    if (!chunk) return 'invalid_chunks';
    chunks.push(chunk);
  }
  return chunks;
}

function parseChunk(raw: unknown): Chunk | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw.type) {
    case 'markdown_text':
      return typeof raw.text === 'string' ? { type: 'markdown_text', text: raw.text } : undefined;
    case 'plan_update':
      return isText(raw.title) ? { type: 'plan_update', title: raw.title } : undefined;
    case 'blocks':
      return Array.isArray(raw.blocks) && !blocksProblem(raw.blocks)
        ? { type: 'blocks', blocks: raw.blocks }
        : undefined;
    case 'task_update': {
      const task = parseTask(raw);
      return task && { type: 'task_update', task };
    }
    default:
      return undefined;
  }
}

function parseTask(raw: Record<string, unknown>): SlackFakeTask | undefined {
  const { id, title, status, details, output, sources } = raw;
  if (!isText(id) || typeof title !== 'string') return undefined;
  if (!TASK_STATUSES.includes(status as SlackFakeTask['status'])) return undefined;
  if (
    (details !== undefined && typeof details !== 'string') ||
    (output !== undefined && typeof output !== 'string')
  )
    return undefined;
  const isUrlSource = (s: unknown) =>
    isRecord(s) && s.type === 'url' && isText(s.url) && typeof s.text === 'string';
  if (sources !== undefined && !(Array.isArray(sources) && sources.every(isUrlSource))) return undefined;
  return {
    id,
    title,
    status: status as SlackFakeTask['status'],
    ...(details !== undefined && { details }),
    ...(output !== undefined && { output }),
    ...(sources !== undefined && {
      sources: (sources as Array<{ url: string; text: string }>).map((s) => ({
        type: 'url' as const,
        url: s.url,
        text: s.text,
      })),
    }),
  };
}

function applyChunks(message: SlackFakeMessage, chunks: Chunk[]): void {
  for (const chunk of chunks) {
    if (chunk.type === 'markdown_text') message.text += chunk.text;
    else if (chunk.type === 'plan_update') message.planTitle = chunk.title;
    else if (chunk.type === 'blocks') message.blocks = [...(message.blocks ?? []), ...chunk.blocks];
    else {
      message.tasks ??= [];
      const tasks = message.tasks;
      const existing = tasks.find((t) => t.id === chunk.task.id);
      if (existing) Object.assign(existing, chunk.task);
      else tasks.push({ ...chunk.task });
    }
  }
}

function markdownLength(chunks: Chunk[]): number {
  return chunks.reduce((sum, c) => sum + (c.type === 'markdown_text' ? c.text.length : 0), 0);
}

/** An array given as JSON or already parsed (form-encoded calls carry arrays as JSON strings). */
function jsonArray(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
