/**
 * The Web API methods of the Slack fake and the workspace state they change. slack-fake.ts routes
 * `POST /api/<method>` here after authentication, latency and failure injection; the AI-app methods
 * (streaming, assistant.threads.*) live in slack-streams.ts. Also the response_url of interactions.
 */
import { randomBytes } from 'node:crypto';
import { createAiMethods, type SlackFakeTask } from './slack-streams.js';
import { type BlockActionInput, blocksProblem, buildBlockActionPayload, compareTs } from './slack-wire.js';

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
  /** e.g. `assistant_app_thread` for an assistant thread's root. */
  subtype?: string;
  /** Set on messages made by chat.startStream: true until chat.stopStream or the stream window ends. */
  streaming?: boolean;
  /** A streamed message's tasks (task_update chunks), in first-seen order. */
  tasks?: SlackFakeTask[];
  /** A streamed message's latest plan_update title. */
  planTitle?: string;
  /** chat.startStream's `task_display_mode`. */
  taskDisplayMode?: 'timeline' | 'plan';
  /** chat.stopStream's `metadata`. */
  metadata?: unknown;
}

/** A chat.postEphemeral message: only `user` sees it, so it is in no thread or channel listing. */
export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
  ts: string;
}

/** A POST the app made to a `response_url` of an interaction. */
export interface SlackResponseUrlPost {
  /** The id in `/actions/<id>`. */
  actionId: string;
  /** The message the interaction came from. */
  channel: string;
  messageTs: string;
  body: Record<string, unknown>;
  at: number;
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
  /** `alt_text` given to `files.getUploadURLExternal` (images). */
  altText?: string;
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
  /** Absolute URL prefix for interactions' response_url, e.g. `http://127.0.0.1:P/actions/`. */
  actionUrlBase: () => string;
  /** Called after `chat.postMessage` stored a bot message (for echoing it back as an event). */
  onBotMessage: (message: SlackFakeMessage) => void;
}

/** Workspace state plus the method implementations that read and change it. */
export function createSlackWorkspace(opts: SlackWorkspaceOptions) {
  const channels = new Map<string, Map<string, SlackFakeMessage>>();
  const files = new Map<string, SlackFakeFile>();
  const ephemerals: SlackEphemeral[] = [];
  const actions = new Map<string, { channel: string; messageTs: string }>();
  const responseUrlPosts: SlackResponseUrlPost[] = [];
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
      ...(message.subtype && { subtype: message.subtype }),
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
  const ai = createAiMethods({
    find,
    wire,
    postInThread: (channel, threadTs) => store(botMessage(channel, { thread_ts: threadTs })),
  });

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
      if (message.user !== opts.botUserId || ai.isStreaming(message)) return fail('cant_update_message');
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
    'chat.postEphemeral': (args) => {
      if (!args.channel) return fail('channel_not_found');
      if (!args.user) return fail('user_not_found');
      if (!args.text && !args.blocks) return fail('no_text');
      const problem = blocksProblem(args.blocks);
      if (problem) return fail(problem);
      const ts = opts.nextTs();
      ephemerals.push({
        channel: String(args.channel),
        user: String(args.user),
        text: String(args.text ?? ''),
        ...(Array.isArray(args.blocks) && { blocks: args.blocks }),
        ...(args.thread_ts !== undefined && { threadTs: String(args.thread_ts) }),
        ts,
      });
      return { ok: true, message_ts: ts };
    },
    ...ai.methods,
    'users.info': (args) => {
      const id = String(args.user ?? '');
      const user = users.get(id) ?? defaultUser(id, opts.teamId);
      return id ? { ok: true, user } : fail('user_not_found');
    },
    'files.getUploadURLExternal': (args) => {
      if (!args.filename || args.length === undefined) return fail('invalid_arguments');
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      const name = String(args.filename);
      const altText = args.alt_text === undefined ? {} : { altText: String(args.alt_text) };
      files.set(id, { id, name, title: name, content: Buffer.alloc(0), completed: false, ...altText });
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

  /** Messages of a channel in ts order, streams past their window shown as stopped. */
  function messagesIn(channel: string): SlackFakeMessage[] {
    const messages = [...(channels.get(channel)?.values() ?? [])].sort((a, b) => compareTs(a.ts, b.ts));
    for (const message of messages) ai.isStreaming(message);
    return messages;
  }

  function threadMessages(channel: string, threadTs: string): SlackFakeMessage[] {
    return messagesIn(channel).filter((m) => m.ts === threadTs || m.threadTs === threadTs);
  }

  /** A response_url POST: recorded; `delete_original` / `replace_original` act on the bot message. */
  function respondToAction(actionId: string, body: Record<string, unknown>): SlackResult | undefined {
    const target = actions.get(actionId);
    if (!target) return undefined;
    responseUrlPosts.push({ actionId, ...target, body, at: Date.now() });
    const message = find(target.channel, target.messageTs);
    if (!message || message.user !== opts.botUserId) return { ok: true };
    if (String(body.delete_original) === 'true') channels.get(message.channel)?.delete(message.ts);
    else if (String(body.replace_original) === 'true') {
      message.text = String(body.text ?? '');
      if (Array.isArray(body.blocks)) message.blocks = body.blocks;
      else delete message.blocks;
      message.edited = true;
    }
    return { ok: true };
  }

  return {
    methods,
    store,
    find,
    wire,
    threadMessages,
    messagesIn,
    files,
    ai,
    ephemerals,
    users,
    responseUrlPosts,
    respondToAction,
    /** A `block_actions` payload for a click on a message, with a response_url served by the fake. */
    blockActionPayload(input: BlockActionInput): Record<string, unknown> {
      const message = find(input.channel, input.messageTs);
      const id = randomBytes(6).toString('hex');
      actions.set(id, { channel: input.channel, messageTs: input.messageTs });
      const userName = users.get(input.user)?.name ?? defaultUser(input.user, opts.teamId).name;
      return buildBlockActionPayload(input, {
        teamId: opts.teamId,
        appId: opts.appId,
        userName: String(userName),
        responseUrl: `${opts.actionUrlBase()}${id}`,
        ...(message && { message: wire(message) }),
      });
    },
    /** Stores an assistant thread's root, as Slack creates it when the user opens the assistant. */
    storeAssistantRoot(channel: string, user: string, ts: string): void {
      if (find(channel, ts)) return;
      const root = { channel, ts, user, text: 'New chat', subtype: 'assistant_app_thread' };
      store({ ...root, reactions: [], edited: false });
    },
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
