/**
 * The Web API methods of the Slack fake and the workspace state they change. slack-fake.ts routes
 * `POST /api/<method>` here after authentication, latency and failure injection.
 */
import { randomBytes } from 'node:crypto';
import { blocksProblem, compareTs } from './slack-wire.js';

/** A message as users of the workspace currently see it. */
export interface SlackFakeMessage {
  channel: string;
  ts: string;
  /** Parent ts for replies; undefined for top-level messages (a thread root has none either). */
  threadTs?: string;
  /** Author: the human's id, or the bot's user id for messages the bot posted. */
  user: string;
  /** Set on messages the bot posted. */
  botId?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** Files shared by this message (uploads completed into the thread). */
  files?: Array<{ id: string; name: string; title: string }>;
  /** Reaction names added through `reactions.add`. */
  reactions: string[];
  /** True once `chat.update` changed it. */
  edited: boolean;
}

/** A file uploaded through the files.uploadV2 flow. */
export interface SlackFakeFile {
  id: string;
  /** Name given to `files.getUploadURLExternal`. */
  name: string;
  title: string;
  /** Bytes received by the upload URL (empty until uploaded). */
  content: Buffer;
  /** Channel and thread given to `files.completeUploadExternal` (undefined until completed). */
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  completed: boolean;
}

/** A Web API method result: a JSON body with `ok`. */
export type SlackResult = Record<string, unknown> & { ok: boolean };

export interface SlackWorkspaceOptions {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
  nextTs: () => string;
  /** Absolute URL prefix for upload URLs, e.g. `http://127.0.0.1:P/upload/`. */
  uploadUrlBase: () => string;
  /** Called after `chat.postMessage` stored a bot message (for echoing it back as an event). */
  onBotMessage: (message: SlackFakeMessage) => void;
}

