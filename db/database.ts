import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from '../src/logger.js';
import { isDatabaseOutage, MovebotError } from '../src/errors.js';
import { binaryVectorParam, textVectorParam, type VectorParam } from './vector-param.js';

/** Anything that can run a parameterised query: the database itself or a transaction. */
export interface Queryable {
  /** Runs one statement with `$1…` parameters and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** The database port: PostgreSQL through a `pg` pool, or embedded PGlite for zero-setup runs. */
export interface Database extends Queryable {
  /** Which engine is behind it; PGlite is single-process. */
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. `unbounded`
   * lifts the statement and query timeouts for it (migrations, which may build indexes for minutes).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: { unbounded?: boolean }): Promise<T>;
  /** Encodes an embedding for a `$n::vector` parameter in the form this engine reads fastest. */
  readonly vector: VectorParam;
  /** Closes every connection; the instance is unusable afterwards. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite database under `pgliteDir` is used. */
  databaseUrl?: string;
  pgliteDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /**
   * PostgreSQL timeouts, so a hung or unreachable server fails a query (`db_unavailable`) instead of
   * hanging the turn: opening a connection, the server's `statement_timeout`, and how long the client
   * waits for a query's answer. Unset: none (scripts that may run long statements).
   */
  timeouts?: { connectMs?: number; statementMs?: number; queryMs?: number };
  logger?: Logger;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return createPostgres(options.databaseUrl, options.maxConnections ?? 10, options.timeouts ?? {});
  const dir = options.pgliteDir ?? '.data/pglite';
  options.logger?.info(
    { dir },
    'DATABASE_URL is not set: using the embedded PGlite database. It serves one process only; ' +
      'run the web and worker roles (or several processes) against PostgreSQL.',
  );
  return createPglite(dir);
}

function createPostgres(url: string, max: number, timeouts: NonNullable<DatabaseOptions['timeouts']>): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Covers both opening a connection and waiting for a free one in the pool.
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    // A server that vanished without closing the socket is noticed instead of waited on forever.
    keepAlive: true,
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Per query rather than per pool, so an unbounded transaction can go without it.
  const config = (text: string, values: unknown[] | undefined, bounded: boolean): pg.QueryConfig => ({
    text,
    values,
    ...(bounded && timeouts.queryMs ? { query_timeout: timeouts.queryMs } : {}),
  });
  return {
    kind: 'postgres',
    vector: binaryVectorParam,
    query: <R>(text: string, params?: unknown[]) =>
      wrap(async () => ({ rows: (await pool.query(config(text, params, true))).rows as R[] })),
    async transaction(fn, options = {}) {
      const bounded = !options.unbounded;
      const client = await wrap(() => pool.connect());
      const run = (text: string, params?: unknown[]) => client.query(config(text, params, bounded));
      let broken: Error | undefined;
      try {
        await wrap(() => run('BEGIN'));
        if (!bounded) await wrap(() => run('SET LOCAL statement_timeout = 0'));
        const result = await fn({
          query: <R>(text: string, params?: unknown[]) => wrap(async () => ({ rows: (await run(text, params)).rows as R[] })),
        });
        await wrap(() => run('COMMIT'));
        return result;
      } catch (err) {
        // A dead or hung connection is dropped (the server rolls back); a ROLLBACK on it would wait forever.
        if (isDatabaseOutage(err)) broken = err as Error;
        else await client.query(config('ROLLBACK', undefined, true)).catch(() => {});
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

async function createPglite(dir: string): Promise<Database> {
  // Imported lazily: the WASM build is large and production (PostgreSQL) never needs it.
  const [{ PGlite }, { vector }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
  ]);
  if (dir !== 'memory://') await mkdir(dir, { recursive: true });
  // 'memory://' is PGlite's own in-memory data dir.
  const db = new PGlite(dir, { extensions: { vector } });
  await db.waitReady;
  return {
    kind: 'pglite',
    vector: textVectorParam,
    query: (text, params) => pgliteQuery(db, text, params),
    // One process, no network: the timeouts and `unbounded` do not apply.
    transaction: (fn) => db.transaction((tx) => fn({ query: (text, params) => pgliteQuery(tx, text, params) })),
    close: () => db.close(),
  };
}

type PgliteLike = Pick<import('@electric-sql/pglite').Transaction, 'query' | 'exec'>;

/** PGlite's query() uses the extended protocol (one statement); migrations send several at once. */
function pgliteQuery<R>(target: PgliteLike, text: string, params?: unknown[]): Promise<{ rows: R[] }> {
  return wrap(async () => {
    if (!params?.length && isMultiStatement(text)) {
      const results = await target.exec(text);
      return { rows: (results.at(-1)?.rows ?? []) as R[] };
    }
    return { rows: (await target.query<R>(text, params)).rows };
  });
}

function isMultiStatement(text: string): boolean {
  return /;\s*\S/.test(text);
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toDatabaseError(err);
  }
}

/**
 * The server cannot be reached or does not answer: down, restarting (its DNS name gone for a moment),
 * shutting down, starting up, out of connections, or hung past a timeout. Nothing to do but wait.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  '57P01', // admin_shutdown: the server is stopping (pg_ctl stop -m fast, a failover)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '53300', // too_many_connections
  '57014', // query_canceled: our statement_timeout (a hung or overloaded server)
]);
/** Worth retrying, but the database is there: serialization failures, deadlocks, lock timeouts. */
const RETRYABLE_CODES = new Set(['40001', '40P01', '55P03']);
/** What `pg` says, without a code, when a connection dies or a timeout fires. */
const UNAVAILABLE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|query read timeout|timeout expired|not queryable|server closed the connection/i;

/**
 * A driver error as ours: `db_unavailable` (transient) when the server is unreachable or hung,
 * otherwise `db_error`, transient only for what a retry can fix. The driver's error stays the cause.
 */
export function toDatabaseError(err: unknown): MovebotError {
  if (err instanceof MovebotError) return err;
  const message = (err as Error)?.message ?? String(err);
  const codes = [err, ...((err as { errors?: unknown[] }).errors ?? [])].map((e) => (e as { code?: unknown })?.code);
  if (codes.some((c) => typeof c === 'string' && UNAVAILABLE_CODES.has(c)) || UNAVAILABLE_MESSAGE.test(message)) {
    return new MovebotError('db_unavailable', message, { cause: err, transient: true });
  }
  const code = codes[0];
  return new MovebotError('db_error', message, { cause: err, transient: typeof code === 'string' && RETRYABLE_CODES.has(code) });
}

/** The Postgres error code (e.g. '23505' unique violation) behind a db_error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
