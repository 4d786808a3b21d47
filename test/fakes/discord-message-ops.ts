/**
 * Message operations shared by the Discord fake's REST routes: Discord's validation limits, creating
 * and editing messages (with attachments) and threads, and the error body shape.
 */
import type { ParsedBody } from './fake-http.js';
import {
  type DiscordUser,
  type MessageRecord,
  messageObject,
  snowflake,
  threadObject,
} from './discord-payloads.js';
import { componentErrors } from './discord-components.js';
import type { DiscordState, EphemeralOwner } from './discord-state.js';

/** A route's answer. */
export interface RestReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestContext {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** JSON body, or parsed payload_json of a multipart body. */
  json: Record<string, unknown>;
  files: Array<{ filename: string; contentType?: string; data: Buffer }>;
}

export interface RestDeps {
  state: DiscordState;
  bot: DiscordUser;
  applicationId: string;
  baseUrl: () => string;
  interactionDeadlineMs: number;
  tokenLifetimeMs: number;
  /** Sends MESSAGE_CREATE/MESSAGE_UPDATE/THREAD_CREATE/MESSAGE_DELETE for a change the bot made. */
  emit: (
    t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE' | 'THREAD_CREATE',
    d: Record<string, unknown>,
  ) => void;
}

/** A route implementation. */
export type Handler = (ctx: RestContext) => RestReply;

/** Discord's error body: `{ message, code, errors? }`. */
export const error = (status: number, code: number, message: string, errors?: unknown): RestReply => ({
  status,
  body: { message, code, ...(errors !== undefined && { errors }) },
});

/** An embed image `attachment://name` that names no attachment of the message (Discord shows nothing). */
function missingAttachmentImage(embeds: Array<Record<string, unknown>>, attachments: unknown): string | undefined {
  const names = new Set(Array.isArray(attachments) ? (attachments as Array<{ filename?: string }>).map((a) => a.filename) : []);
  for (const embed of embeds) {
    const url = (embed.image as { url?: string } | undefined)?.url ?? '';
    if (url.startsWith('attachment://') && !names.has(url.slice('attachment://'.length))) return url;
  }
  return undefined;
}

