import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordChatAdapter } from '../adapters/discord/chat-adapter.js';
import { commandText } from '../adapters/discord/commands.js';
import { interactionKey } from '../adapters/discord/interaction-store.js';
import { createDiscordReceiver, discordThreadKey, stripMention } from '../adapters/discord/receiver.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import type { ChatJob } from '../src/ports/turn-job.js';
import { createMessageQueue } from '../queue/producer.js';
import { silentLogger } from '../src/logger.js';
import type { SessionStore } from '../src/ports/session-store.js';
import { createDiscordFake, type DiscordFake } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const REDIS_URL = process.env.REDIS_URL!;
const GUILD = '900000000000000001';
const CHANNEL = '900000000000000002';
const TOKEN = 'fake-bot-token';
const alice = { id: '800000000000000001', username: 'alice' };
const otherBot = { id: '800000000000000009', username: 'otherbot', bot: true };

let discord: DiscordFake;
let t: TestDatabase;
let store: SessionStore;
let redis: Redis;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general', type: 0 }] }],
  });
  t = await createTestDatabase('postgres');
  store = createSessionStore(t.db);
  redis = new Redis(REDIS_URL);
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
afterAll(async () => {
  redis?.disconnect();
  await t?.cleanup();
  await discord?.close();
});

/** A receiver on its own queue, stopped after the test; `jobs()` reads what reached Redis. */
function createTestReceiver(options: { messageContent: boolean; redisUrl?: string; restUrl?: string }) {
  const queue = createMessageQueue({
    redisUrl: options.redisUrl ?? REDIS_URL,
    queueName: `movebot-test-${randomUUID()}`,
    timeoutMs: 500,
  });
  const receiver = createDiscordReceiver({
    config: { discord: { token: TOKEN, apiUrl: options.restUrl ?? discord.restUrl }, redisUrl: REDIS_URL },
    queue,
    store,
    redis,
    logger: silentLogger,
    messageContent: options.messageContent,
  });
  cleanups.push(async () => {
    await receiver.stop();
    await queue.close();
  });
  const jobs = async () => {
    const all = await queue.queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
    return all.sort((a, b) => a.timestamp - b.timestamp);
  };
  return { receiver, queue, jobs };
}

async function startReceiver(options: { messageContent: boolean; redisUrl?: string }) {
  const started = createTestReceiver(options);
  await started.receiver.start();
  return started;
}

/** The worker role's adapter (REST only), which answers and opens threads in production. */
function workerAdapter() {
  return createDiscordChatAdapter({ token: TOKEN, applicationId: discord.applicationId, apiUrl: discord.restUrl, redis, logger: silentLogger });
}

function move(from: string, to: string, details?: string) {
  return discord.dispatchInteraction({
    channelId: CHANNEL,
    user: alice,
    commandName: 'move',
    options: { from, to, ...(details && { details }) },
  });
}

