import type { ConversationService, IncomingMessage, TurnResult } from '../conversation/conversation-service.js';
import { outcomeOf, userFacingError } from '../conversation/conversation-service.js';
import { type ChartRenderer, chartOf, type RunChart, runImageOf } from '../charts/run-chart.js';
import { DEFAULTS } from '../constants.js';
import { describeError, errorCodeOf, MovebotError, RunCancelledError, willRetry } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunCancellation, RunEvent, RunEventListener, RunEventLog } from '../ports/run-events.js';
import type { TeamOutcome } from '../team/types.js';
import { settlesWithin, withTimeout } from '../util/timeout.js';

/** One turn to answer: the user's message and the run id its events are filed under. */
export interface TurnRequest {
  runId: string;
  message: IncomingMessage;
}

export interface RunTurnOptions {
  /** Aborts the turn without it counting as a stop request (a worker shutting down hands the job back). */
  signal?: AbortSignal;
  /** 1 for the first try. */
  attempt?: number;
  /** No retry follows a failure of this attempt: a failure ends the run with `run_error`. */
  finalAttempt?: boolean;
  /** The surface's own view of the events (a chat thread's live plan), besides the run's log. */
  onEvent?: RunEventListener;
}

export type TurnOutcome =
  /** `chart`: the answer's cost chart, rendered here once for every surface to deliver. */
  | { status: 'completed'; result: TurnResult; content: string; chart?: RunChart }
  | { status: 'cancelled'; partial: string };

/**
 * The one pipeline every turn goes through, from any surface: workers run it for Slack, Discord and
 * HTTP API jobs; the CLI runs it in-process. It runs the conversation, appends every event to the
 * run's log (Redis Streams between processes) and ends the log with exactly one of `run_completed`,
 * `run_cancelled` or (on the last attempt) `run_error`. A stop request from any process aborts the
 * turn's model and tool calls.
 */
export interface TurnRunner {
  /** Runs the turn. Throws when it failed (after writing `run_error` when no retry follows). */
  run(request: TurnRequest, options?: RunTurnOptions): Promise<TurnOutcome>;
}

export function createTurnRunner(deps: {
  conversation: ConversationService;
  events: RunEventLog;
  cancellation: RunCancellation;
  logger: Logger;
  /** The whole turn's deadline (default DEFAULTS.turnDeadlineMs): past it the turn stops with `turn_timeout`. */
  deadlineMs?: number;
  /** Draws the answer's cost chart (default renderCostChart). */
  renderChart?: ChartRenderer;
}): TurnRunner {
  const { events, logger } = deps;
  const deadlineMs = deps.deadlineMs ?? DEFAULTS.turnDeadlineMs;
  return {
    async run({ runId, message }, options = {}) {
      // Appends go out in call order on one connection; the run waits for all of them before it ends.
      const appends = new Set<Promise<unknown>>();
      const publish = (event: RunEvent) => {
        options.onEvent?.(event);
        const p = events
          .append(runId, event)
          .catch((err) => logger.warn({ runId, err: describeError(err) }, 'run event not stored'))
          .finally(() => appends.delete(p));
        appends.add(p);
      };
      const flushed = async () => {
        while (appends.size) await Promise.all([...appends]);
      };

      const stop = new AbortController();
      const unwatch = deps.cancellation.watch(runId, () => stop.abort(new RunCancelledError('')));
      // The whole turn's deadline aborts its model and tool calls like a stop, but it is a failure.
      const deadline = new AbortController();
      try {
        if (await deps.cancellation.isRequested(runId)) stop.abort(new RunCancelledError(''));
        const signal = AbortSignal.any([stop.signal, deadline.signal, ...(options.signal ? [options.signal] : [])]);
        const work = deps.conversation.handle(message, {
          runId,
          attempt: options.attempt,
          // Read when the turn fails: past the deadline no retry follows, so the run is recorded failed.
          get finalAttempt() {
            return options.finalAttempt || deadline.signal.aborted;
          },
          signal,
          emit: publish,
          isCancelled: () => stop.signal.aborted,
        });
        const result = await withTimeout(work, deadlineMs, () => turnTimeout(deadlineMs), deadline).catch(async (err) => {
          if (!deadline.signal.aborted || err instanceof RunCancelledError) throw err;
          // Whatever the aborted work threw (a cancelled model call), the turn failed by its deadline.
          // It gets a moment to wind down, so nothing it still writes races the failure notice.
          await settlesWithin(work, DEADLINE_GRACE_MS);
          throw deadline.signal.reason;
        });
        const content = outcomeContent(result.outcome, result.reply.content);
        const answered = outcomeOf(result);
        const chart =
          answered.kind === 'recommendation' ? await chartOf(answered.recommendation, logger, deps.renderChart, answered.comparison) : undefined;
        publish({
          type: 'run_completed',
          content,
          kind: result.outcome?.kind ?? result.reply.metadata.kind ?? 'answer',
          metrics: {
            input_tokens: result.usage?.promptTokens ?? 0,
            output_tokens: result.usage?.completionTokens ?? 0,
            total_tokens: result.usage?.totalTokens ?? 0,
            cost_usd: result.costUsd ?? 0,
            duration: (result.ms ?? 0) / 1000,
          },
          // The image, ~100 KiB in base64, only where a reader of the run's events wants it: API runs.
          // Chat surfaces and the CLI take the chart from the outcome below.
          ...(chart && message.platform === 'api' ? { images: [runImageOf(chart, `${runId}-cost-chart`)] } : {}),
        });
        return { status: 'completed', result, content, ...(chart ? { chart } : {}) };
      } catch (err) {
        if (err instanceof RunCancelledError) {
          publish({ type: 'run_cancelled', content: err.partial });
          return { status: 'cancelled', partial: err.partial };
        }
        const handedBack = options.signal?.aborted === true;
        if (!handedBack && !willRetry(err, options.finalAttempt)) publish(runError(err));
        throw err;
      } finally {
        unwatch();
        await flushed();
      }
    },
  };
}

/** How long a turn stopped at its deadline gets to wind down (its model calls abort at once). */
const DEADLINE_GRACE_MS = 5_000;

/** A turn stopped at its deadline: final (a retry would hold the thread as long again). */
function turnTimeout(ms: number): MovebotError {
  return new MovebotError('turn_timeout', `the turn ran past its ${Math.round(ms / 1000)} s deadline and was stopped`);
}

/** The `run_error` event of a run that failed for good: the code and the sentence a user reads. */
export function runError(err: unknown): Extract<RunEvent, { type: 'run_error' }> {
  return { type: 'run_error', code: errorCodeOf(err), message: userFacingError(err) };
}

/** What API clients see as the answer: the full Markdown report for a recommendation, else the text. */
export function outcomeContent(outcome: TeamOutcome | undefined, fallback: string): string {
  return outcome?.kind === 'recommendation' ? outcome.markdown : (outcome?.text ?? fallback);
}
