import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database, toDatabaseError } from '../db/database.js';
import { isDatabaseOutage, MovebotError, willRetry } from '../src/errors.js';
import { type DrillPostgres, startDrillPostgres } from './helpers/outage-servers.js';

// The database port against a real PostgreSQL that the tests stop, restart and freeze: an outage or a
// hung server fails a query quickly as `db_unavailable` (which the worker waits out) instead of hanging.
let server: DrillPostgres;
const open: Database[] = [];

beforeAll(async () => {
  server = await startDrillPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((db) => db.close().catch(() => {})));
  await server?.close();
});

async function connect(timeouts: { connectMs?: number; statementMs?: number; queryMs?: number }): Promise<Database> {
  const db = await createDatabase({ databaseUrl: server.url, maxConnections: 2, timeouts });
  open.push(db);
  return db;
}

/** How long `work` took to settle, and how. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const started = Date.now();
  try {
    return { ms: Date.now() - started, value: await work };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('a database outage at the wire', () => {
  it('is db_unavailable while the server is stopped, and the pool reconnects once it is back', async () => {
    const db = await connect({ connectMs: 1_000, queryMs: 2_000 });
    expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);

    await server.stop(); // pooled sessions are terminated (57P01); new connections are refused
    try {
      const failed = await timed(db.query('SELECT 1'));
      expect(failed.error).toMatchObject({ code: 'db_unavailable', transient: true });
      expect(failed.ms).toBeLessThan(2_000);
      const again = await timed(db.transaction((tx) => tx.query('SELECT 1')));
      expect(again.error).toMatchObject({ code: 'db_unavailable', transient: true });
    } finally {
      await server.start();
    }
    expect((await db.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  });

  it('fails queries on a hung server within the query and connection timeouts, then recovers', async () => {
    const db = await connect({ connectMs: 800, queryMs: 1_000 });
    await db.query('SELECT 1'); // one pooled connection, which the freeze leaves open and silent
    await server.freeze();
    try {
      // On the pooled connection: the query is sent and never answered.
      const pooled = await timed(db.query('SELECT 1'));
      expect(pooled.error).toMatchObject({ code: 'db_unavailable', message: expect.stringMatching(/timeout/i) });
      expect(pooled.ms).toBeLessThan(3_000);
      // A new connection: the server accepts nothing.
      const fresh = await timed(db.query('SELECT 1'));
      expect(fresh.error).toMatchObject({ code: 'db_unavailable', message: expect.stringMatching(/timeout/i) });
      expect(fresh.ms).toBeLessThan(3_000);
      // A transaction's connection is dropped, not returned to the pool stuck behind a ROLLBACK.
      const tx = await timed(db.transaction((t) => t.query('SELECT 1')));
      expect(tx.error).toMatchObject({ code: 'db_unavailable' });
      expect(tx.ms).toBeLessThan(3_000);
    } finally {
      await server.thaw();
    }
    expect((await db.query<{ n: number }>('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
  });

  it('cancels a statement stuck behind a lock at statement_timeout; an unbounded transaction may run long', async () => {
    const db = await connect({ connectMs: 2_000, statementMs: 500, queryMs: 5_000 });
    await db.query('CREATE TABLE IF NOT EXISTS drill_locked (id int)');
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE drill_locked IN ACCESS EXCLUSIVE MODE');
      const blocked = await timed(db.query('SELECT count(*) FROM drill_locked'));
      expect(blocked.error).toMatchObject({ code: 'db_unavailable', transient: true });
      expect(((blocked.error as MovebotError).cause as { code?: string }).code).toBe('57014');
      expect(blocked.ms).toBeLessThan(3_000);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
    // Migrations run unbounded: a statement longer than statement_timeout completes.
    const long = await db.transaction((tx) => tx.query<{ n: number }>('SELECT 1 AS n FROM pg_sleep(0.8)'), {
      unbounded: true,
    });
    expect(long.rows).toEqual([{ n: 1 }]);
    // …and the session's own timeout is back for everything else.
    await expect(db.query('SELECT pg_sleep(0.8)')).rejects.toMatchObject({ code: 'db_unavailable' });
  });
});

describe('which database errors are an outage', () => {
  const driverError = (props: Record<string, unknown>, message = 'boom') => Object.assign(new Error(message), props);

  it.each([
    ['connection refused', driverError({ code: 'ECONNREFUSED' })],
    ['a reset connection', driverError({ code: 'ECONNRESET' })],
    ['a network timeout', driverError({ code: 'ETIMEDOUT' })],
    ['DNS failing during a restart', driverError({ code: 'EAI_AGAIN' })],
    ['the host name gone during a restart', driverError({ code: 'ENOTFOUND' })],
    ['admin shutdown', driverError({ code: '57P01' })],
    ['starting up / shutting down', driverError({ code: '57P03' })],
    ['connection failure', driverError({ code: '08006' })],
    ['too many connections', driverError({ code: '53300' })],
    ['statement timeout', driverError({ code: '57014' })],
    ['a dropped connection', driverError({}, 'Connection terminated unexpectedly')],
    ['a pool connect timeout', driverError({}, 'timeout exceeded when trying to connect')],
    ['a query timeout', driverError({}, 'Query read timeout')],
    ['refused on every address', Object.assign(new AggregateError([driverError({ code: 'ECONNREFUSED' })]), {})],
  ])('%s is db_unavailable, waited out on any attempt', (_what, err) => {
    const mapped = toDatabaseError(err);
    expect(mapped).toMatchObject({ code: 'db_unavailable', transient: true });
    expect(isDatabaseOutage(new MovebotError('tool_error', 'wrapped', { cause: mapped }))).toBe(true);
    expect(willRetry(mapped, true)).toBe(true);
  });

  it('keeps constraint and syntax errors final, and retries serialization failures as db_error', () => {
    expect(toDatabaseError(driverError({ code: '23505' }))).toMatchObject({ code: 'db_error', transient: false });
    expect(toDatabaseError(driverError({ code: '42601' }))).toMatchObject({ code: 'db_error', transient: false });
    const serialization = toDatabaseError(driverError({ code: '40001' }));
    expect(serialization).toMatchObject({ code: 'db_error', transient: true });
    expect(willRetry(serialization, true)).toBe(false);
    expect(isDatabaseOutage(serialization)).toBe(false);
  });
});