describe('Discord receiver', () => {
  it('defers a slash command first, then queues one job without the interaction token', async () => {
    const { jobs } = await startReceiver({ messageContent: true });
    const { id, token, callback } = move('Seattle', 'Austin', 'I work remotely');

    expect(await callback).toMatchObject({ kind: 'callback', type: 5 });
    const [job] = await waitFor(async () => ((await jobs()).length > 0 ? jobs() : undefined), { what: 'a job' });
    const all = await jobs();
    expect(all).toHaveLength(1);
    const interaction = discord.interaction(id)!;
    const rootId = interaction.originalMessageId!;
    expect(job!.data).toMatchObject({
      platform: 'discord',
      workspace: GUILD,
      channel: CHANNEL,
      thread: rootId,
      messageId: id,
      interactionId: id,
      userId: alice.id,
      text: 'Should I move from Seattle to Austin? I work remotely',
      threadKey: `discord:${GUILD}:${rootId}`,
    } satisfies Partial<ChatJob>);
    // Deferred before the job existed.
    const deferredAt = interaction.dispatchedAt + interaction.responses[0]!.atMs;
    expect(deferredAt).toBeLessThanOrEqual(job!.timestamp);
    expect(JSON.stringify(job!.data)).not.toContain(token);
    // The token waits apart, for the worker, no longer than Discord honours it.
    const stored = JSON.parse((await redis.get(interactionKey(id)))!);
    expect(stored).toMatchObject({ token, applicationId: discord.applicationId });
    const ttl = await redis.pttl(interactionKey(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
  });

  it('turns /memories and /forget into the memory commands the team understands', async () => {
    const { jobs } = await startReceiver({ messageContent: false });
    discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'memories' });
    await waitFor(async () => (await jobs()).length === 1, { what: '/memories job' });
    discord.dispatchInteraction({
      channelId: CHANNEL,
      user: alice,
      commandName: 'forget',
      options: { what: 'I have a dog' },
    });
    await waitFor(async () => (await jobs()).length === 2, { what: '/forget job' });
    discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'forget', options: { what: 'Everything' } });
    await waitFor(async () => (await jobs()).length === 3, { what: '/forget-all job' });

    const all = (await jobs()).map((j) => j.data);
    expect(all.map((j) => [j.text, j.ephemeral])).toEqual([
      ['what do you remember about me?', true],
      ['forget that I have a dog', true],
      ['forget everything', true],
    ]);
    // Deferred as ephemeral: what movebot remembers about alice is shown to alice only.
    for (const job of all) {
      const reply = discord.messagesIn(CHANNEL).find((m) => m.id === discord.interaction(job.interactionId!)!.originalMessageId);
      expect(reply!.flags & 64).toBe(64);
    }
  });

  it('continues the session when someone writes in the thread opened on the answer', async () => {
    const { jobs, receiver } = await startReceiver({ messageContent: true });
    move('Seattle', 'Austin');
    const [first] = await waitFor(async () => ((await jobs()).length === 1 ? jobs() : undefined), { what: 'a job' });
    // The worker answers and opens the thread, as it does in production.
    const adapter = workerAdapter();
    const ref = await adapter.postPlaceholder(first!.data, 'Looking into Seattle → Austin…');
    await adapter.deliverAnswer(
      first!.data,
      ref,
      { outcome: { kind: 'answer', text: 'Austin it is.' } },
      {
        alreadyPosted: [],
        onPosted: async () => {},
      },
    );
    const threadId = first!.data.thread!;
    await waitFor(() => receiver.client.channels.cache.get(threadId), { what: 'the thread in the cache' });

    discord.dispatchMessage({ channelId: threadId, author: alice, content: 'What about rent?' });
    await waitFor(async () => (await jobs()).length === 2, { what: 'the follow-up job' });
    const followUp = (await jobs())[1]!.data;
    expect(followUp).toMatchObject({ channel: threadId, thread: threadId, text: 'What about rent?' });
    expect(followUp.threadKey).toBe(first!.data.threadKey);
    expect(followUp.interactionId).toBeUndefined();
  });

  it('starts a conversation from a mention, ignores bots and unaddressed channel chatter', async () => {
    const { jobs } = await startReceiver({ messageContent: true });
    discord.dispatchMessage({
      channelId: CHANNEL,
      author: otherBot,
      content: `<@${discord.bot.id}> Seattle or Austin?`,
    });
    discord.dispatchMessage({ channelId: CHANNEL, author: alice, content: 'nice weather in Austin today' });
    const mention = discord.dispatchMessage({
      channelId: CHANNEL,
      author: alice,
      content: `<@${discord.bot.id}>  should I move from Seattle to Austin?`,
    });
    await waitFor(async () => (await jobs()).length > 0, { what: 'the mention job' });

    const all = await jobs();
    expect(all.map((j) => j.data)).toEqual([
      expect.objectContaining({
        channel: CHANNEL,
        thread: mention.id,
        messageId: mention.id,
        text: 'should I move from Seattle to Austin?',
        threadKey: discordThreadKey(GUILD, mention.id),
      }),
    ]);
  });

  it('takes a quick follow-up in a user\'s thread while the mention that started it still waits in the queue', async () => {
    const { jobs, receiver } = await startReceiver({ messageContent: true });
    const thread = discord.openUserThread({ parentId: CHANNEL, owner: alice });
    await waitFor(() => receiver.client.channels.cache.get(thread.id), { what: 'the user thread in the cache' });
    discord.dispatchMessage({ channelId: thread.id, author: alice, content: `<@${discord.bot.id}> Seattle or Austin?` });
    await waitFor(async () => (await jobs()).length === 1, { what: 'the mention job' });
    // No worker has run: no session exists yet, only the queued first message.
    discord.dispatchMessage({ channelId: thread.id, author: alice, content: 'I work remotely, if that matters' });
    await waitFor(async () => (await jobs()).length === 2, { what: 'the follow-up job' });

    expect((await jobs()).map((j) => [j.data.threadKey, j.data.text])).toEqual([
      [discordThreadKey(GUILD, thread.id), 'Seattle or Austin?'],
      [discordThreadKey(GUILD, thread.id), 'I work remotely, if that matters'],
    ]);
  });

  it('without the MessageContent intent, only mentions count, even in its own thread', async () => {
    const { jobs, receiver } = await startReceiver({ messageContent: false });
    const mention = discord.dispatchMessage({
      channelId: CHANNEL,
      author: alice,
      content: `<@${discord.bot.id}> Denver?`,
    });
    await waitFor(async () => (await jobs()).length === 1, { what: 'the mention job' });
    const first = (await jobs())[0]!.data;
    const adapter = workerAdapter();
    await adapter.postPlaceholder(first, 'Thinking about your question…');
    await waitFor(() => receiver.client.channels.cache.get(mention.id), { what: 'the thread in the cache' });

    discord.dispatchMessage({ channelId: mention.id, author: alice, content: 'and what about Boulder?' });
    discord.dispatchMessage({
      channelId: mention.id,
      author: alice,
      content: `<@${discord.bot.id}> and Boulder?`,
    });
    await waitFor(async () => (await jobs()).length >= 2, { what: 'the mention in the thread' });

    const texts = (await jobs()).map((j) => j.data.text);
    expect(texts).toEqual(['Denver?', 'and Boulder?']);
    expect((await jobs())[1]!.data.threadKey).toBe(first.threadKey);
  });

  it('treats a direct message as one conversation per DM channel', async () => {
    const { jobs, receiver } = await startReceiver({ messageContent: false });
    // The fake's MESSAGE_CREATE has no `channel_type`, which discord.js needs to build an uncached DM
    // channel; announcing the channel first stands in for it.
    discord.dispatch('CHANNEL_CREATE', { id: '990000000000000001', type: 1, recipients: [alice] });
    await waitFor(() => receiver.client.channels.cache.get('990000000000000001'), { what: 'the DM channel' });
    const dm = discord.dispatchMessage({
      channelId: '990000000000000001',
      author: alice,
      content: 'Is Denver sunny?',
    });
    await waitFor(async () => (await jobs()).length === 1, { what: 'the DM job' });
    const job = (await jobs())[0]!.data;
    expect(job).toMatchObject({ workspace: '@dm', channel: dm.channelId, text: 'Is Denver sunny?' });
    expect(job.thread).toBeUndefined();
    expect(job.threadKey).toBe(discordThreadKey('@dm', dm.channelId));
  });

  it('tells the user when the queue cannot take the command', async () => {
    await startReceiver({ messageContent: false, redisUrl: 'redis://127.0.0.1:1' });
    const { id, callback } = move('Seattle', 'Austin');
    await callback;
    const original = await waitFor(
      () => {
        const messageId = discord.interaction(id)?.originalMessageId;
        const message = discord.messagesIn(CHANNEL).find((m) => m.id === messageId);
        return message?.content ? message : undefined;
      },
      { what: 'the apology' },
    );
    expect(original.content).toMatch(/can't take questions right now/);
    expect(await redis.get(interactionKey(id))).toBeNull();
  });
});

