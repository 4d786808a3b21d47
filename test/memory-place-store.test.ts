import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../db/repositories/memory-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createLlmClient } from '../src/llm/llm-client.js';
import { createMemoryService } from '../src/memory/memory-service.js';
import type { MemoryStore } from '../src/ports/memory-store.js';
import type { SessionStore, User } from '../src/ports/session-store.js';
import { createOpenAIFake, fakeEmbedding, type OpenAIFake } from './fakes/openai-fake.js';
import { createTestDatabase, type DbKind, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

/*
 * Where each memory was learned (migration 16), as the store keeps it and filters on it, and as the
 * memory service recalls and learns by it (rules: src/memory/place.ts).
 */
describe.each<DbKind>(['postgres', 'pglite'])('memories by place on %s', (kind) => {
  let t: TestDatabase;
  let sessions: SessionStore;
  let store: MemoryStore;
  let user: User;
  const vec = (text: string) => fakeEmbedding(text, TEST_DIMENSIONS);

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    sessions = createSessionStore(t.db);
    store = createMemoryStore(t.db);
    user = await sessions.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: `place-${kind}` });
    await store.add(user.id, { content: 'You earn $240,000 a year', topic: 'income', embedding: vec('earn income'), learnedPlatform: 'slack', learnedPlace: 'dm' });
    await store.add(user.id, { content: 'You work at a startup', topic: 'work', embedding: vec('work startup'), learnedPlatform: 'slack', learnedPlace: 'private' });
    await store.add(user.id, { content: 'You have a dog', topic: 'household', embedding: vec('dog'), learnedPlatform: 'slack', learnedPlace: 'public' });
    // As the HTTP API adds one: no place given.
    await store.add(user.id, { content: 'You love the sea', topic: 'preference' });
  });
  afterAll(() => t.cleanup());

  const contents = (ms: Array<{ content: string }>) => ms.map((m) => m.content).sort();

  it('keeps the place and platform, and counts a memory of unknown origin as learned in a DM', async () => {
    const { memories } = await store.list(user.id);
    expect(memories.map((m) => [m.content, m.learnedPlace, m.learnedPlatform]).sort()).toEqual([
      ['You earn $240,000 a year', 'dm', 'slack'],
      ['You have a dog', 'public', 'slack'],
      ['You love the sea', 'dm', null],
      ['You work at a startup', 'private', 'slack'],
    ]);
  });

  it('lists, finds nearest and searches only the places asked for', async () => {
    expect(contents((await store.list(user.id, { places: ['public'] })).memories)).toEqual(['You have a dog']);
    expect((await store.list(user.id, { places: ['public', 'private'] })).total).toBe(2);
    expect(contents(await store.nearest(user.id, vec('earn income'), 5, { places: ['public'] }))).toEqual(['You have a dog']);
    expect(contents(await store.nearest(user.id, vec('earn income'), 5))).toHaveLength(3);
    expect(await store.searchText(user.id, 'what do I earn', 5, { places: ['public', 'private'] })).toEqual([]);
    expect(contents(await store.searchText(user.id, 'what do I earn', 5))).toEqual(['You earn $240,000 a year']);
  });

  it('moves a memory to the place its new wording came from', async () => {
    const [dog] = (await store.list(user.id, { places: ['public'] })).memories;
    expect(await store.update(user.id, dog!.id, { content: 'You have two dogs', learnedPlatform: 'discord', learnedPlace: 'dm' })).toBe(true);
    expect(await store.get(user.id, dog!.id)).toMatchObject({ content: 'You have two dogs', learnedPlace: 'dm', learnedPlatform: 'discord' });
    // Not named: kept as it was.
    expect(await store.update(user.id, dog!.id, { content: 'You have two big dogs' })).toBe(true);
    expect(await store.get(user.id, dog!.id)).toMatchObject({ learnedPlace: 'dm', learnedPlatform: 'discord' });
  });
});

describe('the memory service by place', () => {
  let t: TestDatabase;
  let openai: OpenAIFake;
  let sessions: SessionStore;
  let store: MemoryStore;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    openai = await createOpenAIFake({ embeddingDimensions: TEST_DIMENSIONS });
    sessions = createSessionStore(t.db);
    store = createMemoryStore(t.db);
  });
  afterAll(async () => {
    await t?.cleanup();
    await openai?.close();
  });

  const service = () =>
    createMemoryService({ store, llm: createLlmClient({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-4o-mini', maxRetries: 0 }) });

  it('recalls in each place only what was learned in places at least as public', async () => {
    const user = await sessions.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'recaller' });
    await store.add(user.id, { content: 'You earn $240,000 a year', topic: 'income', learnedPlace: 'dm' });
    await store.add(user.id, { content: 'You work at a startup', topic: 'work', learnedPlace: 'private' });
    await store.add(user.id, { content: 'You have a dog', topic: 'household', learnedPlace: 'public' });
    const recalled = async (place?: 'dm' | 'private' | 'public') => contents(await service().recall(user, 'should I move?', place));
    expect(await recalled('public')).toEqual(['You have a dog']);
    expect(await recalled('private')).toEqual(['You have a dog', 'You work at a startup']);
    expect(await recalled('dm')).toHaveLength(3);
    expect(await recalled()).toHaveLength(3);
  });

  it('learns with the place of the message, and shows the memory keeper only what that place may use', async () => {
    const user = await sessions.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'learner' });
    await store.add(user.id, { content: 'You earn $240,000 a year', topic: 'income', learnedPlace: 'dm' });
    openai.reset();
    openai.route({ system: 'memory keeper' }, { json: { facts: [{ content: 'You cycle to work', topic: 'preference', replaces: null }] } });
    const session = await sessions.getOrCreateSession({ threadKey: 'slack:T1:C77:1.1', platform: 'slack', ownerUserId: user.id });
    const message = await sessions.appendMessage(session.id, { role: 'user', content: 'I cycle to work every day', authorUserId: user.id });
    await service().learn({ user, message, session });
    const keeper = openai.chatRequests.find((r) => r.system.includes('memory keeper'))!;
    expect(keeper.text).not.toContain('240,000');
    const learned = (await store.list(user.id)).memories.find((m) => m.content === 'You cycle to work');
    expect(learned).toMatchObject({ learnedPlace: 'public', learnedPlatform: 'slack' });
  });

  const contents = (ms: Array<{ content: string }>) => ms.map((m) => m.content).sort();
});
