import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type Database } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';

export type DbKind = 'postgres' | 'pglite';

export interface TestDatabase {
  db: Database;
  /** The database's own URL (PostgreSQL only), for code that opens its own connections. */
  url: string | undefined;
  /** Closes connections and drops the database. */
  cleanup(): Promise<void>;
}

export const TEST_DIMENSIONS = 64;

/**
 * A fresh, migrated database per test file: a new PostgreSQL database on the test server (so files
 * running in parallel never see each other's rows), or an in-memory PGlite.
 */
export async function createTestDatabase(
  kind: DbKind = 'postgres',
  options: { dimensions?: number; migrate?: boolean; /** A server other than DATABASE_URL's (outage drills). */ baseUrl?: string } = {},
): Promise<TestDatabase> {
  const dimensions = options.dimensions ?? TEST_DIMENSIONS;
  if (kind === 'pglite') {
    const db = await createDatabase({ pgliteDir: 'memory://' });
    if (options.migrate !== false) await migrate(db, { dimensions });
    return { db, url: undefined, cleanup: () => db.close() };
  }
  const baseUrl = options.baseUrl ?? process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('DATABASE_URL is not set: run the tests with `npm run test:all`.');
  const name = `movebot_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const db = await createDatabase({ databaseUrl: url.toString() });
  if (options.migrate !== false) await migrate(db, { dimensions });
  return {
    db,
    url: url.toString(),
    async cleanup() {
      await db.close();
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
