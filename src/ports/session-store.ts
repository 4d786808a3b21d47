import { z } from 'zod';
import { ComparisonSchema } from '../team/comparison-schema.js';
import { RecommendationSchema } from '../team/schemas.js';
import { TeamStateSchema } from '../team/thread-state.js';

/** A person on one platform workspace. Memories belong to this id, never to a display name. */
export interface User {
  id: string;
  platform: string;
  workspace: string;
  platformUserId: string;
  displayName: string | null;
}

export interface UserKey {
  platform: string;
  /** Slack team id, Discord guild id, 'local' for the CLI, 'api' for the HTTP API. */
  workspace: string;
  platformUserId: string;
}

/**
 * A session's stored state (`sessions.state`), validated when read. Writes are checked strictly, so a
 * field renamed on one side fails in a test instead of being silently dropped in production.
 */
export const SessionStateSchema = z.object({
  /** What the team carries between turns (cities, each person's profile, the latest recommendation). */
  team: TeamStateSchema.optional(),
  /** Per user id: the session's last message seq when they said "forget everything" (the policy: src/memory/forget.ts). */
  forgotten: z.record(z.string(), z.number()).optional(),
});
export type SessionState = z.infer<typeof SessionStateSchema>;

/** What a message keeps beside its text (`messages.metadata`), validated when read, checked strictly when written. */
export const MessageMetadataSchema = z.object({
  /** What the answer is: an analysis, a question back, a memory command's reply, a failure notice… */
  kind: z.enum(['recommendation', 'clarify', 'answer', 'memory', 'error', 'cancelled']).optional(),
  /** The run that wrote it. */
  runId: z.string().optional(),
  /** Made with the asker's memories: never read back into anyone else's turn. */
  usedMemories: z.boolean().optional(),
  /** The Markdown report of a recommendation. */
  report: z.string().optional(),
  recommendation: RecommendationSchema.optional(),
  /** A several-destination answer: its ranking and every pair (then `recommendation` is the top one). */
  comparison: ComparisonSchema.optional(),
});
export type MessageMetadata = z.infer<typeof MessageMetadataSchema>;

/** One conversation: a Slack/Discord thread, a CLI session or an API session. */
export interface Session {
  id: string;
  /** Platform-neutral thread id, e.g. `slack:T1:C1:1700000000.000100`; unique. */
  threadKey: string;
  platform: string;
  componentId: string;
  ownerUserId: string | null;
  title: string | null;
  /** Structured state carried between turns: the user's profile and the latest analyses. */
  state: SessionState;
  createdAt: Date;
  updatedAt: Date;
}

export type MessageRole = 'user' | 'assistant' | 'system';

export interface Message {
  id: string;
  sessionId: string;
  /** 1, 2, 3… without gaps within a session. */
  seq: number;
  role: MessageRole;
  authorUserId: string | null;
  authorName: string | null;
  content: string;
  /** The platform's id of a user message, when it came from a platform. */
  externalId: string | null;
  /** For an assistant message: the id of the user message it answers. */
  replyTo: string | null;
  metadata: MessageMetadata;
  createdAt: Date;
}

export interface NewMessage {
  role: MessageRole;
  content: string;
  authorUserId?: string | null;
  authorName?: string | null;
  /** Platform message id; appending the same one twice returns the first message. */
  externalId?: string | null;
  /** The user message this assistant message answers; at most one answer per user message. */
  replyTo?: string | null;
  metadata?: MessageMetadata;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** One tool call of a run, as API clients show it (AgentOS `tools`); stored in `runs.tools`. */
export const RunToolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Short argument summary, e.g. "seattle-wa-vs-austin-tx". */
  args: z.string(),
  ok: z.boolean(),
  /** "NerdWallet: 27% lower overall", "8 Reddit threads", or why it failed. */
  summary: z.string(),
  sources: z.array(z.string()),
});
export type RunToolCall = z.infer<typeof RunToolCallSchema>;

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Run {
  id: string;
  sessionId: string;
  userMessageId: string | null;
  status: RunStatus;
  input: string;
  content: string | null;
  /** Milliseconds per step, e.g. `{ 'cost-analyst': 812, total: 2304 }`. */
  timings: Record<string, number>;
  usage: TokenUsage;
  costUsd: number;
  error: string | null;
  tools: RunToolCall[];
  startedAt: Date;
  finishedAt: Date | null;
}

