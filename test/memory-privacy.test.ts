import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscordUser, MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import type { ChatRequest } from './fakes/openai-fake.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { DISCORD_CHANNEL, DISCORD_GUILD, startSystem, type TestSystem } from './helpers/system.js';
import { scriptTeam } from './helpers/team-script.js';

/*
 * Drills at the wire for "memory is private by place" (issue 12, item 1; rules in src/memory/place.ts):
 * the real web and worker roles, PostgreSQL and Redis, with fakes for Slack, Discord and OpenAI. A
 * person tells the bot their income and a divorce in a DM; nothing of it may reach a channel, not the
 * answer, not its report, not even the model's requests for a channel turn.
 */

const INCOME = 'You earn $240,000 a year';
const DIVORCE = 'You are going through a divorce';
const WALKABLE = 'You prefer walkable neighbourhoods';
const DM_FACTS = /240,?000|divorce/i;
const QUESTION = 'Should I move from Seattle to Austin?';

/** The memory keeper also notices income and a divorce (the scripted team knows a few other phrasings). */
function scriptModel(system: TestSystem): void {
  const openai = system.fakes.openai;
  openai.reset();
  openai.route({ system: 'memory keeper' }, (req) => {
    const said = req.lastUser.slice(req.lastUser.indexOf('<untrusted_data'));
    const facts = [];
    if (said.includes('$240,000')) facts.push({ content: INCOME, topic: 'income', replaces: null });
    if (/divorce/i.test(said)) facts.push({ content: DIVORCE, topic: 'household', replaces: null });
    return facts.length ? { json: { facts } } : undefined; // else the scripted keeper
  });
  scriptTeam(openai);
}

/** What was sent to the model since request number `from`: every message's text. */
const sentSince = (system: TestSystem, from: number): ChatRequest[] => system.fakes.openai.chatRequests.slice(from);

