import pg from 'pg';

/** A throwaway database on the benchmark's PostgreSQL server. */
export interface BenchDatabase {
  /** Its connection URL (the server URL with the new database's name). */
  url: string;
  /** Drops it, closing whatever still holds connections to it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database `<prefix>_<timestamp>` next to the one `serverUrl` names: a fresh
 * database per run keeps caches cold, so every run scrapes and searches.
 */
export async function createBenchDatabase(serverUrl: string, prefix: string): Promise<BenchDatabase> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `${prefix}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
