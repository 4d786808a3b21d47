import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../db/database.js';
import { createKnowledgeRepository } from '../db/repositories/knowledge-repository.js';
import { createManualClock } from '../src/clock.js';
import { fakeEmbedding } from './fakes/openai-fake.js';
import { createTestDatabase, type DbKind, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

const open: TestDatabase[] = [];
const extra: Database[] = [];
afterAll(async () => {
  for (const db of extra) await db.close();
  for (const t of open) await t.cleanup();
});

/**
 * On PostgreSQL, sessions that must use the HNSW index with a short candidate list (ef_search 10),
 * as a large table would: then a filter applied after the index scan visibly loses rows.
 */
async function searchDatabase(kind: DbKind, t: TestDatabase): Promise<Database> {
  if (kind === 'pglite') return t.db;
  const name = new URL(t.url!).pathname.slice(1);
  await t.db.query(`ALTER DATABASE ${name} SET enable_seqscan = off`);
  await t.db.query(`ALTER DATABASE ${name} SET hnsw.ef_search = 10`);
  const db = await createDatabase({ databaseUrl: t.url });
  extra.push(db);
  return db;
}

const vector = (text: string) => fakeEmbedding(text, TEST_DIMENSIONS);

describe.each<DbKind>(['postgres', 'pglite'])('shared knowledge search on %s', (kind) => {
  it('finds fresh chunks by similarity, never expired ones however close, and by words without a vector', async () => {
    const t = await createTestDatabase(kind);
    open.push(t);
    const clock = createManualClock();
    const now = clock.now();
    const repo = createKnowledgeRepository(await searchDatabase(kind, t), clock);
    const question = 'How bad is traffic in Austin?';

    // Twenty expired documents closer to the question than anything else (they repeat it, each a little differently)…
    for (let i = 0; i < 20; i++) {
      await repo.indexDocument({
        cacheKey: `old-${i}`,
        sourceKind: 'brave-search',
        sourceUrl: `https://www.reddit.com/r/Austin/old${i}`,
        expiresAt: new Date(now - 1_000),
        chunks: [{ content: `${question} (${i})`, embedding: vector(`${question} (${i})`) }],
      });
    }
    // …and two fresh ones that are only related.
    const fresh = [
      ['https://www.reddit.com/r/Austin/new1', 'People in Austin complain about traffic and long commutes'],
      ['https://www.reddit.com/r/Austin/new2', 'Austin rent went up again this year'],
    ] as const;
    for (const [url, content] of fresh) {
      await repo.indexDocument({
        cacheKey: url,
        sourceKind: 'brave-search',
        sourceUrl: url,
        expiresAt: new Date(now + 3_600_000),
        chunks: [{ content, embedding: vector(content) }],
      });
    }

    const hits = await repo.search(question, vector(question), 3);
    expect(hits.map((h) => h.url)).toEqual(['https://www.reddit.com/r/Austin/new1', 'https://www.reddit.com/r/Austin/new2']);
    expect(hits[0]!.distance!).toBeLessThan(hits[1]!.distance!);

    const byWords = await repo.search(question, undefined, 3);
    expect(byWords.map((h) => h.url)).toEqual(['https://www.reddit.com/r/Austin/new1', 'https://www.reddit.com/r/Austin/new2']);

    // Once the fresh ones expire too, nothing is offered as current knowledge.
    clock.advance(7_200_000);
    expect(await repo.search('traffic', vector('traffic'), 3)).toEqual([]);
  });
});