describe('Slack: memory is private by place', () => {
  let system: TestSystem;
  beforeAll(async () => {
    // One person says a lot here within a minute: the per-user turn limit is not what this drills.
    system = await startSystem({ platforms: ['slack'], env: { LIMIT_TURNS_PER_MINUTE: '0' } });
    scriptModel(system);
  });
  afterAll(async () => {
    await system?.close();
  });

  const slack = () => system.slack!;
  const bot = (channel: string, rootTs: string) => slack().threadMessages(channel, rootTs).filter((m) => m.user === slack().botUserId);
  type Element = { type?: string; action_id?: string; value?: string; text?: { text?: string } };
  const elements = (m: SlackFakeMessage | undefined): Element[] =>
    ((m?.blocks ?? []) as Array<{ elements?: Element[] }>).flatMap((b) => b.elements ?? []);
  const answered = (channel: string, rootTs: string) =>
    waitFor(() => bot(channel, rootTs).find((m) => m.streaming === false && elements(m).some((e) => e.type === 'feedback_buttons')), {
      timeoutMs: 30_000,
      what: `the answer in ${channel}`,
    });
  const report = (channel: string, rootTs: string) =>
    waitFor(() => slack().filesInThread(channel, rootTs).find((f) => f.completed && f.content.length > 0), { what: `the report in ${channel}` });
  /** Every text chunk the bot streamed into a thread (chat.startStream / appendStream / stopStream). */
  const streamed = (channel: string) =>
    ['chat.startStream', 'chat.appendStream', 'chat.stopStream']
      .flatMap((method) => slack().callsTo(method))
      .filter((c) => c.args.channel === channel)
      .map((c) => JSON.stringify(c.args))
      .join('\n');
  const memoriesOf = async (user: string) => {
    const { store, memoryStore } = system.services.runtime;
    const u = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: user });
    return (await memoryStore.list(u.id)).memories.map((m) => ({ content: m.content, place: m.learnedPlace, platform: m.learnedPlatform }));
  };
  const mention = async (channel: string, user: string, text: string, threadTs?: string) => {
    const event = slack().mentionEvent({ channel, user, text, ...(threadTs && { threadTs }) });
    expect((await slack().sendEvent(system.slackEventsUrl, event)).status).toBe(200);
    return event.ts;
  };
  const click = (user: string, channel: string, messageTs: string, actionId: string) =>
    slack().sendInteraction(system.slackEventsUrl, slack().blockActionPayload({ user, channel, messageTs, actionId, value: actionId }));

  it('drill 1: what Ana tells the bot in a DM is stored as learned in a DM', async () => {
    const dm = slack().messageEvent({
      channel: 'DANA',
      user: 'UANA',
      text: "I earn $240,000 a year and I'm going through a divorce.",
      channelType: 'im',
    });
    await slack().sendEvent(system.slackEventsUrl, dm);
    const learned = await waitFor(async () => ((await memoriesOf('UANA')).length === 2 ? memoriesOf('UANA') : undefined), {
      timeoutMs: 20_000,
      what: 'the DM memories',
    });
    expect(learned).toEqual(
      expect.arrayContaining([
        { content: INCOME, place: 'dm', platform: 'slack' },
        { content: DIVORCE, place: 'dm', platform: 'slack' },
      ]),
    );
  });

  let walkableRoot: string;
  it('drill 1: asked in #general, the answer, its stream, its report and the model requests carry nothing of the DM', async () => {
    const before = system.fakes.openai.chatRequests.length;
    walkableRoot = await mention('CGEN1', 'UANA', `I prefer walkable neighbourhoods. ${QUESTION}`);
    const answer = await answered('CGEN1', walkableRoot);
    const file = await report('CGEN1', walkableRoot);
    // Learned from this public message: a public memory, for the next drill.
    await waitFor(async () => (await memoriesOf('UANA')).some((m) => m.content === WALKABLE), { timeoutMs: 20_000, what: 'the public memory' });
    expect((await memoriesOf('UANA')).find((m) => m.content === WALKABLE)).toEqual({ content: WALKABLE, place: 'public', platform: 'slack' });

    const shown = [answer.text, JSON.stringify(answer.blocks), streamed('CGEN1'), file.content.toString('utf8')].join('\n');
    expect(shown).toContain('Seattle, WA → Austin, TX');
    expect(shown).not.toMatch(DM_FACTS);
    // No memory learned in a DM was recalled here, so none was used and none is counted.
    expect(shown).not.toMatch(/saved detail|You mentioned/);
    const sent = sentSince(system, before);
    expect(sent.some((r) => r.system.includes('Combine the analysts'))).toBe(true);
    // Not even the model heard of them: neither the analysts nor the memory keeper of this message.
    for (const r of sent) expect(r.text, r.system.slice(0, 60)).not.toMatch(DM_FACTS);
  });

  let answer: SlackFakeMessage;
  let root: string;
  it('drill 2: an answer in a channel counts the saved details it used, with "Which ones?", and quotes none', async () => {
    const before = system.fakes.openai.chatRequests.length;
    root = await mention('CGEN2', 'UANA', QUESTION);
    answer = await answered('CGEN2', root);
    const file = await report('CGEN2', root);
    const shown = [answer.text, JSON.stringify(answer.blocks), streamed('CGEN2'), file.content.toString('utf8')].join('\n');
    expect(JSON.stringify(answer.blocks)).toContain('Personalised with 1 of your saved detail.');
    expect(file.content.toString('utf8')).toContain('Personalised with 1 of your saved detail.');
    expect(elements(answer).find((e) => e.text?.text === 'Which ones?')?.action_id).toMatch(/^mb:mem:/);
    expect(shown).not.toMatch(DM_FACTS);
    expect(shown).not.toContain(WALKABLE);
    // The public memory shaped the answer; the DM ones did not reach the model.
    const sent = sentSince(system, before);
    expect(sent.some((r) => r.text.includes(WALKABLE))).toBe(true);
    for (const r of sent) expect(r.text).not.toMatch(DM_FACTS);
  });

  it('drill 2: "Which ones?" lists them to the asker alone; anyone else is told only the asker can see them', async () => {
    const which = elements(answer).find((e) => e.text?.text === 'Which ones?')!;
    const posts = () => slack().callsTo('chat.postMessage').filter((c) => c.args.channel === 'CGEN2').length;
    const postsBefore = posts();
    expect((await click('UANA', 'CGEN2', answer.ts, which.action_id!)).status).toBe(200);
    expect((await click('UBEN', 'CGEN2', answer.ts, which.action_id!)).status).toBe(200);
    const toAna = await waitFor(() => slack().ephemerals.find((e) => e.user === 'UANA' && e.channel === 'CGEN2'), { what: 'the list for Ana' });
    const toBen = await waitFor(() => slack().ephemerals.find((e) => e.user === 'UBEN' && e.channel === 'CGEN2'), { what: 'the note for Ben' });
    expect(toAna.text).toContain(WALKABLE);
    expect(toAna.threadTs).toBe(root);
    expect(toBen.text).toBe('Only the person who asked can see which saved details were used.');
    expect(slack().ephemerals.filter((e) => e.user === 'UBEN').map((e) => e.text).join()).not.toContain('walkable');
    expect(posts()).toBe(postsBefore);
  });

  it('drill 3: "what do you remember about me?" in a channel is answered to the asker alone, and is not read back into the thread', async () => {
    const callsBefore = slack().allCalls.length;
    const listed = await mention('CGEN3', 'UANA', 'what do you remember about me?');
    const reply = await waitFor(() => slack().ephemerals.find((e) => e.user === 'UANA' && e.channel === 'CGEN3'), {
      timeoutMs: 20_000,
      what: 'the private list',
    });
    // Hers to see: everything, the DM's facts too.
    expect(reply.text).toContain('Here is what I remember about you (3)');
    expect(reply.text).toContain(INCOME);
    expect(reply.threadTs).toBe(listed);
    // Nothing in the thread: no placeholder, no stream, no message.
    expect(bot('CGEN3', listed)).toEqual([]);
    const inThread = slack()
      .allCalls.slice(callsBefore)
      .filter((c) => c.args.channel === 'CGEN3' && c.method !== 'chat.postEphemeral');
    expect(inThread.map((c) => c.method)).toEqual([]);

    // Asked on in the same thread: the list shown to her alone does not reach the model.
    const before = system.fakes.openai.chatRequests.length;
    await mention('CGEN3', 'UANA', QUESTION, listed);
    const next = await answered('CGEN3', listed);
    expect(JSON.stringify(next.blocks)).not.toMatch(DM_FACTS);
    for (const r of sentSince(system, before)) expect(r.text).not.toMatch(DM_FACTS);
  });

  it('drill 3: "forget …" in a channel is carried out and answered to the asker alone', async () => {
    const asked = await mention('CGEN4', 'UANA', 'forget that I am going through a divorce');
    const reply = await waitFor(() => slack().ephemerals.find((e) => e.user === 'UANA' && e.channel === 'CGEN4'), {
      timeoutMs: 20_000,
      what: 'the private forget reply',
    });
    expect(reply.text).toBe(`Forgotten:\n• ${DIVORCE}`);
    expect(bot('CGEN4', asked)).toEqual([]);
    expect((await memoriesOf('UANA')).map((m) => m.content)).not.toContain(DIVORCE);
  });

  it('drill 3: in a DM the list is shown in the thread', async () => {
    const dm = slack().messageEvent({ channel: 'DANA', user: 'UANA', text: 'what do you remember about me?', channelType: 'im' });
    await slack().sendEvent(system.slackEventsUrl, dm);
    const shown = await waitFor(
      () => bot('DANA', dm.ts).find((m) => m.streaming === false && m.text.includes('Here is what I remember about you')),
      { timeoutMs: 20_000, what: 'the list in the DM' },
    );
    expect(shown.text).toContain('$240,000');
    expect(slack().ephemerals.filter((e) => e.channel === 'DANA')).toEqual([]);
  });
});

