import { z } from 'zod';
import {
  type Message,
  MessageMetadataSchema,
  type Run,
  RunToolCallSchema,
  type Session,
  SessionStateSchema,
  type User,
} from '../../src/ports/session-store.js';

/**
 * Row → domain mappers. bigint ids travel as strings so they survive JSON and never lose precision;
 * stored JSON goes through its schema, so a row our code cannot read fails here, loudly.
 */

export const toUser = (r: Record<string, unknown>): User => ({
  id: String(r.id),
  platform: String(r.platform),
  workspace: String(r.workspace),
  platformUserId: String(r.platform_user_id),
  displayName: (r.display_name as string | null) ?? null,
});

export const toSession = (r: Record<string, unknown>): Session => ({
  id: String(r.id),
  threadKey: String(r.thread_key),
  platform: String(r.platform),
  componentId: String(r.component_id),
  ownerUserId: r.owner_user_id == null ? null : String(r.owner_user_id),
  title: (r.title as string | null) ?? null,
  state: SessionStateSchema.parse(r.state ?? {}),
  createdAt: new Date(r.created_at as string),
  updatedAt: new Date(r.updated_at as string),
});

export const toMessage = (r: Record<string, unknown>): Message => ({
  id: String(r.id),
  sessionId: String(r.session_id),
  seq: Number(r.seq),
  role: r.role as Message['role'],
  authorUserId: r.author_user_id == null ? null : String(r.author_user_id),
  authorName: (r.author_name as string | null) ?? null,
  content: String(r.content),
  externalId: (r.external_id as string | null) ?? null,
  replyTo: r.reply_to == null ? null : String(r.reply_to),
  metadata: MessageMetadataSchema.parse(r.metadata ?? {}),
  createdAt: new Date(r.created_at as string),
});

export const toRun = (r: Record<string, unknown>): Run => {
  const usage = (r.usage as Record<string, number>) ?? {};
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    userMessageId: r.user_message_id == null ? null : String(r.user_message_id),
    status: r.status as Run['status'],
    input: String(r.input ?? ''),
    content: (r.content as string | null) ?? null,
    timings: (r.timings as Record<string, number>) ?? {},
    usage: {
      promptTokens: usage.promptTokens ?? 0,
      completionTokens: usage.completionTokens ?? 0,
      totalTokens: usage.totalTokens ?? 0,
    },
    costUsd: Number(r.cost_usd ?? 0),
    error: (r.error as string | null) ?? null,
    tools: z.array(RunToolCallSchema).parse(r.tools ?? []),
    startedAt: new Date(r.started_at as string),
    finishedAt: r.finished_at == null ? null : new Date(r.finished_at as string),
  };
};