/** Workspace state plus the method implementations that read and change it. */
export function createSlackWorkspace(opts: SlackWorkspaceOptions) {
  const channels = new Map<string, Map<string, SlackFakeMessage>>();
  const files = new Map<string, SlackFakeFile>();
  const statuses: Array<{ channel: string; threadTs: string; status: string }> = [];
  const users = new Map<string, Record<string, unknown>>();

  function channelMessages(channel: string): Map<string, SlackFakeMessage> {
    let messages = channels.get(channel);
    if (!messages) {
      messages = new Map();
      channels.set(channel, messages);
    }
    return messages;
  }

  function store(message: SlackFakeMessage): SlackFakeMessage {
    channelMessages(message.channel).set(message.ts, message);
    return message;
  }

  function find(channel: unknown, ts: unknown): SlackFakeMessage | undefined {
    return channels.get(String(channel))?.get(String(ts));
  }

  function wire(message: SlackFakeMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: message.user,
      text: message.text,
      ts: message.ts,
      team: opts.teamId,
      ...(message.botId && { bot_id: message.botId, app_id: opts.appId }),
      ...(message.threadTs && { thread_ts: message.threadTs }),
      ...(message.blocks && { blocks: message.blocks }),
      ...(message.attachments && { attachments: message.attachments }),
      ...(message.files && { files: message.files }),
      ...(message.edited && { edited: { user: message.user, ts: message.ts } }),
      ...(message.reactions.length > 0 && {
        reactions: message.reactions.map((name) => ({ name, users: [opts.botUserId], count: 1 })),
      }),
    };
  }

  function botMessage(channel: string, args: Record<string, unknown>): SlackFakeMessage {
    return {
      channel,
      ts: opts.nextTs(),
      user: opts.botUserId,
      botId: opts.botId,
      text: String(args.text ?? ''),
      reactions: [],
      edited: false,
      ...(args.thread_ts !== undefined && { threadTs: String(args.thread_ts) }),
      ...(Array.isArray(args.blocks) && { blocks: args.blocks }),
      ...(Array.isArray(args.attachments) && { attachments: args.attachments }),
    };
  }

  const fail = (error: string): SlackResult => ({ ok: false, error });

  const methods: Record<string, (args: Record<string, unknown>) => SlackResult> = {
    'auth.test': () => ({
      ok: true,
      url: `https://fake-${opts.teamId.toLowerCase()}.slack.com/`,
      team: 'Fake Team',
      user: 'movebot',
      team_id: opts.teamId,
      user_id: opts.botUserId,
      bot_id: opts.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      if (!args.channel) return fail('channel_not_found');
      if (!args.text && !args.blocks && !args.attachments) return fail('no_text');
      const problem = blocksProblem(args.blocks);
      if (problem) return fail(problem);
      // Slack truncates rather than rejects over-long text.
      const message = store(
        botMessage(String(args.channel), { ...args, text: String(args.text ?? '').slice(0, 40_000) }),
      );
      opts.onBotMessage(message);
      return { ok: true, channel: message.channel, ts: message.ts, message: wire(message) };
    },
    'chat.update': (args) => {
      const message = find(args.channel, args.ts);
      if (!message) return fail('message_not_found');
      if (message.user !== opts.botUserId) return fail('cant_update_message');
      const problem = blocksProblem(args.blocks);
      if (problem) return fail(problem);
      if (args.text !== undefined) message.text = String(args.text).slice(0, 40_000);
      if (Array.isArray(args.blocks)) message.blocks = args.blocks;
      if (Array.isArray(args.attachments)) message.attachments = args.attachments;
      message.edited = true;
      return {
        ok: true,
        channel: message.channel,
        ts: message.ts,
        text: message.text,
        message: wire(message),
      };
    },
    'chat.delete': (args) => {
      const message = find(args.channel, args.ts);
      if (!message) return fail('message_not_found');
      if (message.user !== opts.botUserId) return fail('cant_delete_message');
      channels.get(message.channel)?.delete(message.ts);
      return { ok: true, channel: message.channel, ts: message.ts };
    },
    'conversations.replies': (args) => {
      if (!find(args.channel, args.ts)) return fail('thread_not_found');
      const messages = threadMessages(String(args.channel), String(args.ts)).map(wire);
      return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
    },
    'reactions.add': (args) => {
      const message = find(args.channel, args.timestamp);
      if (!message) return fail('message_not_found');
      const name = String(args.name ?? '');
      if (!name) return fail('invalid_name');
      if (message.reactions.includes(name)) return fail('already_reacted');
      message.reactions.push(name);
      return { ok: true };
    },
    'assistant.threads.setStatus': (args) => {
      if (!args.channel_id || !args.thread_ts) return fail('invalid_arguments');
      statuses.push({
        channel: String(args.channel_id),
        threadTs: String(args.thread_ts),
        status: String(args.status ?? ''),
      });
      return { ok: true };
    },
    'users.info': (args) => {
      const id = String(args.user ?? '');
      const user = users.get(id) ?? defaultUser(id, opts.teamId);
      return id ? { ok: true, user } : fail('user_not_found');
    },
    'files.getUploadURLExternal': (args) => {
      if (!args.filename || args.length === undefined) return fail('invalid_arguments');
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      const name = String(args.filename);
      files.set(id, { id, name, title: name, content: Buffer.alloc(0), completed: false });
      return { ok: true, upload_url: `${opts.uploadUrlBase()}${id}`, file_id: id };
    },
    'files.completeUploadExternal': (args) => {
      const list = Array.isArray(args.files) ? (args.files as Array<{ id?: string; title?: string }>) : [];
      const completed: SlackFakeFile[] = [];
      for (const entry of list) {
        const file = files.get(String(entry.id));
        if (!file) return fail('file_not_found');
        file.completed = true;
        if (entry.title) file.title = entry.title;
        if (args.channel_id !== undefined) file.channel = String(args.channel_id);
        if (args.thread_ts !== undefined) file.threadTs = String(args.thread_ts);
        if (args.initial_comment !== undefined) file.initialComment = String(args.initial_comment);
        completed.push(file);
      }
      // Sharing files into a channel shows up as a bot message carrying them.
      if (args.channel_id !== undefined && completed.length > 0) {
        store({
          ...botMessage(String(args.channel_id), {
            text: args.initial_comment ?? '',
            thread_ts: args.thread_ts,
          }),
          files: completed.map((f) => ({ id: f.id, name: f.name, title: f.title })),
        });
      }
      return { ok: true, files: completed.map((f) => ({ id: f.id, name: f.name, title: f.title })) };
    },
  };

  function threadMessages(channel: string, threadTs: string): SlackFakeMessage[] {
    return [...(channels.get(channel)?.values() ?? [])]
      .filter((m) => m.ts === threadTs || m.threadTs === threadTs)
      .sort((a, b) => compareTs(a.ts, b.ts));
  }

  return {
    methods,
    store,
    threadMessages,
    messagesIn: (channel: string) =>
      [...(channels.get(channel)?.values() ?? [])].sort((a, b) => compareTs(a.ts, b.ts)),
    files,
    statuses,
    users,
  };
}

function defaultUser(id: string, teamId: string): Record<string, unknown> {
  const name = `user-${id.toLowerCase()}`;
  return {
    id,
    team_id: teamId,
    name,
    real_name: `User ${id}`,
    tz: 'America/Los_Angeles',
    is_bot: false,
    deleted: false,
    profile: { display_name: name, real_name: `User ${id}` },
  };
}

export type SlackWorkspace = ReturnType<typeof createSlackWorkspace>;