describe('Discord: memory is private by place', () => {
  let system: TestSystem;
  beforeAll(async () => {
    // One person says a lot here within a minute: the per-user turn limit is not what this drills.
    system = await startSystem({ platforms: ['discord'], env: { LIMIT_TURNS_PER_MINUTE: '0' } });
    scriptModel(system);
    const { store, memoryStore } = system.services.runtime;
    const alice = await store.upsertUser({ platform: 'discord', workspace: DISCORD_GUILD, platformUserId: ALICE.id });
    await memoryStore.add(alice.id, { content: INCOME, topic: 'income', learnedPlatform: 'discord', learnedPlace: 'dm' });
    await memoryStore.add(alice.id, { content: WALKABLE, topic: 'preference', learnedPlatform: 'discord', learnedPlace: 'public' });
  });
  afterAll(async () => {
    await system?.close();
  });

  const ALICE: DiscordUser = { id: '860000000000000001', username: 'alice' };
  const BOB: DiscordUser = { id: '860000000000000002', username: 'bob' };
  const discord = () => system.discord!;
  type Button = { label?: string; custom_id?: string };
  const buttons = (m: MessageRecord | undefined): Button[] =>
    ((m?.components ?? []) as Array<{ components?: Button[] }>).flatMap((row) => row.components ?? []);
  const botMessages = (channelId: string) => discord().messagesIn(channelId).filter((m) => m.author.id === discord().bot.id);
  const text = (m: MessageRecord) => [m.content, ...m.embeds.map((e) => JSON.stringify(e))].join('\n');
  /** Every body the bot sent to a channel or thread (posts and edits), progress included. */
  const sentToChannels = (from: number) =>
    discord()
      .calls.slice(from)
      .filter((c) => c.route === 'createMessage' || c.route === 'editMessage')
      .map((c) => JSON.stringify(c.body))
      .join('\n');

  it('drill 4: a mention in a guild channel asking what it remembers gets no memory text, only the way to /memories', async () => {
    const d = discord();
    const callsBefore = d.calls.length;
    const asked = d.dispatchMessage({ channelId: DISCORD_CHANNEL, author: ALICE, content: `<@${d.bot.id}> what do you remember about me?` });
    const reply = await waitFor(() => botMessages(asked.id).find((m) => m.content.includes('/memories')), {
      timeoutMs: 20_000,
      what: 'the reply in the thread',
    });
    expect(reply.content).toBe("I don't show what I remember about you in a channel. Use /memories or /forget (only you see the answer), or ask me in a DM.");
    const everything = [...botMessages(asked.id), ...botMessages(DISCORD_CHANNEL)].map(text).join('\n') + sentToChannels(callsBefore);
    expect(everything).not.toMatch(DM_FACTS);
    expect(everything).not.toContain('walkable');
  });

  it('drill 4: /memories in the guild answers ephemerally, where the list may show', async () => {
    const d = discord();
    const { id } = d.dispatchInteraction({ channelId: DISCORD_CHANNEL, user: ALICE, commandName: 'memories' });
    const rootId = await waitFor(() => d.interaction(id)?.originalMessageId, { what: 'the deferred reply' });
    // The fake keeps a slash command's ephemeral reply in the channel, flagged 64: only the asker sees it.
    const reply = await waitFor(
      () => d.messagesIn(DISCORD_CHANNEL).find((m) => m.id === rootId && m.content.includes('Here is what I remember')),
      { timeoutMs: 20_000, what: 'the ephemeral list' },
    );
    expect(reply.content).toContain(INCOME);
    expect(reply.flags & 64).toBe(64);
  });

  it('drill 2 on Discord: the answer counts the saved details; "Which ones?" lists them to the asker alone', async () => {
    const d = discord();
    const callsBefore = d.calls.length;
    const before = system.fakes.openai.chatRequests.length;
    const asked = d.dispatchMessage({ channelId: DISCORD_CHANNEL, author: ALICE, content: `<@${d.bot.id}> ${QUESTION}` });
    const answer = await waitFor(() => botMessages(asked.id).find((m) => buttons(m).some((b) => b.label === 'Which ones?')), {
      timeoutMs: 30_000,
      what: 'the answer with "Which ones?"',
    });
    expect(answer.content).toContain('Personalised with 1 of your saved detail.');
    const everything = botMessages(asked.id).map(text).join('\n') + sentToChannels(callsBefore);
    expect(everything).not.toMatch(DM_FACTS);
    expect(everything).not.toContain(WALKABLE);
    for (const r of sentSince(system, before)) expect(r.text).not.toMatch(DM_FACTS);

    const which = buttons(answer).find((b) => b.label === 'Which ones?')!.custom_id!;
    const mine = d.clickButton({ channelId: asked.id, messageId: answer.id, customId: which, user: ALICE });
    const theirs = d.clickButton({ channelId: asked.id, messageId: answer.id, customId: which, user: BOB });
    const toAlice = await waitFor(() => d.ephemerals.find((e) => e.interactionId === mine.id), { what: "Alice's list" });
    const toBob = await waitFor(() => d.ephemerals.find((e) => e.interactionId === theirs.id), { what: "Bob's note" });
    expect(toAlice.content).toContain(WALKABLE);
    expect(toAlice.content).not.toMatch(DM_FACTS); // not used here, so not listed
    expect(toBob.content).toBe('Only the person who asked can see which saved details were used.');
  });
});
