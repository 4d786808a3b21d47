import { Redis } from 'ioredis';
import pg from 'pg';

const HOW_TO_RUN =
  'run `npm run test:all`, which starts PostgreSQL and Redis, or set DATABASE_URL/REDIS_URL ' +
  '(or wrap one run: `bash scripts/test-services.sh npx vitest run test/<file>`)';

/**
 * Vitest globalSetup: the suite runs against real PostgreSQL (+ pgvector) and Redis, so stop at once
 * with one clear message when they are not configured or not reachable, instead of every test file
 * failing on its own connection error.
 */
export default async function setup(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  const missing = [!databaseUrl && 'DATABASE_URL', !redisUrl && 'REDIS_URL'].filter(Boolean);
  if (!databaseUrl || !redisUrl) {
    throw new Error(`The tests need ${missing.join(' and ')}: ${HOW_TO_RUN}.`);
  }
  await checkPostgres(databaseUrl);
  await checkRedis(redisUrl);
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL at DATABASE_URL (${redact(url)}) is not reachable: ${describe(err)}. To start one: ${HOW_TO_RUN}.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<void> {
  // No reconnect loop: one failed attempt is the answer.
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed."; the cause (ECONNREFUSED, auth…) arrives as an event.
  let lastError: unknown;
  redis.on('error', (err) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis at REDIS_URL (${redact(url)}) is not reachable: ${describe(lastError ?? err)}. To start one: ${HOW_TO_RUN}.`,
    );
  } finally {
    redis.disconnect();
  }
}

/** The URL without its password, which must not reach the test output. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  const message = err instanceof Error ? err.message || err.name : String(err);
  return message.replace(/\.$/, '');
}
