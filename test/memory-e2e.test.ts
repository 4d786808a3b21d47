import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import { messageText } from './fakes/openai-fake.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { startSystem, type TestSystem } from './helpers/system.js';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ platforms: ['slack'], slackStreaming: false });
});
afterAll(async () => {
  await system?.close();
});

/** Posts a mention in a new thread and returns the bot's first finished reply there. */
async function ask(channel: string, user: string, text: string): Promise<string> {
  const slack = system.slack!;
  const mention = slack.mentionEvent({ channel, user, text });
  expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);
  const [reply] = await waitForBotReplies(slack, channel, mention.ts, (r) => r[0] !== undefined && isAnswered(r[0]));
  return shownText(reply);
}

/** The memories stored for a Slack user of workspace T1 (the fake's team). */
async function memoriesOf(user: string): Promise<string[]> {
  const runtime = system.services.runtime!;
  const u = await runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: user });
  return (await runtime.memoryStore.list(u.id)).memories.map((m) => m.content);
}

describe('memory through Slack: mention → queue → worker → answer', () => {
  it('recalls what a user said in one thread when they ask in a new one, and only for them', async () => {
    await ask('CM1', 'UMEM1', 'I prefer walkable neighbourhoods. Should I move from Seattle to Austin?');
    await waitFor(async () => (await memoriesOf('UMEM1')).length > 0, { timeoutMs: 15_000, what: 'the memory to be learned' });
    expect(await memoriesOf('UMEM1')).toEqual(['You prefer walkable neighbourhoods']);

    const later = await ask('CM2', 'UMEM1', 'Should I move from Chicago to Denver?');
    expect(later).toContain('Chicago');
    // In a channel the answer counts the saved details it used and quotes none (src/memory/place.ts).
    expect(later).toContain('Personalised with 1 of your saved detail.');
    expect(later).not.toContain('walkable');
    // The analysts were told, not only the final text.
    const sentiment = system.fakes.openai.chatRequests.filter((r) =>
      messageText(r.messages[0]?.content).startsWith('You are the Sentiment Analyst'),
    );
    expect(messageText(sentiment.at(-1)?.messages[1]?.content)).toContain('You prefer walkable neighbourhoods');

    // Someone else asking the same question sees nothing of UMEM1's memories.
    const other = await ask('CM3', 'UMEM2', 'Should I move from Chicago to Denver?');
    expect(other).toContain('Chicago');
    expect(other).not.toContain('walkable');
    expect(await memoriesOf('UMEM2')).toEqual([]);
  });

  it('lists and forgets memories on request, in the thread of a DM, without running the team', async () => {
    await ask('CM4', 'UMEM3', 'I live in Phoenix and I have a dog. Should I move to Austin?');
    await waitFor(async () => (await memoriesOf('UMEM3')).length === 2, { timeoutMs: 15_000, what: 'two memories to be learned' });
    const intakesBefore = system.fakes.openai.chatRequests.length;

    // In a DM the list shows in the thread (in a channel it goes to the asker alone: memory-privacy.test.ts).
    const listed = await ask('DM5', 'UMEM3', 'what do you remember about me?');
    expect(listed).toContain('Here is what I remember about you (2)');
    expect(listed).toContain('You live in Phoenix');
    expect(listed).toContain('You have a dog');

    const forgot = await ask('DM5', 'UMEM3', 'forget that I have a dog');
    expect(forgot).toContain('Forgotten');
    expect(await memoriesOf('UMEM3')).toEqual(['You live in Phoenix']);

    const all = await ask('DM6', 'UMEM3', 'forget everything');
    expect(all).toMatch(/forgot everything/);
    expect(await memoriesOf('UMEM3')).toEqual([]);
    // Commands are answered directly: no model call at all (the forget lookup only embeds).
    expect(system.fakes.openai.chatRequests.length).toBe(intakesBefore);
  });
});
