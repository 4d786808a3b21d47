import type { Clock } from '../clock.js';
import { TEAM } from '../constants.js';
import { describeError, RunCancelledError, willRetry } from '../errors.js';
import type { Logger } from '../logger.js';
import { forgottenFilter, isForgetEverything } from '../memory/forget.js';
import { isShared, placeOf } from '../memory/place.js';
import type { RunEventListener } from '../ports/run-events.js';
import type { MemoryHooks } from '../ports/memory-store.js';
import type { Message, MessageMetadata, Run, RunToolCall, Session, SessionStore, TokenUsage, User } from '../ports/session-store.js';
import type { Team } from '../team/coordinator.js';
import type { HistoryMessage } from '../team/intake.js';
import { renderSharedSummary } from '../team/report.js';
import type { TeamEvent, TeamEventListener, TeamOutcome } from '../team/types.js';

/** A user message from any surface, already verified and normalised by its adapter. */
export interface IncomingMessage {
  platform: 'slack' | 'discord' | 'cli' | 'api';
  /** Slack team, Discord guild, 'local' (CLI) or 'api'. */
  workspace: string;
  /** Platform-neutral thread id: the session key. */
  threadKey: string;
  /** The platform's message id; a redelivery of the same id is answered once. */
  externalId?: string;
  user: { platformUserId: string; displayName?: string | null };
  text: string;
}

export type { MemoryHooks } from '../ports/memory-store.js';

export interface TurnResult {
  session: Session;
  user: User;
  userMessage: Message;
  reply: Message;
  /** True when this message had been answered already (a redelivery or a re-run job). */
  reused: boolean;
  outcome?: TeamOutcome;
  runId?: string;
  /** Tokens and estimated cost of the team's model calls, when it ran (also stored on the run). */
  usage?: TokenUsage;
  costUsd?: number;
  /** Milliseconds the turn took. */
  ms?: number;
}

/** What a turn answered: the team's outcome, or, when a re-run found the answer stored, that answer read back. */
export function outcomeOf(result: TurnResult): TeamOutcome {
  if (result.outcome) return result.outcome;
  const { metadata: meta, content } = result.reply;
  if (meta.kind === 'recommendation' && meta.recommendation && meta.report) {
    return {
      kind: 'recommendation',
      text: content,
      recommendation: meta.recommendation,
      markdown: meta.report,
      ...(meta.comparison && { comparison: meta.comparison }),
    };
  }
  return { kind: 'answer', text: content };
}

/** How one turn is run: where its events go and what can stop it. */
export interface TurnOptions {
  /** Receives `run_started` and the team's events as they happen. */
  emit?: RunEventListener;
  /** Aborts the turn's model and tool calls (a stop request, a shutdown, a deadline). */
  signal?: AbortSignal;
  /** The run's id (the queued job's); a new one when not given. */
  runId?: string;
  /** 1 for the first try; more for a retry or a job resumed after a crash. */
  attempt?: number;
  /**
   * No retry follows this attempt. A transient failure of an attempt that will be retried leaves the
   * run `running` (the retry takes it over), so it is counted once, at its end.
   */
  finalAttempt?: boolean;
  /**
   * True when `signal` aborted because someone asked the run to stop: then the text written so far is
   * stored as the answer, marked cancelled, and the turn throws RunCancelledError.
   */
  isCancelled?: () => boolean;
}

export interface ConversationService {
  /** Stores the message, runs the team with the thread's history and the user's memories, stores the answer. */
  handle(message: IncomingMessage, options?: TurnOptions): Promise<TurnResult>;
  /** Stores a final failure notice as the answer, so the thread shows it and a re-run does not retry forever. */
  recordFailure(message: IncomingMessage, text: string): Promise<Message | undefined>;
  /** Resolves when background memory learning started so far has finished. */
  idle(): Promise<void>;
}

