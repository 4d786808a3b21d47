/**
 * Every error we raise on purpose carries a stable `code` (for logs, metrics and tests) and the
 * underlying `cause`. User-facing text is derived from the code, never from a stack trace.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'db_error'
  /** The database cannot be reached or does not answer in time (down, restarting, hung, out of connections). */
  | 'db_unavailable'
  | 'migration_failed'
  | 'llm_error'
  | 'llm_timeout'
  | 'llm_bad_output'
  | 'max_turns_exceeded'
  | 'tool_error'
  | 'scrape_failed'
  | 'search_failed'
  | 'rate_limited'
  | 'city_unknown'
  | 'city_ambiguous'
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'platform_error'
  | 'queue_unavailable'
  | 'embedding_failed'
  | 'run_cancelled'
  /** A whole turn ran past its deadline (TURN_DEADLINE_MS) and was stopped. */
  | 'turn_timeout'
  /** The platform or workspace cannot stream natively: answer by posting and editing instead. */
  | 'streaming_unavailable'
  /** A native stream stopped taking updates (its time window closed): continue in a new one. */
  | 'stream_expired'
  /** The cost chart could not be rendered: the answer goes out without it. */
  | 'chart_failed';

export class MovebotError extends Error {
  readonly code: ErrorCode;
  /** True when retrying the same work later may succeed (network, 429, 5xx). */
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; transient?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MovebotError';
    this.code = code;
    this.transient = options.transient ?? false;
  }
}

export function isMovebotError(err: unknown, code?: ErrorCode): err is MovebotError {
  return err instanceof MovebotError && (code === undefined || err.code === code);
}

/** The stable code of any thrown value: ours, or `internal` for everything else. */
export function errorCodeOf(err: unknown): string {
  return err instanceof MovebotError ? err.code : 'internal';
}

/** Unknown errors (network, a bug) may pass on a retry; our own say whether they can. */
export function isTransient(err: unknown): boolean {
  return err instanceof MovebotError ? err.transient : true;
}

/**
 * Whether a queue retry follows this failure: a transient one, on any attempt but the last. A
 * database outage is always waited out (it spends no attempt), so it is never the last word.
 */
export function willRetry(err: unknown, finalAttempt: boolean | undefined): boolean {
  return (!finalAttempt || isDatabaseOutage(err)) && isTransient(err);
}

/** Whether `err`, or an error it was caused by, is the database being unreachable (`db_unavailable`). */
export function isDatabaseOutage(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e; depth += 1) {
    if (e instanceof MovebotError && e.code === 'db_unavailable') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A short, safe description of any thrown value, for logs and run records (never for stack traces). */
export function describeError(err: unknown): string {
  if (err instanceof MovebotError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A run stopped because someone asked it to; `partial` is the answer text written until then. */
export class RunCancelledError extends MovebotError {
  readonly partial: string;
  constructor(partial: string, options: { cause?: unknown } = {}) {
    super('run_cancelled', 'the run was stopped on request', options);
    this.name = 'RunCancelledError';
    this.partial = partial;
  }
}
