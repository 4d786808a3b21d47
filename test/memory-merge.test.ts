import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../db/repositories/memory-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createLlmClient } from '../src/llm/llm-client.js';
import { createEmbedder } from '../src/memory/embedder.js';
import { createMemoryService, type MemoryService } from '../src/memory/memory-service.js';
import type { Message, Session, SessionStore, User } from '../src/ports/session-store.js';
import { type ChatRequest, createOpenAIFake, messageText, type OpenAIFake } from './fakes/openai-fake.js';
import { createTestDatabase, TEST_DIMENSIONS, type TestDatabase } from './helpers/test-db.js';

type Fact = { content: string; topic: string; replaces: number | null };

let t: TestDatabase;
let openai: OpenAIFake;
let sessions: SessionStore;
let memory: MemoryService;
/** What the scripted memory keeper answers for a message containing a key. */
let facts: Record<string, Fact[]> = {};

const keeperInput = (req: ChatRequest) => messageText(req.messages.at(-1)?.content);

beforeAll(async () => {
  t = await createTestDatabase('postgres');
  openai = await createOpenAIFake({ embeddingDimensions: TEST_DIMENSIONS });
  sessions = createSessionStore(t.db);
  memory = createMemoryService({
    store: createMemoryStore(t.db),
    llm: createLlmClient({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-4o-mini', maxRetries: 0 }),
    embedder: createEmbedder({
      client: new OpenAI({ apiKey: 'sk-test', baseURL: openai.baseURL, maxRetries: 0 }),
      model: 'text-embedding-3-small',
      dimensions: TEST_DIMENSIONS,
    }),
  });
});
afterAll(async () => {
  await t?.cleanup();
  await openai?.close();
});
beforeEach(() => {
  openai.reset();
  facts = {};
  openai.route({ system: 'memory keeper' }, (req) => {
    const prompt = keeperInput(req);
    const said = prompt.slice(prompt.indexOf('<untrusted_data')); // the message, not the existing memories
    const key = Object.keys(facts).find((k) => said.includes(k));
    return { json: { facts: key ? facts[key] : [] } };
  });
});

let n = 0;
/** `who` says `text` in a fresh thread; returns what learning needs. */
async function said(who: string, text: string, role: 'user' | 'assistant' = 'user') {
  const user = await sessions.upsertUser({ platform: 'slack', workspace: 'TM', platformUserId: who });
  const session = await sessions.getOrCreateSession({ threadKey: `merge:${++n}`, platform: 'slack', ownerUserId: user.id });
  const message = await sessions.appendMessage(session.id, {
    role,
    content: text,
    authorUserId: role === 'user' ? user.id : null,
  });
  return { user, session, message };
}

async function learn(who: string, text: string): Promise<{ user: User; session: Session; message: Message }> {
  const turn = await said(who, text);
  await memory.learn(turn);
  return turn;
}

const contents = async (user: User) =>
  (await createMemoryStore(t.db).list(user.id)).memories.map((m) => `${m.topic}: ${m.content}`).sort();

describe('learning and merging memories', () => {
  it('keeps several household facts, but a new current city replaces the old one the model points at', async () => {
    facts = {
      'a dog': [{ content: 'You have a dog', topic: 'household', replaces: null }],
      'two kids': [{ content: 'You have two kids', topic: 'household', replaces: null }],
      'in Seattle': [{ content: 'You live in Seattle', topic: 'location', replaces: null }],
      'to Denver': [{ content: 'You live in Denver', topic: 'location', replaces: 1 }],
    };
    await learn('ivy', 'I have a dog');
    await learn('ivy', 'We have two kids');
    await learn('ivy', 'I live in Seattle');
    const { user, message } = await learn('ivy', 'We just moved to Denver');
    const keeper = openai.chatRequests.filter((r) => keeperInput(r).includes('to Denver'))[0]!;
    expect(keeperInput(keeper)).toContain('[1] You live in Seattle');
    expect(await contents(user)).toEqual(['household: You have a dog', 'household: You have two kids', 'location: You live in Denver']);
    // The replaced memory now points at the message it was learned from.
    const denver = (await createMemoryStore(t.db).list(user.id, { topic: 'location' })).memories[0];
    expect(denver?.sourceMessageId).toBe(message.id);
  });

  it('replaces a memory the model says is contradicted, and folds a repeated fact into one', async () => {
    facts = {
      'big cities': [{ content: 'You prefer big cities', topic: 'preference', replaces: null }],
      'small towns': [{ content: 'You prefer small towns', topic: 'preference', replaces: 1 }],
      'work from home': [{ content: 'You work remotely', topic: 'work', replaces: null }],
    };
    await learn('joe', 'I love big cities');
    await learn('joe', 'Honestly I am over it, small towns suit me now');
    // The keeper was shown the existing memories, numbered, to point at.
    const second = openai.chatRequests.filter((r) => keeperInput(r).includes('small towns'))[0]!;
    expect(keeperInput(second)).toContain('[1] You prefer big cities');
    await learn('joe', 'I work from home');
    const { user } = await learn('joe', 'As I said, I work from home');
    expect(await contents(user)).toEqual(['preference: You prefer small towns', 'work: You work remotely']);
  });

  it('keeps two incomes said in one message or in two, and replaces one only where the model points', async () => {
    const own = { content: 'You make $120,000 a year', topic: 'income', replaces: null };
    const partner = { content: 'Your partner makes $80,000 a year', topic: 'income', replaces: null };
    facts = { 'partner makes': [own, partner], 'I make': [own], 'She makes': [partner] };
    const once = await learn('kim', 'I make $120k and my partner makes $80k');
    expect(await contents(once.user)).toEqual(['income: You make $120,000 a year', 'income: Your partner makes $80,000 a year']);
    // Two jobs worded alike enough to be near-duplicates (distance ~0.11): one message meant both.
    const nurse = 'You earn $120,000 a year before tax from your job as a nurse';
    const tutor = 'You earn $30,000 a year before tax from your side job as a tutor';
    facts = { 'on the side': [nurse, tutor].map((content) => ({ content, topic: 'income', replaces: null })) };
    const jobs = await learn('max', 'I earn $120k as a nurse and $30k tutoring on the side');
    expect(await contents(jobs.user)).toEqual([`income: ${nurse}`, `income: ${tutor}`]);

    facts = { 'partner makes': [own, partner], 'I make': [own], 'She makes': [partner] };

    await learn('lou', 'I make $120k');
    const { user } = await learn('lou', 'She makes $80k');
    expect(await contents(user)).toEqual(['income: You make $120,000 a year', 'income: Your partner makes $80,000 a year']);
    // A raise: the keeper points at the number it was shown for the old income (newest first, as listed).
    const listed = (await createMemoryStore(t.db).list(user.id, { limit: 30 })).memories;
    const old = listed.findIndex((m) => m.content.startsWith('You make')) + 1;
    facts = { 'a raise': [{ content: 'You make $150,000 a year', topic: 'income', replaces: old }] };
    await learn('lou', 'I got a raise to $150k');
    expect(await contents(user)).toEqual(['income: You make $150,000 a year', 'income: Your partner makes $80,000 a year']);
  });

  it('reads only the user’s own words, never an assistant message or someone else’s', async () => {
    facts = { 'a cat': [{ content: 'You have a cat', topic: 'household', replaces: null }] };
    const bot = await said('kit', 'Many people who move to Austin have a cat', 'assistant');
    await memory.learn(bot);
    const other = await said('lee', 'I have a cat');
    const kit = await sessions.upsertUser({ platform: 'slack', workspace: 'TM', platformUserId: 'kit' });
    await memory.learn({ ...other, user: kit }); // lee's message offered as if it were kit's
    expect(openai.chatRequests).toHaveLength(0);
    expect(await contents(kit)).toEqual([]);

    await memory.learn(other);
    expect(await contents(other.user)).toEqual(['household: You have a cat']);
    const sent = keeperInput(openai.chatRequests[0]!);
    expect(sent).toContain('I have a cat');
    // The message is framed as data, not as instructions to the keeper.
    expect(sent).toMatch(/<untrusted_data[^>]*>[\s\S]*I have a cat[\s\S]*<\/untrusted_data>/);
  });
});
