import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { MIGRATIONS } from '../db/migrations.js';
import { createKnowledgeCache } from '../db/repositories/knowledge-cache.js';
import { createKnowledgeRepository } from '../db/repositories/knowledge-repository.js';
import { createMemoryStore } from '../db/repositories/memory-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createManualClock } from '../src/clock.js';
import { UserProfileSchema } from '../src/team/schemas.js';
import type { SessionStore } from '../src/ports/session-store.js';
import { recommendation } from './helpers/recommendation.js';
import { createTestDatabase, type DbKind, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

const run = promisify(execFile);

describe.each<DbKind>(['postgres', 'pglite'])('repositories on %s', (kind) => {
  let t: TestDatabase;
  let store: SessionStore;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    store = createSessionStore(t.db);
  });
  afterAll(() => t.cleanup());

  it('migrating again applies nothing', async () => {
    expect((await migrate(t.db, { dimensions: TEST_DIMENSIONS })).applied).toEqual([]);
  });

  it('refuses a database created with other embedding dimensions', async () => {
    await expect(migrate(t.db, { dimensions: TEST_DIMENSIONS + 1 })).rejects.toThrow(/EMBEDDING_DIMENSIONS/);
  });

  it('upserts users by platform identity and keeps workspaces apart', async () => {
    const a = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'U1' }, 'Ann');
    const again = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'U1' });
    const other = await store.upsertUser({ platform: 'slack', workspace: 'T2', platformUserId: 'U1' }, 'Ann');
    expect(again.id).toBe(a.id);
    expect(again.displayName).toBe('Ann');
    expect(other.id).not.toBe(a.id);
  });

  it('creates a session once per thread key and keeps messages in order', async () => {
    const s1 = await store.getOrCreateSession({ threadKey: 'slack:T1:C1:1.1', platform: 'slack' });
    const s2 = await store.getOrCreateSession({ threadKey: 'slack:T1:C1:1.1', platform: 'slack' });
    expect(s2.id).toBe(s1.id);
    await store.appendMessage(s1.id, { role: 'user', content: 'Seattle to Austin?' });
    await store.appendMessage(s1.id, { role: 'assistant', content: 'Move.', metadata: { kind: 'answer' } });
    const msgs = await store.listMessages(s1.id);
    expect(msgs.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, 'user', 'Seattle to Austin?'],
      [2, 'assistant', 'Move.'],
    ]);
    expect(msgs[1]?.metadata).toEqual({ kind: 'answer' });
    // Stored JSON has one shape: a field written under another name, or read back with the wrong
    // type, fails loudly instead of being dropped.
    const renamed = { kind: 'answer', reportMarkdown: '# Report' } as unknown as { kind: 'answer' };
    await expect(store.appendMessage(s1.id, { role: 'assistant', content: 'x', metadata: renamed })).rejects.toThrow(/reportMarkdown/);
    await expect(store.updateSession(s1.id, { state: { team: {}, teamState: {} } as never })).rejects.toThrow(/teamState/);
    const broken = await store.getOrCreateSession({ threadKey: 'slack:T1:C1:9.9', platform: 'slack' });
    await store.appendMessage(broken.id, { role: 'assistant', content: 'x', metadata: { kind: 'recommendation' } });
    await t.db.query(`UPDATE messages SET metadata = '{"kind": "recommendation", "report": 42}' WHERE session_id = $1`, [broken.id]);
    await expect(store.listMessages(broken.id)).rejects.toThrow(/report/);
    expect((await store.listMessages(s1.id, { limit: 1 })).map((m) => m.seq)).toEqual([2]);
  });

  it('stores a redelivered platform message and its answer once', async () => {
    const s = await store.getOrCreateSession({ threadKey: `slack:T1:C9:${kind}`, platform: 'slack' });
    const [a, b] = await Promise.all([
      store.appendMessage(s.id, { role: 'user', content: 'hi', externalId: '1700.01' }),
      store.appendMessage(s.id, { role: 'user', content: 'hi', externalId: '1700.01' }),
    ]);
    expect(b.id).toBe(a.id);
    const answer = await store.appendMessage(s.id, { role: 'assistant', content: 'hello', replyTo: a.id });
    const again = await store.appendMessage(s.id, { role: 'assistant', content: 'hello again', replyTo: a.id });
    expect(again.id).toBe(answer.id);
    expect((await store.findReply(a.id))?.content).toBe('hello');
    expect((await store.listMessages(s.id)).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('gives 20 concurrent appends 20 contiguous seqs', async () => {
    const s = await store.getOrCreateSession({ threadKey: `cli:local:${kind}-burst`, platform: 'cli' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.appendMessage(s.id, { role: 'user', content: `m${i}` })),
    );
    expect(results.map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await store.listMessages(s.id)).length).toBe(20);
  });

  it('merges session state, lists with paging and deletes with messages and runs', async () => {
    const user = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId: 'pager' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await store.getOrCreateSession({ threadKey: `api:pager:${i}`, platform: 'api', ownerUserId: user.id });
      ids.push(s.id);
    }
    const cities = { current_city: 'Seattle', desired_city: 'Austin' };
    await store.updateSession(ids[0]!, { state: { team: { cities } }, title: 'Seattle → Austin' });
    await store.updateSession(ids[0]!, { state: { forgotten: { [user.id]: 1 } } });
    const s0 = await store.getSession(ids[0]!);
    expect(s0?.state).toEqual({ team: { cities }, forgotten: { [user.id]: 1 } });
    expect(s0?.title).toBe('Seattle → Austin');

    const page = await store.listSessions({ ownerUserId: user.id, limit: 2, offset: 0 });
    expect(page.total).toBe(3);
    expect(page.sessions).toHaveLength(2);
    expect(page.sessions[0]?.id).toBe(ids[0]); // most recently updated first

    const msg = await store.appendMessage(ids[1]!, { role: 'user', content: 'hi' });
    const runRow = await store.startRun({ sessionId: ids[1]!, userMessageId: msg.id, input: 'hi' });
    await store.finishRun(runRow.id, {
      status: 'completed',
      content: 'hello',
      timings: { total: 12 },
      usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 },
      costUsd: 0.0012,
    });
    const finished = await store.getRun(runRow.id);
    expect(finished).toMatchObject({ status: 'completed', content: 'hello', costUsd: 0.0012 });
    expect(finished?.usage.totalTokens).toBe(7);
    expect(await store.deleteSession(ids[1]!)).toBe(true);
    expect(await store.deleteSession(ids[1]!)).toBe(false);
    expect(await store.listRuns(ids[1]!)).toEqual([]);
    expect(await store.listMessages(ids[1]!)).toEqual([]);
  });

  it("pages a user's memories with the total, newest first, and never another user's", async () => {
    const memories = createMemoryStore(t.db);
    const owner = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId: 'mem-pager' });
    const other = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId: 'mem-other' });
    for (const content of ['Has a dog', 'Works remotely', 'Loves live music']) {
      await memories.add(owner.id, { content, topic: 'profile' });
    }
    await memories.add(other.id, { content: 'Not yours', topic: 'profile' });
    const page = (options: { limit?: number; offset?: number; topic?: string }) =>
      memories.list(owner.id, options).then((r) => ({ total: r.total, contents: r.memories.map((m) => m.content) }));
    expect(await page({ limit: 2 })).toEqual({ total: 3, contents: ['Loves live music', 'Works remotely'] });
    expect(await page({ limit: 2, offset: 2 })).toEqual({ total: 3, contents: ['Has a dog'] });
    expect(await page({ limit: 2, offset: 5 })).toEqual({ total: 3, contents: [] });
    expect(await page({ topic: 'location' })).toEqual({ total: 0, contents: [] });
  });

  it('stores embeddings exactly as float4 and finds them by cosine distance', async () => {
    const memories = createMemoryStore(t.db);
    const knowledge = createKnowledgeRepository(t.db, createManualClock());
    const user = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId: 'vec-owner' });
    const axis = (i: number, scale = 1) => Array.from({ length: TEST_DIMENSIONS }, (_, j) => (j === i ? scale : 0));
    // Values a float4 holds exactly except the last, which it rounds: what reads back is Math.fround.
    const precise = axis(0).map((v, j) => v + j * 0.001 - 1e-7 * (j % 3));
    await memories.add(user.id, { content: 'precise', topic: 'profile', embedding: precise });
    await memories.add(user.id, { content: 'second axis', topic: 'profile', embedding: axis(1, -2.5) });
    const { rows } = await t.db.query<{ embedding: string }>('SELECT embedding::text FROM memories WHERE user_id = $1 AND content = $2', [
      user.id,
      'precise',
    ]);
    expect(JSON.parse(rows[0]!.embedding).map(Math.fround)).toEqual(precise.map(Math.fround));
    const hits = await memories.nearest(user.id, axis(1), 2);
    const norm = Math.hypot(...precise);
    expect(hits.map((h) => h.content)).toEqual(['precise', 'second axis']);
    expect(hits[0]!.distance).toBeCloseTo(1 - precise[1]! / norm, 5);
    expect(hits[1]!.distance).toBeCloseTo(2, 5);
    await knowledge.indexDocument({
      cacheKey: `vec:${kind}`,
      sourceKind: 'document',
      sourceUrl: 'https://example.test/vec',
      chunks: [
        { content: 'about axis two', embedding: axis(2) },
        { content: 'no vector', embedding: null, metadata: { url: 'https://example.test/v#2' } },
        { content: 'about axis three', embedding: axis(3) },
      ],
    });
    const found = await knowledge.search('axis', axis(3, 4), 2);
    expect(found.map((h) => [h.content, h.distance])).toEqual([
      ['about axis three', 0],
      ['about axis two', 1],
    ]);
    expect((await knowledge.search('vector', undefined, 5)).map((h) => h.url)).toEqual(['https://example.test/v#2']);
  });

  it('caches tool results in the knowledge base until they expire', async () => {
    const clock = createManualClock();
    const cache = createKnowledgeCache(t.db, clock);
    await cache.set('https://example.test/a', { figure: 23 }, 1000, { kind: 'nerdwallet', url: 'https://example.test/a' });
    expect(await cache.get('https://example.test/a')).toEqual({ figure: 23 });
    clock.advance(1001);
    expect(await cache.get('https://example.test/a')).toBeUndefined();
  });

  // SessionStore.forgetUserState: "forget everything" for thread state, one statement over all sessions.
  it("forgetUserState drops the user's profile and the recommendation made for them, in every session, and nothing of anyone else's", async () => {
    const ann = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'ann' });
    const bob = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'bob' });
    const session = async (key: string, team?: Record<string, unknown>) => {
      const s = await store.getOrCreateSession({ threadKey: key, platform: 'slack' });
      if (team) await store.updateSession(s.id, { state: { team } });
      return s;
    };
    const profile = (income: number) => UserProfileSchema.parse({ annual_income: income, city_preferences: ['parks'] });
    const cities = { current_city: 'Seattle', desired_city: 'Austin' };
    // Made for Ann; Bob's own later recommendation; Ann only chatted (no team state); Bob alone.
    const mine = await session('t:1', {
      cities,
      profiles: { [ann.id]: profile(150_000), [bob.id]: profile(90_000) },
      last: recommendation({ justification: 'for Ann' }),
      lastFor: ann.id,
    });
    const theirs = await session('t:2', {
      cities,
      profiles: { [ann.id]: profile(150_000), [bob.id]: profile(90_000) },
      last: recommendation({ justification: 'for Bob' }),
      lastFor: bob.id,
    });
    const chatted = await session('t:3');
    await store.appendMessage(chatted.id, { role: 'user', content: 'hi', authorUserId: ann.id });
    await store.appendMessage(chatted.id, { role: 'user', content: 'hello', authorUserId: bob.id });
    const untouched = await session('t:4', { profiles: { [bob.id]: profile(90_000) } });
    const before = (await store.getSession(untouched.id))!;

    expect(await store.forgetUserState(ann.id)).toBe(3);

    const state = async (id: string) => (await store.getSession(id))!.state;
    expect(await state(mine.id)).toEqual({
      team: { cities, profiles: { [bob.id]: profile(90_000) } },
      forgotten: { [ann.id]: 0 },
    });
    expect(await state(theirs.id)).toEqual({
      team: { cities, profiles: { [bob.id]: profile(90_000) }, last: recommendation({ justification: 'for Bob' }), lastFor: bob.id },
      forgotten: { [ann.id]: 0 },
    });
    expect(await state(chatted.id)).toEqual({ forgotten: { [ann.id]: 2 } });
    expect(await store.getSession(untouched.id)).toEqual(before);

    // Forgetting again moves the mark on and keeps the others'.
    await store.forgetUserState(bob.id);
    expect(await state(chatted.id)).toEqual({ forgotten: { [ann.id]: 2, [bob.id]: 2 } });
  });
});

describe('migrations under concurrency', () => {
  it('two processes migrating one fresh database at once both succeed', async () => {
    const t = await createTestDatabase('postgres', { migrate: false });
    try {
      const env = { ...process.env, DATABASE_URL: t.url, EMBEDDING_DIMENSIONS: String(TEST_DIMENSIONS), LOG_LEVEL: 'silent' };
      const migrateOnce = () => run('npx', ['tsx', 'scripts/db-migrate.ts'], { env });
      const [a, b] = await Promise.all([migrateOnce(), migrateOnce()]);
      const outputs = [a.stdout, b.stdout].sort();
      expect(outputs[0]).toMatch(/migrations applied: 1\b/);
      expect(outputs[1]).toMatch(/none \(up to date\)/);
      const { rows } = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations');
      expect(Number(rows[0]?.n)).toBe(MIGRATIONS.length); // each applied exactly once
    } finally {
      await t.cleanup();
    }
  });
});