describe('Discord receiver start', () => {
  it('explains a refused MessageContent intent instead of failing obscurely', async () => {
    const strict = await createDiscordFake({
      guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general' }] }],
      approvedIntents: 0,
    });
    cleanups.push(() => strict.close());
    const { receiver } = createTestReceiver({ messageContent: true, restUrl: strict.restUrl });
    await expect(receiver.start()).rejects.toThrow(/Message Content intent/);
  });
});

describe('Discord command texts', () => {
  const options = (values: Record<string, string>) => ({ getString: (name: string) => values[name] ?? null });

  it('phrases each command as the message a user would type', () => {
    expect(commandText('move', options({ from: ' Seattle ', to: 'Austin' }))).toBe(
      'Should I move from Seattle to Austin?',
    );
    expect(commandText('ask', options({ question: 'Is Denver sunny?' }))).toBe('Is Denver sunny?');
    expect(commandText('forget', options({ what: 'all' }))).toBe('forget everything');
    expect(commandText('forget', options({ what: 'where I live?' }))).toBe('forget that where I live');
    // An empty option (an old client, a bad request) never wipes everything.
    expect(commandText('forget', options({ what: '' }))).toBeUndefined();
    expect(commandText('other-bots-command', options({}))).toBeUndefined();
  });

  it('strips only the bot mention', () => {
    expect(stripMention('<@42> hi <@!42> there <@7>', '42')).toBe('hi there <@7>');
  });
});
