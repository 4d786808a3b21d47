import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

// The outage knobs: the whole-turn deadline and the PostgreSQL timeouts and outage wait.
const base = { OPENAI_API_KEY: 'sk-test-123456' };

describe('outage configuration', () => {
  it('has a deadline of a few minutes and bounded database waits by default', () => {
    const config = loadConfig('worker', base);
    expect(config.turnDeadlineMs).toBe(300_000);
    expect(config.dbTimeouts).toEqual({ connectMs: 5_000, statementMs: 15_000, queryMs: 20_000 });
    expect(config.dbOutageWaitMs).toBe(180_000);
  });

  it('reads TURN_DEADLINE_MS and the DB_* variables', () => {
    const config = loadConfig('worker', {
      ...base,
      TURN_DEADLINE_MS: '90000',
      DB_CONNECT_TIMEOUT_MS: '2000',
      DB_STATEMENT_TIMEOUT_MS: '8000',
      DB_QUERY_TIMEOUT_MS: '9000',
      DB_OUTAGE_WAIT_MS: '60000',
    });
    expect(config.turnDeadlineMs).toBe(90_000);
    expect(config.dbTimeouts).toEqual({ connectMs: 2_000, statementMs: 8_000, queryMs: 9_000 });
    expect(config.dbOutageWaitMs).toBe(60_000);
  });

  it('names every wrong one in one message', () => {
    try {
      loadConfig('worker', { ...base, TURN_DEADLINE_MS: 'soon', DB_QUERY_TIMEOUT_MS: '0', DB_OUTAGE_WAIT_MS: '-1' });
      expect.unreachable('a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'DB_OUTAGE_WAIT_MS',
        'DB_QUERY_TIMEOUT_MS',
        'TURN_DEADLINE_MS',
      ]);
    }
  });
});
