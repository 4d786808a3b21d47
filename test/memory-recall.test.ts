import OpenAI from 'openai';
import pgvector from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../db/repositories/memory-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createLlmClient } from '../src/llm/llm-client.js';
import { createEmbedder } from '../src/memory/embedder.js';
import { createMemoryService } from '../src/memory/memory-service.js';
import type { MemoryStore } from '../src/ports/memory-store.js';
import { createOpenAIFake, fakeEmbedding, type OpenAIFake } from './fakes/openai-fake.js';
import { createTestDatabase, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

const USERS = 200;
const PER_USER = 30;

let t: TestDatabase;
let openai: OpenAIFake;
let store: MemoryStore;

beforeAll(async () => {
  t = await createTestDatabase('postgres');
  openai = await createOpenAIFake({ embeddingDimensions: TEST_DIMENSIONS });
  store = createMemoryStore(t.db);
  // 6,000 memories of 200 people. The shared HNSW index is built after the bulk load (far faster than
  // maintaining it row by row), from the migration's own definition.
  const { rows: hnsw } = await t.db.query<{ def: string }>(
    `SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'memories_embedding_idx'`,
  );
  await t.db.query('DROP INDEX memories_embedding_idx');
  await t.db.query(
    `INSERT INTO users (platform, workspace, platform_user_id)
     SELECT 'slack', 'TBIG', 'u' || g FROM generate_series(1, $1::int) g`,
    [USERS],
  );
  await t.db.query(
    `INSERT INTO memories (user_id, content, topic, embedding)
     SELECT u.id, 'Someone else''s fact number ' || g, 'general',
            (SELECT array_agg(random() - 0.5) FROM generate_series(1, $2::int) WHERE g > 0)::vector
     FROM users u, generate_series(1, $1::int) g WHERE u.workspace = 'TBIG'`,
    [PER_USER, TEST_DIMENSIONS],
  );
  await t.db.query(hnsw[0]!.def);
  await t.db.query('ANALYZE memories');
}, 120_000);
afterAll(async () => {
  await t?.cleanup();
  await openai?.close();
});

const userId = async (platformUserId: string, workspace = 'TBIG') =>
  (await createSessionStore(t.db).upsertUser({ platform: 'slack', workspace, platformUserId })).id;

/** The true k nearest of one user's memories, computed here from their stored vectors. */
async function bruteForce(id: string, query: number[], k: number): Promise<string[]> {
  const { rows } = await t.db.query<{ id: string; embedding: string }>(
    'SELECT id, embedding::text FROM memories WHERE user_id = $1',
    [id],
  );
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const cosine = (a: number[], b: number[]) => 1 - a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));
  return rows
    .map((r) => ({ id: String(r.id), d: cosine(pgvector.fromSql(r.embedding) as number[], query) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((r) => r.id);
}

describe('per-user recall among many users', () => {
  it('returns exactly the k nearest of that user’s own memories, never fewer, never someone else’s', async () => {
    for (const who of ['u7', 'u123', 'u199']) {
      const id = await userId(who);
      const query = Array.from({ length: TEST_DIMENSIONS }, () => Math.random() - 0.5);
      const found = await store.nearest(id, query, 5);
      expect(found).toHaveLength(5);
      expect(found.every((m) => m.userId === id)).toBe(true);
      expect(found.map((m) => m.id)).toEqual(await bruteForce(id, query, 5));
      expect(found.map((m) => m.distance)).toEqual([...found.map((m) => m.distance)].sort((a, b) => a - b));
    }
  });

  it('returns all of a user’s memories when they have fewer than k', async () => {
    const id = await userId('few');
    for (const content of ['You have a dog', 'You work remotely', 'You live in Tulsa']) {
      await store.add(id, { content, topic: 'general', embedding: fakeEmbedding(content, TEST_DIMENSIONS) });
    }
    const found = await store.nearest(id, fakeEmbedding('dog', TEST_DIMENSIONS), 5);
    expect(found.map((m) => m.content).sort()).toEqual(['You have a dog', 'You live in Tulsa', 'You work remotely']);
    expect(found[0]?.content).toBe('You have a dog');
  });

  it('recalls the relevant memory for a question, also without any embeddings configured', async () => {
    const id = await userId('kai');
    const user = { id, platform: 'slack', workspace: 'TBIG', platformUserId: 'kai', displayName: null };
    const llm = createLlmClient({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-4o-mini', maxRetries: 0 });
    const embedder = createEmbedder({
      client: new OpenAI({ apiKey: 'sk-test', baseURL: openai.baseURL, maxRetries: 0 }),
      model: 'text-embedding-3-small',
      dimensions: TEST_DIMENSIONS,
    });
    const withVectors = createMemoryService({ store, llm, embedder, k: 3 });
    // The dog is the oldest of eleven memories, so only a relevance search (not the always-on newest) finds it.
    const contents = ['You have a dog', ...Array.from({ length: 10 }, (_, i) => `You enjoy hobby number ${i}`)];
    for (const content of contents) {
      await store.add(id, { content, topic: 'general', embedding: fakeEmbedding(content, TEST_DIMENSIONS) });
    }
    const recalled = await withVectors.recall(user, 'is a dog welcome in Austin apartments?');
    expect(recalled.map((m) => m.content)).toContain('You have a dog');
    expect(recalled.every((m) => !m.content.startsWith('Someone else'))).toBe(true);

    const before = openai.embeddingRequests.length;
    const withoutVectors = createMemoryService({ store, llm });
    const textOnly = await withoutVectors.recall(user, 'is a dog welcome in Austin apartments?');
    expect(textOnly.map((m) => m.content)).toContain('You have a dog');
    expect(openai.embeddingRequests.length).toBe(before);
  });
});
