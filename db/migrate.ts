import { MovebotError } from '../src/errors.js';
import type { Database } from './database.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Any constant works; it only has to be the same in every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_777_001;

export interface MigrateResult {
  applied: number[];
}

/**
 * Brings the schema up to date. Idempotent and safe when several processes start at once: the
 * transaction-scoped advisory lock makes the second wait, then find nothing left to do.
 */
export async function migrate(
  db: Database,
  options: { dimensions: number; migrations?: Migration[] },
): Promise<MigrateResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = new Set(
        (await tx.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => Number(r.id)),
      );
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
        if (done.has(m.id)) continue;
        await tx.query(m.sql({ dimensions: options.dimensions }));
        await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        applied.push(m.id);
      }
      await checkDimensions(tx, options.dimensions);
      return { applied };
      // Unbounded: building an index may take minutes, and so may waiting for another process's migration.
    }, { unbounded: true });
  } catch (err) {
    if (err instanceof MovebotError && err.code === 'config_invalid') throw err;
    throw new MovebotError('migration_failed', `database migration failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function checkDimensions(tx: Pick<Database, 'query'>, dimensions: number): Promise<void> {
  const row = (
    await tx.query<{ value: string }>("SELECT value FROM schema_settings WHERE key = 'embedding_dimensions'")
  ).rows[0];
  if (row && Number(row.value) !== dimensions) {
    throw new MovebotError(
      'config_invalid',
      `EMBEDDING_DIMENSIONS is ${dimensions} but this database was created with ${row.value}; ` +
        'use the original value or a new database.',
    );
  }
}
