import { describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { MIGRATIONS } from '../db/migrations.js';
import { RUN_DURATION_BUCKETS, runTotals } from '../db/repositories/run-stats.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createTestDatabase, TEST_DIMENSIONS } from './helpers/test-db.js';

describe.each(['postgres', 'pglite'] as const)('run totals for /metrics (%s)', (kind) => {
  it('count runs finished before the migration and each run after it exactly once', async () => {
    const t = await createTestDatabase(kind, { migrate: false });
    try {
      await migrate(t.db, { dimensions: TEST_DIMENSIONS, migrations: MIGRATIONS.filter((m) => m.id < 12) });
      const store = createSessionStore(t.db);
      const session = await store.getOrCreateSession({ threadKey: 'slack:T1:C1:1.0', platform: 'slack' });
      const finish = async (result: Parameters<typeof store.finishRun>[1]) => {
        const run = await store.startRun({ sessionId: session.id, input: 'x' });
        await store.finishRun(run.id, result);
        return run.id;
      };
      // Written as the code of that time did (today's repository also writes later columns).
      const old = (id: string, status: string, usage: object, cost: number, error: string | null) =>
        t.db.query(
          `INSERT INTO runs (id, session_id, status, input, usage, cost_usd, error, finished_at)
           VALUES ($1, $2, 'running', 'x', '{}', 0, NULL, NULL)`,
          [id, session.id],
        ).then(() =>
          t.db.query(`UPDATE runs SET status = $2, usage = $3::jsonb, cost_usd = $4, error = $5, finished_at = now() WHERE id = $1`, [
            id,
            status,
            JSON.stringify(usage),
            cost,
            error,
          ]),
        );
      await old('old-1', 'completed', { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, 0.5, null);
      await old('old-2', 'failed', {}, 0, 'llm_timeout: slow');

      await migrate(t.db, { dimensions: TEST_DIMENSIONS });
      const again = await finish({ status: 'completed', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, costUsd: 0.25 });
      // Writing a finished run again (a retried turn) does not count it twice; a running one not at all.
      await store.finishRun(again, { status: 'completed', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, costUsd: 0.25 });
      await store.startRun({ sessionId: session.id, input: 'still going' });

      const totals = await runTotals(t.db);
      const completed = totals.find((r) => r.status === 'completed')!;
      expect(completed).toMatchObject({ source: 'slack', runs: 2, promptTokens: 11, completionTokens: 6 });
      expect(completed.costUsd).toBeCloseTo(0.75, 6);
      // Quick runs fall under every bound: the histogram is cumulative.
      expect(completed.atMost).toEqual(RUN_DURATION_BUCKETS.map(() => 2));
      expect(totals.filter((r) => r.status === 'failed')).toEqual([
        expect.objectContaining({ source: 'slack', code: 'llm_timeout', runs: 1 }),
      ]);
    } finally {
      await t.cleanup();
    }
  });
});
