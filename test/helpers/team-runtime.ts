import { afterAll, beforeAll, beforeEach } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../adapters/server/runtime.js';
import { startTeamFakes, type TeamFakes } from './team-env.js';
import { scriptTeam } from './team-script.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

/** What `useTeamRuntime` gives a test file; each getter throws when read before `beforeAll` ran. */
export interface TeamRuntime {
  /** The OpenAI, Firecrawl and Brave fakes, and the env that points the SDKs at them. */
  readonly fakes: TeamFakes;
  /** This file's own fresh PostgreSQL database. */
  readonly db: TestDatabase;
  /** The runtime wired to the fakes and the database (absent with `runtime: false`). */
  readonly runtime: Runtime;
}

export interface TeamRuntimeOptions {
  /** The role whose config the runtime loads (default 'cli'). */
  role?: 'cli' | 'worker';
  /** False when the file builds its own runtime later (default true). */
  runtime?: boolean;
}

/**
 * Registers the hooks of a test file that drives the whole team: before all, the three outside-service
 * fakes, a fresh PostgreSQL database and a runtime pointed at both; before each test, fakes that have
 * forgotten earlier requests and failures (after the previous test's background work has finished),
 * with the team's happy path scripted again; after all,
 * everything closed and the database dropped. Call it at the top level of the file.
 */
export function useTeamRuntime(options: TeamRuntimeOptions = {}): TeamRuntime {
  let fakes: TeamFakes | undefined;
  let db: TestDatabase | undefined;
  let runtime: Runtime | undefined;

  beforeAll(async () => {
    fakes = await startTeamFakes();
    db = await createTestDatabase('postgres');
    if (options.runtime === false) return;
    const config = loadConfig(options.role ?? 'cli', { ...fakes.env, DATABASE_URL: db.url! });
    runtime = await createRuntime(config, { logger: silentLogger });
  });
  afterAll(async () => {
    await runtime?.close();
    await db?.cleanup();
    await fakes?.close();
  });
  beforeEach(async () => {
    if (!fakes) return;
    // A turn goes on after its answer (memory learning, knowledge indexing); let the previous test's
    // finish first, or its requests would land in this test's fakes.
    await runtime?.conversation.idle();
    await runtime?.cache.idle();
    fakes.openai.reset();
    scriptTeam(fakes.openai);
    fakes.firecrawl.reset();
    fakes.brave.reset();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`useTeamRuntime: ${what} is not ready (read it inside a test or hook)`);
    return value;
  };
  return {
    get fakes() {
      return ready(fakes, 'fakes');
    },
    get db() {
      return ready(db, 'the database');
    },
    get runtime() {
      return ready(runtime, 'the runtime');
    },
  };
}