const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export function createConversationService(deps: {
  store: SessionStore;
  team: Team;
  memory?: MemoryHooks;
  clock: Clock;
  logger?: Logger;
  historyLimit?: number;
}): ConversationService {
  const { store } = deps;
  const learning = new Set<Promise<unknown>>();

  async function open(message: IncomingMessage) {
    const user = await store.upsertUser(
      { platform: message.platform, workspace: message.workspace, platformUserId: message.user.platformUserId },
      message.user.displayName ?? null,
    );
    const session = await store.getOrCreateSession({
      threadKey: message.threadKey,
      platform: message.platform,
      ownerUserId: user.id,
      title: message.text.slice(0, 80),
    });
    const userMessage = await store.appendMessage(session.id, {
      role: 'user',
      content: message.text,
      authorUserId: user.id,
      authorName: message.user.displayName ?? null,
      externalId: message.externalId ?? null,
    });
    return { user, session, userMessage };
  }

  type Turn = Awaited<ReturnType<typeof open>> & { existing?: Message; run: Run };

  /** A stored failure notice is replaced by the retried answer; otherwise the answer is appended. */
  function storeReply(turn: Turn, content: string, metadata: MessageMetadata) {
    return turn.existing
      ? store.updateMessage(turn.existing.id, { content, metadata })
      : store.appendMessage(turn.session.id, { role: 'assistant', content, replyTo: turn.userMessage.id, metadata });
  }

  /** A memory command's answer as a run of its own, so API clients see it like any other exchange. */
  async function commandTurn(turn: Turn, text: string, ms: number): Promise<TurnResult> {
    const { session, user, userMessage, run } = turn;
    const metadata: MessageMetadata = { kind: 'memory', runId: run.id };
    const reply = await storeReply(turn, text, metadata);
    await store.finishRun(run.id, { status: 'completed', content: text, timings: { total: ms }, usage: NO_USAGE, costUsd: 0 });
    const outcome: TeamOutcome = { kind: 'answer', text };
    return { session, user, userMessage, reply, reused: false, outcome, runId: run.id, usage: NO_USAGE, costUsd: 0, ms };
  }

  async function teamTurn(turn: Turn, text: string, options: { emit: TeamEventListener; signal?: AbortSignal; tools: RunToolCall[] }): Promise<TurnResult> {
    const { session, user, userMessage, run } = turn;
    // Stopped before it began (a stop request for a queued run): no model call at all.
    options.signal?.throwIfAborted();
    const earlier = (await store.listMessages(session.id, { limit: (deps.historyLimit ?? TEAM.historyLimit) + 1 })).filter(
      (m) => m.seq < userMessage.seq && m.role !== 'system',
    );
    // Who can read this thread decides which memories may shape the answer (src/memory/place.ts).
    const place = placeOf(session.platform, session.threadKey);
    const history = historyFor(earlier, user.id, forgottenFilter(session.state, user.id, earlier), isShared(place));
    const memories = deps.memory
      ? await deps.memory.recall(user, text, place).catch((err) => {
          deps.logger?.warn({ err: describeError(err) }, 'memory recall failed; answering without memories');
          return [];
        })
      : [];
    const result = await deps.team.run({
      message: text,
      history,
      state: session.state.team ?? {},
      userId: user.id,
      memories,
      signal: options.signal,
      emit: options.emit,
    });
    const { outcome } = result;
    const metadata = {
      kind: outcome.kind,
      runId: run.id,
      // Made with this user's memories: never read back into anyone else's turn (historyFor).
      usedMemories: memories.length > 0,
      ...(outcome.kind === 'recommendation' ? { report: outcome.markdown, recommendation: outcome.recommendation } : {}),
      ...(outcome.kind === 'recommendation' && outcome.comparison ? { comparison: outcome.comparison } : {}),
    };
    const reply = await storeReply(turn, outcome.text, metadata);
    const title =
      outcome.kind === 'recommendation'
        ? `${outcome.recommendation.from.display} → ${(outcome.comparison?.destinations.map((d) => d.to) ?? [outcome.recommendation.to]).map((c) => c.display).join(', ')}`
        : undefined;
    await store.updateSession(session.id, { state: { team: result.state }, title });
    await store.finishRun(run.id, {
      status: 'completed',
      content: outcome.text,
      timings: result.timings,
      usage: result.usage,
      costUsd: result.costUsd,
      tools: options.tools,
    });
    if (deps.memory) {
      // Learning happens after the answer is stored, off the reply's critical path.
      const job = deps.memory
        .learn({ user, message: userMessage, session })
        .catch((err) => deps.logger?.warn({ err: describeError(err) }, 'memory extraction failed'))
        .finally(() => learning.delete(job));
      learning.add(job);
    }
    return {
      session,
      user,
      userMessage,
      reply,
      reused: false,
      outcome,
      runId: run.id,
      usage: result.usage,
      costUsd: result.costUsd,
      ms: result.timings.total,
    };
  }

  /** A stopped turn keeps what it had written, as its answer and its run's content, marked cancelled. */
  async function cancelledTurn(turn: Turn, partial: string, tools: RunToolCall[], err: unknown): Promise<never> {
    const content = partial.trim();
    await storeReply(turn, content || '(stopped before any answer was written)', { kind: 'cancelled', runId: turn.run.id });
    await store.finishRun(turn.run.id, { status: 'cancelled', content, tools });
    throw new RunCancelledError(content, { cause: err });
  }

  return {
    async handle(message, options = {}) {
      const opened = await open(message);
      const { session, user, userMessage } = opened;
      // Answered before (a redelivery or a re-run job): hand back that answer. A stored failure notice
      // is different: a retry runs again and replaces it.
      const existing = await store.findReply(userMessage.id);
      if (existing && existing.metadata.kind !== 'error') {
        return { session, user, userMessage, reply: existing, reused: true, runId: existing.metadata.runId };
      }

      // Every answered message is a run, memory commands too: API clients stream and list each exchange.
      const started = deps.clock.now();
      const run = await store.startRun({ id: options.runId, sessionId: session.id, userMessageId: userMessage.id, input: message.text });
      const emit = options.emit ?? (() => {});
      emit({ type: 'run_started', runId: run.id, sessionId: session.id, platform: message.platform, attempt: options.attempt ?? 1 });
      const turn: Turn = { ...opened, existing, run };
      // What the run wrote and which tools it called: kept on the run, and kept if it is stopped.
      let written = '';
      const tools: RunToolCall[] = [];
      const observe: TeamEventListener = (event) => {
        if (event.type === 'content_delta') written += event.text;
        if (event.type === 'tool_call_completed') tools.push(toolCallOf(event));
        emit(event);
      };
      try {
        const commandAnswer = await deps.memory?.command?.(user, message.text);
        let result: TurnResult;
        if (commandAnswer === undefined) {
          result = await teamTurn(turn, message.text, { emit: observe, signal: options.signal, tools });
        } else {
          if (isForgetEverything(message.text)) await store.forgetUserState(user.id);
          result = await commandTurn(turn, commandAnswer, deps.clock.now() - started);
        }
        // An answer no model streamed (a question back, a memory command) is its own one content event,
        // so a client that renders content events shows every answer. Not a memory command's reply in a
        // shared place: that is for the asker alone (src/memory/place.ts), and a chat thread shows events.
        const forAskerOnly = commandAnswer !== undefined && isShared(placeOf(session.platform, session.threadKey));
        if (!written && !forAskerOnly && result.outcome && result.outcome.kind !== 'recommendation') {
          emit({ type: 'content_delta', text: result.outcome.text });
        }
        return result;
      } catch (err) {
        if (options.isCancelled?.()) return await cancelledTurn(turn, written, tools, err);
        if (!willRetry(err, options.finalAttempt)) await store.finishRun(run.id, { status: 'failed', error: describeError(err), tools }).catch(() => {});
        throw err;
      }
    },

    async idle() {
      while (learning.size) await Promise.all([...learning]);
    },

    async recordFailure(message, text) {
      const { userMessage, session } = await open(message);
      return store.appendMessage(session.id, {
        role: 'assistant',
        content: text,
        replyTo: userMessage.id,
        metadata: { kind: 'error' },
      });
    },
  };
}

