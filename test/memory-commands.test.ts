import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandText } from '../adapters/discord/commands.js';
import { createMemoryStore } from '../db/repositories/memory-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createLlmClient } from '../src/llm/llm-client.js';
import { createEmbedder } from '../src/memory/embedder.js';
import { isForgetEverything } from '../src/memory/forget.js';
import { createMemoryService, type MemoryService } from '../src/memory/memory-service.js';
import type { MemoryStore } from '../src/ports/memory-store.js';
import type { User } from '../src/ports/session-store.js';
import { createOpenAIFake, fakeEmbedding, type OpenAIFake } from './fakes/openai-fake.js';
import { createTestDatabase, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

let t: TestDatabase;
let openai: OpenAIFake;
let store: MemoryStore;
/** With the fake's embeddings, and without any embedder (the full-text fallback). */
let withVectors: MemoryService;
let withoutVectors: MemoryService;

beforeAll(async () => {
  t = await createTestDatabase('postgres');
  openai = await createOpenAIFake({ embeddingDimensions: TEST_DIMENSIONS });
  store = createMemoryStore(t.db);
  const llm = createLlmClient({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-4o-mini', maxRetries: 0 });
  const embedder = createEmbedder({
    client: new OpenAI({ apiKey: 'sk-test', baseURL: openai.baseURL, maxRetries: 0 }),
    model: 'text-embedding-3-small',
    dimensions: TEST_DIMENSIONS,
  });
  withVectors = createMemoryService({ store, llm, embedder, k: 3 });
  withoutVectors = createMemoryService({ store, llm });
});
afterAll(async () => {
  await t?.cleanup();
  await openai?.close();
});

/** A user holding these memories; those listed in `unembedded` are stored without a vector. */
async function userWith(who: string, contents: string[], unembedded: string[] = []): Promise<User> {
  const user = await createSessionStore(t.db).upsertUser({ platform: 'slack', workspace: 'TC', platformUserId: who });
  for (const content of [...contents, ...unembedded]) {
    const embedding = unembedded.includes(content) ? null : fakeEmbedding(content, TEST_DIMENSIONS);
    await store.add(user.id, { content, topic: 'general', embedding });
  }
  return user;
}

const memoriesOf = async (user: User) => (await store.list(user.id)).memories.map((m) => m.content).sort();

describe('memory commands', () => {
  it('answers a message that merely starts with "forget" instead of deleting anything', async () => {
    const user = await userWith('ada', ['You live in Austin', 'You have a dog', 'You prefer Austin over Denver']);
    for (const text of [
      'Forget Austin, what about Denver?',
      'forget about Austin, is Denver cheaper?',
      'Forget all that, what about Denver?',
      'forget everything I said and compare Austin with Denver',
      'Forget it. Should I move from Seattle to Denver',
      'forget that I live in Austin. Should I move to Denver',
      'forget that I have a dog, what about Denver?',
      'Memories of Austin keep pulling me back, should I go?',
    ]) {
      expect(await withVectors.command(user, text), text).toBeUndefined();
      expect(isForgetEverything(text), text).toBe(false);
    }
    expect(await memoriesOf(user)).toEqual(['You have a dog', 'You live in Austin', 'You prefer Austin over Denver']);
    expect(await withVectors.command(user, 'what do you remember about me?')).toMatch(/^Here is what I remember about you \(3\):/);
  });

  it('forgets one memory when asked in any of its forms, Discord’s /forget included', async () => {
    const user = await userWith('bea', ['You have a dog', 'Your budget is $2,000 a month', 'You live in Seattle', 'You work remotely']);
    const discord = commandText('forget', { getString: () => ' I have a dog ' })!;
    expect(await withVectors.command(user, discord)).toBe('Forgotten:\n• You have a dog');
    expect(await withVectors.command(user, 'forget about my budget.')).toBe('Forgotten:\n• Your budget is $2,000 a month');
    expect(await withVectors.command(user, '<@U1> please forget what I said about Seattle')).toBe('Forgotten:\n• You live in Seattle');
    expect(await memoriesOf(user)).toEqual(['You work remotely']);
  });

  it('forgets everything only when that is the whole message', async () => {
    for (const text of ['forget everything', 'Forget all.', 'forget me', commandText('forget', { getString: () => 'everything' })!]) {
      const user = await userWith(`cat-${text}`, ['You have a dog', 'You work remotely']);
      expect(await withVectors.command(user, text), text).toMatch(/forgot everything I knew about you \(2 memories\)/);
      // The conversation service reads it the same way, to drop the user's profile from thread state too.
      expect(isForgetEverything(text), text).toBe(true);
      expect(await memoriesOf(user)).toEqual([]);
    }
  });

  it('without embeddings forgets only a memory holding every word named, not any memory sharing one', async () => {
    const user = await userWith('dan', ['You live in Seattle', 'You live near a park', 'You work in Seattle']);
    expect(await withoutVectors.command(user, 'forget that I live in Seattle')).toBe('Forgotten:\n• You live in Seattle');
    expect(await memoriesOf(user)).toEqual(['You live near a park', 'You work in Seattle']);
    expect(await withoutVectors.command(user, 'forget that I live in Portland')).toMatch(/^I couldn't find a memory/);
    expect(await memoriesOf(user)).toEqual(['You live near a park', 'You work in Seattle']);
  });

  it('forgets a memory stored without a vector while embeddings work', async () => {
    const user = await userWith('eve', ['You have a dog', 'You work remotely'], ['You own a sailboat in the harbour']);
    expect(await withVectors.command(user, 'forget that I own a sailboat')).toBe('Forgotten:\n• You own a sailboat in the harbour');
    expect(await memoriesOf(user)).toEqual(['You have a dog', 'You work remotely']);
  });
});

describe('full-text search', () => {
  it('matches any word for recall and every word for forget', async () => {
    const user = await userWith('fox', [], ['You live in Seattle', 'You live near a park', 'You work in Seattle']);
    const any = await store.searchText(user.id, 'I live in Seattle', 5);
    expect(any.map((m) => m.content)[0]).toBe('You live in Seattle'); // ranked first: it has both words
    expect(any).toHaveLength(3);
    const all = await store.searchText(user.id, 'I live in Seattle', 5, { match: 'all' });
    expect(all.map((m) => m.content)).toEqual(['You live in Seattle']);
  });
});

describe('recall', () => {
  it('still finds an older memory stored without a vector while embeddings work', async () => {
    // The dog is the oldest of eleven, past the always-on newest: only a search can bring it back.
    const hobbies = Array.from({ length: 10 }, (_, i) => `You enjoy hobby number ${i}`);
    const user = await userWith('gil', [], ['You have a dog']);
    for (const content of hobbies) await store.add(user.id, { content, topic: 'preference', embedding: fakeEmbedding(content, TEST_DIMENSIONS) });
    const before = openai.embeddingRequests.length;
    const recalled = (await withVectors.recall(user, 'is a dog welcome in Austin apartments?')).map((m) => m.content);
    expect(openai.embeddingRequests.length).toBe(before + 1); // the vector path, not the fallback
    expect(recalled).toContain('You have a dog');
  });
});
