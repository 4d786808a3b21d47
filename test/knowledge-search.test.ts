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
 * On PostgreSQL, sessions that avoid sequential scans wherever an index could serve, as a large table
 * would: the search must still find every fresh chunk, and an approximate index (HNSW, used here until
 * migration 30, with a short candidate list) filtered afterwards would visibly lose rows.
 */
async function searchDatabase(kind: DbKind, t: TestDatabase): Promise<Database> {
  if (kind === 'pglite') return t.db;
  const name = new URL(t.url!).pathname.slice(1);
  await t.db.query(`ALTER DATABASE ${name} SET enable_seqscan = off`);
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

  it("keeps what tools fetched to the conversation's cities when asked, and loaded guides always", async () => {
    const t = await createTestDatabase(kind);
    open.push(t);
    const clock = createManualClock();
    const repo = createKnowledgeRepository(await searchDatabase(kind, t), clock);
    const docs = [
      ['city-research:v1:denver co', 'brave-search', 'People say traffic at rush hour is bad in Denver'],
      ['city-research:v1:austin tx', 'brave-search', 'People say traffic at rush hour is bad in Austin'],
      ['https://www.nerdwallet.com/cost-of-living-calculator/compare/boise-id-vs-austinburg-oh', 'nerdwallet', 'Traffic at rush hour costs commuters time'],
      ['file:///guides/moving.md', 'document', 'Traffic at rush hour is the first thing movers mention'],
    ] as const;
    for (const [cacheKey, sourceKind, content] of docs) {
      await repo.indexDocument({ cacheKey, sourceKind, sourceUrl: cacheKey, expiresAt: null, chunks: [{ content, embedding: vector(content) }] });
    }
    const question = 'What do people say about traffic at rush hour?';
    const contents = (hits: { content: string }[]) => hits.map((h) => h.content).sort();
    const expected = [docs[1][2], docs[3][2]].sort();
    for (const embedding of [vector(question), undefined]) {
      expect(contents(await repo.search(question, embedding, 6, { about: ['Austin', 'seattle-wa'] }))).toEqual(expected);
      expect(await repo.search(question, embedding, 6)).toHaveLength(4);
    }
  });

  it('keeps an unchanged chunk as it is when its document is indexed again, and rewrites a changed one', async () => {
    const t = await createTestDatabase(kind);
    open.push(t);
    const clock = createManualClock();
    const repo = createKnowledgeRepository(t.db, clock);
    const doc = (chunks: { content: string; embedding: number[] | null }[]) =>
      repo.indexDocument({
        cacheKey: 'city-research:v1:austin',
        sourceKind: 'brave-search',
        sourceUrl: 'https://search.example/austin',
        expiresAt: new Date(clock.now() + 3_600_000),
        chunks: chunks.map((c) => ({ ...c, metadata: { url: 'https://www.reddit.com/r/Austin/a' } })),
      });
    // xmin changes whenever PostgreSQL writes a new version of the row (and so a new index entry).
    const versions = async () =>
      (
        await t.db.query<{ chunk_index: number; v: string; content: string; has_vector: boolean }>(
          `SELECT chunk_index, xmin::text AS v, content, embedding IS NOT NULL AS has_vector
           FROM knowledge_chunks ORDER BY chunk_index`,
        )
      ).rows;

    await doc([
      { content: 'Traffic is heavy on I-35', embedding: null },
      { content: 'Rent rose 5%', embedding: vector('Rent rose 5%') },
    ]);
    const first = await versions();
    // Same text again, now with a vector for the first chunk and a changed second chunk.
    await doc([
      { content: 'Traffic is heavy on I-35', embedding: vector('Traffic is heavy on I-35') },
      { content: 'Rent fell 2%', embedding: vector('Rent fell 2%') },
    ]);
    const second = await versions();
    expect(second.map((r) => [r.content, r.has_vector])).toEqual([
      ['Traffic is heavy on I-35', true],
      ['Rent fell 2%', true],
    ]);
    expect(second[0]!.v).not.toBe(first[0]!.v);
    // The same two chunks once more: neither row is written.
    await doc([
      { content: 'Traffic is heavy on I-35', embedding: vector('Traffic is heavy on I-35') },
      { content: 'Rent fell 2%', embedding: vector('Rent fell 2%') },
    ]);
    expect((await versions()).map((r) => r.v)).toEqual(second.map((r) => r.v));
    // A shorter version drops the chunk it no longer has.
    await doc([{ content: 'Traffic is heavy on I-35', embedding: vector('Traffic is heavy on I-35') }]);
    expect((await versions()).map((r) => r.content)).toEqual(['Traffic is heavy on I-35']);
  });
});