export interface SessionFilter {
  ownerUserId?: string;
  platform?: string;
  componentId?: string;
  /** Any of these components (e.g. every analyst, for `type=agent`). */
  componentIds?: string[];
  limit?: number;
  offset?: number;
}

/** The persistence port for users, sessions, their messages and runs. */
export interface SessionStore {
  /** Finds or creates the user for a platform identity, refreshing the display name. */
  upsertUser(key: UserKey, displayName?: string | null): Promise<User>;
  /** Looks a user up by internal id. */
  getUser(id: string): Promise<User | undefined>;
  /** Returns the session for a thread key, creating it on first use (safe under concurrency). */
  getOrCreateSession(input: {
    threadKey: string;
    platform: string;
    ownerUserId?: string | null;
    title?: string | null;
    componentId?: string;
    id?: string;
  }): Promise<Session>;
  /** A session by id, or undefined. */
  getSession(id: string): Promise<Session | undefined>;
  /** A session by its thread key, or undefined. */
  getSessionByThreadKey(threadKey: string): Promise<Session | undefined>;
  /** Newest-first page of sessions with the total count for paging. */
  listSessions(filter?: SessionFilter): Promise<{ sessions: Session[]; total: number }>;
  /** Deletes a session with its messages and runs; false when it did not exist. */
  deleteSession(id: string): Promise<boolean>;
  /** Shallow-merges `patch` into the session's state and sets the title if given. */
  updateSession(id: string, patch: { state?: SessionState; title?: string }): Promise<void>;
  /**
   * "Forget everything" in every session of the user's at once. Drops their own profile from the team's
   * thread state (`team.profiles[userId]`) and the latest recommendation when it was made for them (its
   * prose comes from their situation); other people's profiles stay. Records `forgotten[userId]` = the
   * session's last seq: their messages up to it are not read back into their turns. The answers made
   * for them lose their profile, memory references and report from `metadata`. Returns how many
   * sessions changed.
   */
  forgetUserState(userId: string): Promise<number>;
  /** Appends a message with the next seq; concurrent appends get contiguous, distinct seqs. */
  appendMessage(sessionId: string, message: NewMessage): Promise<Message>;
  /** Rewrites a stored answer (a failure notice replaced by a retried run's answer). */
  updateMessage(id: string, change: { content: string; metadata?: MessageMetadata }): Promise<Message>;
  /** The assistant message answering a user message, if one was stored. */
  findReply(userMessageId: string): Promise<Message | undefined>;
  /** Messages in seq order; with `limit`, the last `limit` of them. */
  listMessages(sessionId: string, options?: { limit?: number }): Promise<Message[]>;
  /**
   * Records the start of a team run for a user message. Starting a run id that exists again (a retry,
   * a job resumed after a crash) marks it running again.
   */
  startRun(input: { sessionId: string; userMessageId?: string | null; input: string; id?: string }): Promise<Run>;
  /** Records how a run ended. */
  finishRun(
    id: string,
    result: {
      status: Exclude<RunStatus, 'running'>;
      content?: string | null;
      timings?: Record<string, number>;
      usage?: TokenUsage;
      costUsd?: number;
      error?: string | null;
      tools?: RunToolCall[];
    },
  ): Promise<void>;
  /** A run by id. */
  getRun(id: string): Promise<Run | undefined>;
  /** A session's runs, oldest first. */
  listRuns(sessionId: string): Promise<Run[]>;
}
