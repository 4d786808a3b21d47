import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import { messageText } from './fakes/openai-fake.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
let n = 0;

async function say(text: string, who: { user: string; workspace?: string; platform?: IncomingMessage['platform'] }, threadKey?: string) {
  const turn = await team.runtime.conversation.handle({
    platform: who.platform ?? 'slack',
    workspace: who.workspace ?? 'T1',
    threadKey: threadKey ?? `slack:${who.workspace ?? 'T1'}:C1:${++n}`,
    user: { platformUserId: who.user },
    text,
  });
  await team.runtime.conversation.idle(); // memory learning runs after the answer
  return turn;
}

const memoriesOf = async (user: string, workspace = 'T1') => {
  const u = await team.runtime.store.upsertUser({ platform: 'slack', workspace, platformUserId: user });
  return (await team.runtime.memoryStore.list(u.id)).memories.map((m) => m.content);
};

describe('per-user memory', () => {
  it('learns only from the asking user’s own words', async () => {
    await say('Should I move from Seattle to Austin? I prefer walkable neighbourhoods.', { user: 'ann' });
    expect(await memoriesOf('ann')).toEqual(['You prefer walkable neighbourhoods']);
    const extraction = team.fakes.openai.chatRequests.find((r) => messageText(r.messages[0]?.content).includes('memory keeper'))!;
    const sent = messageText(extraction.messages[1]?.content);
    expect(sent).toContain('I prefer walkable neighbourhoods');
    // Neither the answer, nor scraped pages, nor search results reach the memory keeper.
    expect(sent).not.toMatch(/Move\*\*|NerdWallet|reddit\.com|Confidence/);
  });

  it('updates near-duplicates and replaces a contradicted fact', async () => {
    await say('I live in Seattle and I have a dog', { user: 'bo' });
    await say('We love walkable streets', { user: 'bo' });
    await say('Walkable areas matter to me a lot', { user: 'bo' });
    await say('Actually I live in Denver now', { user: 'bo' });
    const memories = await memoriesOf('bo');
    expect(memories.sort()).toEqual(['You have a dog', 'You live in Denver', 'You prefer walkable neighbourhoods']);
  });

  it('keeps users and workspaces apart, also inside one shared thread', async () => {
    await say('I have a dog and I live in Boston', { user: 'cy' });
    const shared = 'slack:T1:C9:shared';
    await say('Should I move from Chicago to Denver?', { user: 'cy' }, shared);
    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
    await say('Should I move from Chicago to Austin?', { user: 'di' }, shared);
    // None of cy's memories was recalled for di's message (the thread's visible history is shared, memories are not).
    const di = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'di' });
    expect(await team.runtime.memory.recall(di, 'I have a dog, should I move?')).toEqual([]);
    const synthesis = team.fakes.openai.chatRequests.find((r) => messageText(r.messages[0]?.content).includes('Combine the analysts'))!;
    expect(messageText(synthesis.messages[1]?.content)).not.toContain('Remembered facts about the user');
    expect(await memoriesOf('di')).toEqual([]);
    // Same platform user id in another workspace is another person.
    expect(await memoriesOf('cy', 'T2')).toEqual([]);
    const other = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T2', platformUserId: 'cy' });
    expect(await team.runtime.memory.recall(other, 'dog')).toEqual([]);
  });

  it('recalls a memory in a new thread and says it relied on it', async () => {
    await say('I prefer walkable neighbourhoods', { user: 'ed' });
    const turn = await say('Should I move from Seattle to Austin?', { user: 'ed' });
    expect(turn.outcome?.kind).toBe('recommendation');
    if (turn.outcome?.kind !== 'recommendation') return;
    expect(turn.outcome.recommendation.memoriesUsed).toEqual(['You prefer walkable neighbourhoods']);
    expect(turn.reply.content).toContain('You mentioned: "You prefer walkable neighbourhoods"');
    const sentiment = team.fakes.openai.chatRequests.find((r) => messageText(r.messages[0]?.content).startsWith('You are the Sentiment Analyst'))!;
    expect(messageText(sentiment.messages[1]?.content)).toContain('You prefer walkable neighbourhoods');
  });

  it('lists and forgets for real when asked', async () => {
    await say('I live in Phoenix and I have a dog', { user: 'fay' });
    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
    const list = await say('what do you remember about me?', { user: 'fay' });
    expect(list.reply.content).toMatch(/Here is what I remember about you \(2\):\n• /);
    expect(list.reply.content).toContain('You have a dog');
    expect(team.fakes.openai.chatRequests.some((r) => messageText(r.messages[0]?.content).includes('intake step'))).toBe(false);

    const forgot = await say('forget that I have a dog', { user: 'fay' });
    expect(forgot.reply.content).toMatch(/Forgotten:\n• You have a dog/);
    expect(await memoriesOf('fay')).toEqual(['You live in Phoenix']);

    const all = await say('forget everything', { user: 'fay' });
    expect(all.reply.content).toMatch(/forgot everything I knew about you \(1 memory\)/);
    const { rows } = await team.runtime.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM memories m JOIN users u ON u.id = m.user_id WHERE u.platform_user_id = 'fay'`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('falls back to full-text search when embeddings fail', async () => {
    const u = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'gus' });
    await team.runtime.memoryStore.add(u.id, { content: 'You have a dog', topic: 'household' });
    // Newer memories push the dog out of the always-on set, so only a search can bring it back.
    for (let i = 0; i < 10; i++) await team.runtime.memoryStore.add(u.id, { content: `You enjoy hobby number ${i}`, topic: 'preference' });
    team.fakes.openai.failNext(500, { endpoint: 'embeddings', count: 50 });
    const recalled = (await team.runtime.memory.recall(u, 'is a dog welcome in Austin apartments?')).map((m) => m.content);
    expect(recalled).toContain('You have a dog');
    expect(team.fakes.openai.embeddingRequests.length).toBeGreaterThan(0); // it tried, failed, and fell back
    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
  });
});

describe('shared knowledge base', () => {
  it('answers a follow-up from stored search results without a new search or scrape', async () => {
    const thread = 'slack:T1:C7:kb';
    await say('Should I move from Chicago to Denver?', { user: 'hal' }, thread);
    await team.runtime.cache.idle();
    const { rows } = await team.runtime.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
       WHERE d.source_kind = 'brave-search' AND c.embedding IS NOT NULL`,
    );
    expect(Number(rows[0]?.n)).toBeGreaterThan(0);
    const braveBefore = team.fakes.brave.requests.length;
    const scrapesBefore = team.fakes.firecrawl.requests.length;
    // Another conversation's research, worded like the question: not this thread's cities, not offered.
    const elsewhere = 'What did people say about the traffic in Denver? Compared with Miami, Miami traffic is worse';
    await team.runtime.knowledge.indexDocument({
      cacheKey: 'city-research:v1:miami fl',
      sourceKind: 'brave-search',
      sourceUrl: 'https://www.reddit.com/r/Miami/comments/traffic',
      expiresAt: null,
      chunks: [{ content: elsewhere, embedding: (await team.runtime.embedder.embed([elsewhere]))[0]! }],
    });

    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
    const follow = await say('What did people say about the traffic in Denver?', { user: 'hal' }, thread);
    expect(follow.outcome?.kind).toBe('answer');
    expect(team.fakes.brave.requests.length).toBe(braveBefore);
    expect(team.fakes.firecrawl.requests.length).toBe(scrapesBefore);
    const call = team.fakes.openai.chatRequests.find((r) => messageText(r.messages[0]?.content).includes('follow-up question'))!;
    const prompt = messageText(call.messages[1]?.content);
    expect(prompt).toContain('source="knowledge-base"');
    expect(prompt).toMatch(/reddit\.com\/r\//);
    expect(prompt).not.toContain('r/Miami/comments/traffic');
  });
});
