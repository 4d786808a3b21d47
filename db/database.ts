import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from '../src/logger.js';
import { MovebotError } from '../src/errors.js';
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
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
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
  logger?: Logger;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return createPostgres(options.databaseUrl, options.maxConnections ?? 10);
  const dir = options.pgliteDir ?? '.data/pglite';
  options.logger?.info(
    { dir },
    'DATABASE_URL is not set: using the embedded PGlite database. It serves one process only; ' +
      'run the web and worker roles (or several processes) against PostgreSQL.',
  );
  return createPglite(dir);
}

function createPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    vector: binaryVectorParam,
    query: <R>(text: string, params?: unknown[]) => wrap(async () => ({ rows: (await pool.query(text, params)).rows as R[] })),
    async transaction(fn) {
      const client = await wrap(() => pool.connect());
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: <R>(text: string, params?: unknown[]) =>
            wrap(async () => ({ rows: (await client.query(text, params)).rows as R[] })),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
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
    if (err instanceof MovebotError) throw err;
    const code = (err as { code?: string }).code;
    // Connection-level failures are worth retrying; constraint or syntax errors are not.
    const transient = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === '57P01' || code === '53300';
    throw new MovebotError('db_error', (err as Error).message, { cause: err, transient });
  }
}

/** The Postgres error code (e.g. '23505' unique violation) behind a db_error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
