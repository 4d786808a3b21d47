import { once } from 'node:events';
import {
  AttachmentBuilder,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Message,
  REST,
  Routes,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordFake, type DiscordFake, Intent } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';

const GUILD = '900000000000000001';
const CHANNEL = '900000000000000002';
const TOKEN = 'fake-bot-token';
const alice = { id: '800000000000000001', username: 'alice' };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function startFake(options: { approvedIntents?: number } = {}): Promise<DiscordFake> {
  const discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general', type: 0 }] }],
    ...options,
  });
  cleanups.push(() => discord.close());
  return discord;
}

async function startClient(discord: DiscordFake, intents: GatewayIntentBits[]): Promise<Client> {
  const client = new Client({ intents, rest: { api: discord.restUrl } });
  cleanups.push(() => client.destroy());
  const ready = once(client, Events.ClientReady);
  await client.login(TOKEN);
  await ready;
  return client;
}

const BASE_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages];

describe('Discord fake with the real discord.js Client', () => {
  it('logs in, becomes ready and caches the guild channels', async () => {
    const discord = await startFake();
    const client = await startClient(discord, BASE_INTENTS);

    expect(client.user?.id).toBe(discord.bot.id);
    expect(client.channels.cache.get(CHANNEL)?.isTextBased()).toBe(true);
    expect(discord.gateway.intents).toBe(Intent.Guilds | Intent.GuildMessages);
    expect(discord.callsTo('getGatewayBot')).toHaveLength(1);
  });

  it('records a deferred /move and the edited original reply, then a thread on it', async () => {
    const discord = await startFake();
    const client = await startClient(discord, [...BASE_INTENTS, GatewayIntentBits.MessageContent]);
    let reply: Message | undefined;
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const command = interaction as ChatInputCommandInteraction;
      await command.deferReply();
      const from = command.options.getString('from');
      const to = command.options.getString('to');
      reply = await command.editReply(`Comparing ${from} and ${to}`);
    });

    const { id, callback } = discord.dispatchInteraction({
      channelId: CHANNEL,
      user: alice,
      commandName: 'move',
      options: { from: 'Seattle', to: 'Austin' },
    });
    const response = await callback;
    const edited = await waitFor(() => reply);

    expect(response).toMatchObject({ kind: 'callback', type: 5 });
    expect(discord.interaction(id)?.responses.map((r) => r.kind)).toEqual(['callback', 'edit']);
    const [original] = discord.messagesIn(CHANNEL);
    expect(original).toMatchObject({ content: 'Comparing Seattle and Austin', type: 20, flags: 0 });
    expect(edited.id).toBe(original?.id);

    const thread = await edited.startThread({ name: 'Seattle → Austin' });
    expect(thread.id).toBe(edited.id);
    await expect(edited.startThread({ name: 'again' })).rejects.toMatchObject({ code: 160004 });

    const inThread = once(client, Events.MessageCreate) as Promise<[Message]>;
    discord.dispatchMessage({ channelId: thread.id, author: alice, content: 'what about rent?' });
    const [message] = await inThread;
    expect(message.channelId).toBe(thread.id);
    expect(message.content).toBe('what about rent?');
    expect(discord.threads).toMatchObject([{ id: edited.id, parentId: CHANNEL, fromMessageId: edited.id }]);
  });

  it('rejects a late callback with 10062 and an expired token with 50027', async () => {
    const discord = await createDiscordFake({
      guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general' }] }],
      interactionDeadlineMs: 0,
    });
    cleanups.push(() => discord.close());
    const rest = new REST({ api: discord.restUrl, retries: 0 }).setToken(TOKEN);
    const late = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'move' });
    await waitFor(() => Date.now() > (discord.interaction(late.id)?.dispatchedAt ?? Infinity));

    await expect(
      rest.post(Routes.interactionCallback(late.id, late.token), { body: { type: 5 }, auth: false }),
    ).rejects.toMatchObject({ code: 10062 });
    discord.expireInteractionToken(late.token);
    await expect(
      rest.patch(Routes.webhookMessage(discord.applicationId, late.token, '@original'), {
        body: { content: 'x' },
        auth: false,
      }),
    ).rejects.toMatchObject({ code: 50027, status: 401 });
    expect(await late.callback).toBeUndefined();
  });

  it('blanks message content without the MessageContent intent unless the bot is mentioned', async () => {
    const discord = await startFake();
    const client = await startClient(discord, BASE_INTENTS);
    const seen: string[] = [];
    client.on(Events.MessageCreate, (m) => void seen.push(m.content));

    discord.dispatchMessage({ channelId: CHANNEL, author: alice, content: 'secret plans' });
    discord.dispatchMessage({
      channelId: CHANNEL,
      author: alice,
      content: `<@${discord.bot.id}> Seattle or Austin?`,
    });
    await waitFor(() => seen.length === 2);

    expect(seen).toEqual(['', `<@${discord.bot.id}> Seattle or Austin?`]);
    expect(discord.messagesIn(CHANNEL).map((m) => m.content)).toEqual([
      'secret plans',
      `<@${discord.bot.id}> Seattle or Austin?`,
    ]);
  });

  it('delivers content with the MessageContent intent, and closes with 4014 when not approved', async () => {
    const discord = await startFake();
    const client = await startClient(discord, [...BASE_INTENTS, GatewayIntentBits.MessageContent]);
    const received = once(client, Events.MessageCreate) as Promise<[Message]>;
    discord.dispatchMessage({ channelId: CHANNEL, author: alice, content: 'secret plans' });
    expect((await received)[0].content).toBe('secret plans');

    const strict = await startFake({ approvedIntents: 0 });
    const denied = new Client({
      intents: [...BASE_INTENTS, GatewayIntentBits.MessageContent],
      rest: { api: strict.restUrl },
    });
    cleanups.push(() => denied.destroy());
    await expect(denied.login(TOKEN)).rejects.toThrow(/intent/i);
  });

  it('registers commands through discord.js REST and records uploads and bot messages', async () => {
    const discord = await startFake();
    const rest = new REST({ api: discord.restUrl }).setToken(TOKEN);
    const body = [
      {
        name: 'move',
        description: 'Compare two cities',
        options: [{ name: 'from', type: 3, description: 'x' }],
      },
    ];

    const registered = (await rest.put(Routes.applicationCommands(discord.applicationId), {
      body,
    })) as Array<{ id: string }>;
    await rest.put(Routes.applicationGuildCommands(discord.applicationId, GUILD), { body });
    const client = await startClient(discord, BASE_INTENTS);
    const channel = client.channels.cache.get(CHANNEL);
    if (!channel?.isSendable()) throw new Error('channel not sendable');
    await channel.sendTyping();
    const sent = await channel.send({
      content: 'report attached',
      files: [new AttachmentBuilder(Buffer.from('# Seattle vs Austin'), { name: 'report.md' })],
    });

    expect(registered[0]?.id).toEqual(expect.any(String));
    expect(discord.commands().map((c) => c.name)).toEqual(['move']);
    expect(discord.commands(GUILD).map((c) => c.name)).toEqual(['move']);
    expect(discord.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
      ['report.md', '# Seattle vs Austin'],
    ]);
    expect(sent.attachments.first()?.name).toBe('report.md');
    expect(discord.typing.map((t) => t.channelId)).toEqual([CHANNEL]);
    await expect(
      new REST({ api: discord.restUrl }).setToken('wrong').get(Routes.user('@me')),
    ).rejects.toMatchObject({
      status: 401,
    });
  });

  it('answers with a message, records follow-ups, and makes discord.js wait out a 429', async () => {
    const discord = await startFake();
    const client = await startClient(discord, BASE_INTENTS);
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.reply('first');
      await interaction.followUp('second');
    });
    discord.rateLimitNext('followup', 0.05);

    const { id } = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'move' });
    await waitFor(() => discord.messagesIn(CHANNEL).length === 2);

    expect(discord.messagesIn(CHANNEL).map((m) => m.content)).toEqual(['first', 'second']);
    expect(discord.interaction(id)?.responses.map((r) => [r.kind, r.type])).toEqual([
      ['callback', 4],
      ['followup', undefined],
    ]);
    expect(discord.callsTo('followup').map((c) => c.status)).toEqual([429, 200]);
  });

  it('lets discord.js resume after a disconnect and replays what it missed', async () => {
    const discord = await startFake();
    const client = await startClient(discord, [...BASE_INTENTS, GatewayIntentBits.MessageContent]);
    const received = once(client, Events.MessageCreate) as Promise<[Message]>;

    discord.gateway.disconnectAll(4000);
    await waitFor(() => discord.gateway.readySessions === 0);
    discord.dispatchMessage({ channelId: CHANNEL, author: alice, content: 'sent while you were away' });

    expect((await received)[0].content).toBe('sent while you were away');
    expect(discord.gateway.identifies).toHaveLength(1);
  });
});
