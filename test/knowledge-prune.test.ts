import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnowledgeRepository } from '../db/repositories/knowledge-repository.js';
import { createManualClock, systemClock } from '../src/clock.js';
import { startKnowledgePruning } from '../src/memory/knowledge.js';
import { waitFor } from './fakes/fake-http.js';
import { startSystem, type TestSystem } from './helpers/system.js';

const HOUR = 3600_000;

async function documents(s: TestSystem): Promise<string[]> {
  const { rows } = await s.db.db.query<{ cache_key: string }>('SELECT cache_key FROM knowledge_documents ORDER BY cache_key');
  return rows.map((r) => r.cache_key);
}

async function chunkCount(s: TestSystem): Promise<number> {
  return (await s.db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM knowledge_chunks')).rows[0]!.n;
}

describe('knowledge pruning', () => {
  let s: TestSystem;
  beforeAll(async () => {
    s = await startSystem({ role: 'web' });
  });
  afterAll(() => s?.close());

  it('deletes documents expired past the grace period with their chunks, and keeps the rest', async () => {
    const clock = createManualClock();
    const repo = createKnowledgeRepository(s.db.db, clock);
    const add = (cacheKey: string, expiresAt: Date | null) =>
      repo.indexDocument({
        cacheKey,
        sourceKind: 'brave-search',
        sourceUrl: `https://search.example/${cacheKey}`,
        expiresAt,
        chunks: [{ content: `about ${cacheKey}`, embedding: null }],
      });
    await add('expired-long-ago', new Date(clock.now() - 3 * HOUR));
    await add('expired-just-now', new Date(clock.now() - 60_000));
    await add('fresh', new Date(clock.now() + HOUR));
    await add('guide-without-expiry', null);

    const pruner = startKnowledgePruning({ repo, clock, everyMs: HOUR, graceMs: HOUR });
    await pruner.stop(); // the first run starts at once; stop waits for it
    expect(await documents(s)).toEqual(['expired-just-now', 'fresh', 'guide-without-expiry']);
    expect(await chunkCount(s)).toBe(3);

    clock.advance(2 * HOUR + 60_000);
    expect(await pruner.runOnce()).toBe(2); // now 'expired-just-now' and 'fresh' are past the grace too
    expect(await documents(s)).toEqual(['guide-without-expiry']);
    expect(await chunkCount(s)).toBe(1);
  });

  it('runs in a worker as soon as it starts', async () => {
    const repo = createKnowledgeRepository(s.db.db, systemClock);
    await repo.indexDocument({
      cacheKey: 'stale-city-research',
      sourceKind: 'brave-search',
      sourceUrl: 'https://search.example/stale',
      expiresAt: new Date(Date.now() - 2 * HOUR),
      chunks: [{ content: 'old news', embedding: null }],
    });
    await s.startMore('worker');
    await waitFor(async () => !(await documents(s)).includes('stale-city-research'), {
      what: 'the worker to prune the expired document',
    });
    expect(await documents(s)).toEqual(['guide-without-expiry']);
  });
});
