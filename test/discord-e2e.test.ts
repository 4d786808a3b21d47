import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordChatAdapter } from '../adapters/discord/chat-adapter.js';
import { createDiscordReceiver, type DiscordReceiver } from '../adapters/discord/receiver.js';
import { createMessageQueue } from '../queue/producer.js';
import { type ChatWorker, createChatWorker } from '../queue/worker.js';
import { silentLogger } from '../src/logger.js';
import { createDiscordFake, type DiscordFake, type MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { workerDeps } from '../adapters/server/services.js';
import { createRedisRunCancellation, createRedisRunEventLog } from '../queue/run-event-stream.js';

const REDIS_URL = process.env.REDIS_URL!;
const GUILD = '920000000000000001';
const CHANNEL = '920000000000000002';
const TOKEN = 'fake-bot-token';
const alice = { id: '820000000000000001', username: 'alice' };

const team = useTeamRuntime({ role: 'worker' });
let discord: DiscordFake;
let redis: Redis;
let receiver: DiscordReceiver;
let worker: ChatWorker;
let queue: ReturnType<typeof createMessageQueue>;

const runEvents = createRedisRunEventLog({ redisUrl: process.env.REDIS_URL!, logger: silentLogger });
const runCancellation = createRedisRunCancellation({ redisUrl: process.env.REDIS_URL!, logger: silentLogger });

beforeAll(async () => {
  discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general', type: 0 }] }],
  });
  redis = new Redis(REDIS_URL);
  const queueName = `movebot-test-${randomUUID()}`;
  queue = createMessageQueue({ redisUrl: REDIS_URL, queueName });
  // The web role: gateway in, queue out.
  receiver = createDiscordReceiver({
    config: { discord: { token: TOKEN, apiUrl: discord.restUrl }, redisUrl: REDIS_URL },
    queue,
    store: team.runtime.store,
    redis,
    logger: silentLogger,
    messageContent: true,
  });
  await receiver.start();
  // The worker role: REST only.
  const adapter = createDiscordChatAdapter({
    token: TOKEN,
    applicationId: discord.applicationId,
    apiUrl: discord.restUrl,
    redis,
    logger: silentLogger,
  });
  worker = createChatWorker({
    ...workerDeps(team.runtime, runEvents, runCancellation),
    adapters: { discord: adapter },
    redisUrl: REDIS_URL,
    queueName,
    logger: silentLogger,
    threadRetryMs: 20,
  });
});
afterAll(async () => {
  await Promise.all([runEvents.close(), runCancellation.close()]);
  await worker?.close(5_000);
  await receiver?.stop();
  await queue?.close();
  redis?.disconnect();
  await discord?.close();
});

const shownText = (m: MessageRecord | undefined) =>
  m
    ? [m.content, ...(m.embeds as Array<{ description?: string }>).map((e) => e.description ?? '')].join('\n')
    : '';

describe('Discord end to end through the worker', () => {
  it('answers /move in the reply, continues in the thread opened on it', async () => {
    const { id } = discord.dispatchInteraction({
      channelId: CHANNEL,
      user: alice,
      commandName: 'move',
      options: { from: 'Seattle', to: 'Austin', details: 'I love live music' },
    });
    const rootId = await waitFor(() => discord.interaction(id)?.originalMessageId, {
      what: 'the deferred reply',
    });
    const reply = await waitFor(
      () => {
        const m = discord.messagesIn(CHANNEL).find((x) => x.id === rootId);
        return shownText(m).includes('**Move** for Seattle') ? m : undefined;
      },
      { timeoutMs: 30_000, what: 'the answer in the reply' },
    );
    expect(shownText(reply)).toMatch(/^\*\*Move\*\* for Seattle, WA → Austin, TX/);
    const thread = await waitFor(() => discord.threads.find((th) => th.id === rootId), {
      what: 'the thread',
    });
    expect(thread).toMatchObject({ name: 'Seattle, WA → Austin, TX', parentId: CHANNEL });
    const report = await waitFor(
      () => discord.attachments.find((a) => a.channelId === rootId && a.filename.endsWith('_analysis.md')),
      { what: 'the report in the thread' },
    );
    expect(report.content.toString('utf8')).toContain('Seattle');
    await waitFor(() => receiver.client.channels.cache.get(rootId), {
      what: 'the thread in the receiver cache',
    });

    const before = discord.messagesIn(rootId).length;
    discord.dispatchMessage({ channelId: rootId, author: alice, content: 'What about taxes?' });
    const followUp = await waitFor(
      () => {
        const later = discord.messagesIn(rootId).slice(before);
        return later.find((m) => m.author.id === discord.bot.id && /^Follow-up answer/.test(shownText(m)));
      },
      { timeoutMs: 30_000, what: 'the follow-up answer in the thread' },
    );
    expect(followUp.channelId).toBe(rootId);

    const session = await team.runtime.store.getSessionByThreadKey(`discord:${GUILD}:${rootId}`);
    const messages = await team.runtime.store.listMessages(session!.id);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[2]!.content).toBe('What about taxes?');
  });

  it('answers /memories to the asker only: in the ephemeral reply, with no thread and nothing in the channel', async () => {
    const before = discord.messagesIn(CHANNEL).length;
    const { id } = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'memories' });
    const rootId = await waitFor(() => discord.interaction(id)?.originalMessageId, { what: 'the deferred reply' });
    const reply = await waitFor(
      () => {
        const m = discord.messagesIn(CHANNEL).find((x) => x.id === rootId);
        return /remember/.test(shownText(m)) ? m : undefined;
      },
      { timeoutMs: 30_000, what: 'the answer in the reply' },
    );
    expect(shownText(reply)).toMatch(/^I don't remember anything about you yet/);
    expect(reply.flags & 64).toBe(64);
    await worker.worker.waitUntilReady();
    await waitFor(async () => (await queue.counts()).completed > 0 && (await queue.counts()).active === 0, { what: 'the job done' });
    expect(discord.threads.find((th) => th.id === rootId)).toBeUndefined();
    expect(discord.messagesIn(CHANNEL).slice(before).map((m) => m.id)).toEqual([rootId]);
  });
});