/**
 * The thread as the team reads it on one user's turn. Everyone in it sees every message, but the bot's
 * answers to someone else were made from that person's situation and memories; the model gets them only
 * in a shared form, so nothing of theirs is taken as this user's or repeated to them.
 */
function historyFor(messages: Message[], userId: string, readable: (m: Message) => boolean, shared: boolean): HistoryMessage[] {
  const authorOf = new Map(messages.map((m) => [m.id, m.authorUserId]));
  // After "forget everything", what they asked us to forget is not read back (src/memory/forget.ts).
  return messages
    .filter(readable)
    .map((m) => {
      const forSomeoneElse = m.role === 'assistant' && (!m.replyTo || authorOf.get(m.replyTo) !== userId);
      // Their own memory list in a channel was shown to them alone: it may list what they told us in a
      // DM, which must not shape an answer here (src/memory/place.ts).
      const privateToThem = shared && m.role === 'assistant' && m.metadata.kind === 'memory';
      const content = forSomeoneElse ? sharedContent(m) : privateToThem ? PRIVATE_MEMORY_REPLY : m.content;
      return { role: m.role as 'user' | 'assistant', content, authorName: m.authorName };
    });
}

const PRIVATE_MEMORY_REPLY = "(movebot's answer about what it remembers of this user, shown to them privately.)";

function sharedContent(reply: Message): string {
  const { recommendation } = reply.metadata;
  if (recommendation) return renderSharedSummary(recommendation);
  if (reply.metadata.kind === 'memory' || reply.metadata.usedMemories) {
    return '(An answer to another person in this thread, based on what movebot remembers about them.)';
  }
  return reply.content;
}

function toolCallOf(e: Extract<TeamEvent, { type: 'tool_call_completed' }>): RunToolCall {
  return { id: e.callId, name: e.tool, args: e.args, ok: e.ok, summary: e.summary, sources: e.sources };
}

export { userFacingError } from '../user-errors.js';