/** Splits multipart bodies into payload_json and files, as @discordjs/rest sends attachments. */
export function restBody(body: ParsedBody): Pick<RestContext, 'json' | 'files'> {
  if (body.parts.length === 0) return { json: body.fields, files: [] };
  const payload = body.parts.find((p) => p.name === 'payload_json');
  const json = payload ? (JSON.parse(payload.data.toString('utf8')) as Record<string, unknown>) : {};
  const files = body.parts
    .filter((p) => p.filename !== undefined)
    .map((p) => ({
      filename: p.filename ?? 'file',
      data: p.data,
      ...(p.contentType && { contentType: p.contentType }),
    }));
  return { json, files };
}
export function createMessageOps(deps: RestDeps) {
  const { state, bot } = deps;

  /**
   * Why Discord would reject this message body (400), or undefined. `within` nests the form errors
   * (`data` for interaction callbacks, as Discord reports them).
   */
  function validate(
    json: Record<string, unknown>,
    fileCount: number,
    within?: string,
  ): RestReply | undefined {
    const content = typeof json.content === 'string' ? json.content : '';
    const embeds = Array.isArray(json.embeds) ? (json.embeds as Array<Record<string, unknown>>) : [];
    const components = Array.isArray(json.components) ? json.components : [];
    const invalidForm = (errors: Record<string, unknown>) =>
      error(400, 50035, 'Invalid Form Body', within ? { [within]: errors } : errors);
    const formError = (field: string, message: string) =>
      invalidForm({ [field]: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message }] } });
    if (content.length > 2_000) return formError('content', 'Must be 2000 or fewer in length.');
    if (embeds.length > 10) return formError('embeds', 'Must be 10 or fewer in length.');
    if (embeds.some((e) => String(e.description ?? '').length > 4_096)) {
      return formError('embeds', 'Embed description must be 4096 or fewer in length.');
    }
    if (embedChars(embeds) > 6_000) {
      return formError('embeds', 'Embed size exceeds maximum size of 6000');
    }
    const componentIssues = componentErrors(json.components, Number(json.flags ?? 0));
    if (componentIssues) return invalidForm(componentIssues);
    const missing = missingAttachmentImage(embeds, json.attachments);
    if (missing) return invalidForm({ embeds: { _errors: [{ code: 'INVALID_ATTACHMENT', message: `No attachment named ${missing}.` }] } });
    if (!content && embeds.length === 0 && components.length === 0 && fileCount === 0) {
      return error(400, 50006, 'Cannot send an empty message');
    }
    return undefined;
  }

  /** Stores a new bot message; with `ephemeralFor`, only that interaction's user sees it. */
  function newMessage(
    channelId: string,
    ctx: RestContext,
    extra: Partial<MessageRecord> = {},
    ephemeralFor?: EphemeralOwner,
  ): MessageRecord {
    const id = snowflake();
    const guildId = state.guildOf(channelId);
    const content = String(ctx.json.content ?? '');
    const message: MessageRecord = {
      id,
      channelId,
      ...(guildId !== undefined && { guildId }),
      author: bot,
      content,
      embeds: (ctx.json.embeds as unknown[] | undefined) ?? [],
      components: (ctx.json.components as unknown[] | undefined) ?? [],
      attachments: [],
      mentions: mentionedUsers(content),
      flags: Number(ctx.json.flags ?? 0),
      type: 0,
      createdAt: new Date().toISOString(),
      editedAt: null,
      ...extra,
    };
    attach(message, ctx);
    return ephemeralFor ? state.storeEphemeral(message, ephemeralFor) : state.store(message);
  }

  function attach(message: MessageRecord, ctx: RestContext): void {
    const described = Array.isArray(ctx.json.attachments) ? (ctx.json.attachments as Array<{ id?: unknown; description?: unknown }>) : [];
    for (const [n, file] of ctx.files.entries()) {
      const id = snowflake();
      const description = described.find((a) => String(a.id) === String(n))?.description;
      state.attachments.push({
        channelId: message.channelId,
        messageId: message.id,
        filename: file.filename,
        content: file.data,
        ...(file.contentType && { contentType: file.contentType }),
        ...(typeof description === 'string' && { description }),
      });
      message.attachments.push({
        id,
        filename: file.filename,
        size: file.data.length,
        url: `${deps.baseUrl()}/attachments/${message.channelId}/${id}/${encodeURIComponent(file.filename)}`,
        ...(file.contentType && { content_type: file.contentType }),
      });
    }
  }

  /** Applies an edit body; `components: []` (or null) removes the components. */
  function edit(message: MessageRecord, ctx: RestContext, within?: string): RestReply {
    const current = { content: message.content, embeds: message.embeds, components: message.components };
    const invalid = validate(
      { ...current, flags: message.flags, ...ctx.json },
      ctx.files.length + message.attachments.length,
      within,
    );
    if (invalid) return invalid;
    if (ctx.json.content !== undefined) message.content = String(ctx.json.content ?? '');
    if (ctx.json.embeds !== undefined) message.embeds = (ctx.json.embeds as unknown[] | null) ?? [];
    if (ctx.json.components !== undefined)
      message.components = (ctx.json.components as unknown[] | null) ?? [];
    message.mentions = mentionedUsers(message.content);
    // A deferred response stops "thinking" at its first edit.
    message.flags &= ~128;
    message.editedAt = new Date().toISOString();
    attach(message, ctx);
    if (!(message.flags & 64)) deps.emit('MESSAGE_UPDATE', messageObject(message));
    return { status: 200, body: messageObject(message) };
  }

  function mentionedUsers(content: string): DiscordUser[] {
    const ids = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1] ?? '');
    return [...new Set(ids)].map((id) => (id === bot.id ? bot : { id, username: `user${id}` }));
  }

  function created(message: MessageRecord): RestReply {
    if (!(message.flags & 64)) deps.emit('MESSAGE_CREATE', messageObject(message));
    return { status: 200, body: messageObject(message) };
  }

  function createThread(
    parentId: string,
    id: string,
    type: number,
    ctx: RestContext,
    fromMessageId?: string,
  ): RestReply {
    const name = String(ctx.json.name ?? '');
    if (!name || name.length > 100) {
      return error(400, 50035, 'Invalid Form Body', {
        name: {
          _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }],
        },
      });
    }
    const thread = {
      id,
      parentId,
      guildId: state.guildOf(parentId) ?? '',
      name,
      type,
      ownerId: bot.id,
      ...(fromMessageId !== undefined && { fromMessageId }),
    };
    state.threads.set(id, thread);
    deps.emit('THREAD_CREATE', { ...threadObject(thread), newly_created: true });
    return { status: 201, body: threadObject(thread) };
  }

  return { validate, newMessage, edit, created, createThread };
}

export type MessageOps = ReturnType<typeof createMessageOps>;

function embedChars(embeds: Array<Record<string, unknown>>): number {
  let total = 0;
  for (const e of embeds) {
    total += String(e.title ?? '').length + String(e.description ?? '').length;
    const fields = Array.isArray(e.fields) ? (e.fields as Array<Record<string, unknown>>) : [];
    for (const f of fields) total += String(f.name ?? '').length + String(f.value ?? '').length;
    total += String((e.footer as { text?: string } | undefined)?.text ?? '').length;
    total += String((e.author as { name?: string } | undefined)?.name ?? '').length;
  }
  return total;
}
