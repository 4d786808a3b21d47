import { once } from 'node:events';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  ComponentType,
  Events,
  GatewayIntentBits,
  type Message,
  MessageFlags,
  REST,
  Routes,
  type SendableChannels,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordFake, type DiscordFake, type DiscordFakeOptions } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';

const GUILD = '930000000000000001';
const CHANNEL = '930000000000000002';
const TOKEN = 'fake-bot-token';
const alice = { id: '830000000000000001', username: 'alice' };
const bob = { id: '830000000000000002', username: 'bob' };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function startFake(options: Partial<DiscordFakeOptions> = {}): Promise<DiscordFake> {
  const discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general', type: 0 }] }],
    ...options,
  });
  cleanups.push(() => discord.close());
  return discord;
}

async function startClient(discord: DiscordFake): Promise<{ client: Client; channel: SendableChannels }> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: discord.restUrl },
  });
  cleanups.push(() => client.destroy());
  const ready = once(client, Events.ClientReady);
  await client.login(TOKEN);
  await ready;
  const channel = client.channels.cache.get(CHANNEL);
  if (!channel?.isSendable()) throw new Error('channel not sendable');
  return { client, channel };
}

const button = (customId: string, label = customId) =>
  new ButtonBuilder().setCustomId(customId).setLabel(label).setStyle(ButtonStyle.Primary);
const row = (...buttons: ButtonBuilder[]) => new ActionRowBuilder<ButtonBuilder>().addComponents(...buttons);
/** A raw button, bypassing discord.js's builders so that the fake sees what a careless bot would send. */
const rawButton = (customId: string) => ({
  type: ComponentType.Button as const,
  style: ButtonStyle.Primary as const,
  label: 'b',
  custom_id: customId,
});

describe('Discord fake: message components, button clicks, edit rate limits', () => {
  it('keeps buttons on messages, clears them on edit, and rejects invalid components with 50035', async () => {
    const discord = await startFake();
    const { channel } = await startClient(discord);

    const sent = await channel.send({
      content: 'Pick one',
      components: [
        row(
          button('yes', 'Yes'),
          new ButtonBuilder().setURL('https://example.com/').setLabel('Docs').setStyle(ButtonStyle.Link),
        ),
      ],
    });

    expect(discord.messagesIn(CHANNEL)[0]?.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: 1, custom_id: 'yes', label: 'Yes' },
          { type: 2, style: 5, url: 'https://example.com/', label: 'Docs' },
        ],
      },
    ]);
    expect(sent.components[0]?.toJSON()).toMatchObject({ type: 1, components: [{ custom_id: 'yes' }, {}] });

    const sixInARow = channel.send({
      content: 'too many',
      components: [
        { type: ComponentType.ActionRow, components: ['a', 'b', 'c', 'd', 'e', 'f'].map(rawButton) },
      ],
    });
    await expect(sixInARow).rejects.toMatchObject({ code: 50035, status: 400 });
    const longId = channel.send({
      content: 'too long',
      components: [{ type: ComponentType.ActionRow, components: [rawButton('x'.repeat(101))] }],
    });
    await expect(longId).rejects.toMatchObject({ code: 50035, message: expect.stringMatching(/custom_id/) });
    const duplicate = sent.edit({
      components: [{ type: ComponentType.ActionRow, components: [rawButton('same'), rawButton('same')] }],
    });
    await expect(duplicate).rejects.toMatchObject({
      code: 50035,
      message: expect.stringMatching(/COMPONENT_CUSTOM_ID_DUPLICATED/),
    });
    const labelled = sent.edit({
      components: [
        { type: ComponentType.ActionRow, components: [{ ...rawButton('long'), label: 'l'.repeat(81) }] },
      ],
    });
    await expect(labelled).rejects.toMatchObject({ code: 50035, message: expect.stringMatching(/label/) });

    const edited = await sent.edit({ content: 'Picked', components: [] });
    expect(edited.components).toEqual([]);
    expect(discord.messagesIn(CHANNEL).map((m) => [m.content, m.components])).toEqual([['Picked', []]]);
  });

  it('delivers a click as a button interaction; deferUpdate is type 6, update (7) changes the message', async () => {
    const discord = await startFake();
    const { client, channel } = await startClient(discord);
    const sent = await channel.send({ content: 'Page 1', components: [row(button('ack'), button('next'))] });
    const seen: Array<Record<string, unknown>> = [];
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isButton()) return;
      seen.push({
        customId: interaction.customId,
        componentType: interaction.componentType,
        messageId: interaction.message.id,
        messageContent: interaction.message.content,
        userId: interaction.user.id,
        guildId: interaction.guildId,
        channelId: interaction.channelId,
      });
      if (interaction.customId === 'ack') await interaction.deferUpdate();
      else await interaction.update({ content: 'Page 2', components: [row(button('back'))] });
    });

    const ack = discord.clickButton({ channelId: CHANNEL, messageId: sent.id, customId: 'ack', user: alice });
    const deferred = await ack.callback;

    expect(deferred).toMatchObject({ kind: 'callback', type: 6 });
    expect(deferred?.atMs).toBeLessThan(3_000);
    expect(seen).toEqual([
      {
        customId: 'ack',
        componentType: ComponentType.Button,
        messageId: sent.id,
        messageContent: 'Page 1',
        userId: alice.id,
        guildId: GUILD,
        channelId: CHANNEL,
      },
    ]);
    expect(discord.interaction(ack.id)).toMatchObject({ type: 3, customId: 'ack', messageId: sent.id });
    expect(discord.messagesIn(CHANNEL)).toMatchObject([{ id: sent.id, content: 'Page 1', editedAt: null }]);

    const updatedOnGateway = once(client, Events.MessageUpdate) as Promise<[Message, Message]>;
    const next = discord.clickButton({ channelId: CHANNEL, messageId: sent.id, customId: 'next', user: bob });

    expect(await next.callback).toMatchObject({ kind: 'callback', type: 7 });
    expect(discord.messagesIn(CHANNEL)).toMatchObject([
      { id: sent.id, content: 'Page 2', components: [{ type: 1, components: [{ custom_id: 'back' }] }] },
    ]);
    const [, after] = await updatedOnGateway;
    expect(after.content).toBe('Page 2');
    expect(() =>
      discord.clickButton({ channelId: CHANNEL, messageId: sent.id, customId: 'next', user: alice }),
    ).toThrow(/no enabled button/);
  });

  it('keeps ephemeral replies and follow-ups to a click out of the channel, for the clicker only', async () => {
    const discord = await startFake();
    const { client, channel } = await startClient(discord);
    const sent = await channel.send({ content: 'Details?', components: [row(button('details'))] });
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isButton()) return;
      if (interaction.customId === 'details') {
        await interaction.reply({
          content: 'Only you can see this',
          flags: MessageFlags.Ephemeral,
          components: [row(button('more'))],
        });
        await interaction.followUp({ content: 'psst', flags: MessageFlags.Ephemeral });
      } else await interaction.update({ content: 'More, still private', components: [] });
    });

    const click = discord.clickButton({
      channelId: CHANNEL,
      messageId: sent.id,
      customId: 'details',
      user: alice,
    });
    expect(await click.callback).toMatchObject({
      type: 4,
      data: { data: { flags: MessageFlags.Ephemeral } },
    });
    await waitFor(() => discord.ephemerals.length === 2, { what: 'the ephemeral follow-up' });

    expect(discord.ephemerals).toMatchObject([
      {
        interactionId: click.id,
        userId: alice.id,
        channelId: CHANNEL,
        content: 'Only you can see this',
        embeds: [],
        components: [{ type: 1, components: [{ custom_id: 'more' }] }],
      },
      { interactionId: click.id, userId: alice.id, content: 'psst', components: [] },
    ]);
    expect(discord.messagesIn(CHANNEL).map((m) => m.id)).toEqual([sent.id]);

    // Buttons on an ephemeral message: only its owner sees them, and can click them.
    const ephemeralId = discord.ephemerals[0]?.messageId ?? '';
    expect(() =>
      discord.clickButton({ channelId: CHANNEL, messageId: ephemeralId, customId: 'more', user: bob }),
    ).toThrow(/sees no message/);
    const more = discord.clickButton({
      channelId: CHANNEL,
      messageId: ephemeralId,
      customId: 'more',
      user: alice,
    });
    expect(await more.callback).toMatchObject({ type: 7 });
    expect(discord.ephemerals[0]).toMatchObject({ content: 'More, still private', components: [] });
    expect(discord.messagesIn(CHANNEL).map((m) => m.id)).toEqual([sent.id]);
  });

  it('answers callbacks like Discord: 6/7 only for components, 40060 twice, 10062 late', async () => {
    const discord = await startFake({ interactionDeadlineMs: 200 });
    const rest = new REST({ api: discord.restUrl, retries: 0 }).setToken(TOKEN);
    const posted = (await rest.post(Routes.channelMessages(CHANNEL), {
      body: { content: 'Go?', components: [row(button('go')).toJSON()] },
    })) as { id: string };
    const callback = (i: { id: string; token: string }, type: number) =>
      rest.post(Routes.interactionCallback(i.id, i.token), { body: { type }, auth: false });

    const slash = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'move' });
    await expect(callback(slash, 7)).rejects.toMatchObject({ code: 50035, status: 400 });
    await expect(callback(slash, 6)).rejects.toMatchObject({ code: 50035, status: 400 });

    const click = discord.clickButton({
      channelId: CHANNEL,
      messageId: posted.id,
      customId: 'go',
      user: alice,
    });
    await callback(click, 6);
    await expect(callback(click, 7)).rejects.toMatchObject({ code: 40060 });
    expect(await click.callback).toMatchObject({ type: 6 });

    const late = discord.clickButton({ channelId: CHANNEL, messageId: posted.id, customId: 'go', user: bob });
    expect(await late.callback).toBeUndefined(); // settles once the deadline passed without an answer
    await expect(callback(late, 6)).rejects.toMatchObject({ code: 10062, status: 404 });
  });

  it('sends rate-limit headers on edits and a 429 with retry_after past the limit', async () => {
    const discord = await startFake({ editRateLimit: { limit: 2, windowMs: 300 } });
    const rest = new REST({ api: discord.restUrl }).setToken(TOKEN);
    const posted = (await rest.post(Routes.channelMessages(CHANNEL), { body: { content: 'v0' } })) as {
      id: string;
    };
    const patch = (content: string) =>
      fetch(`${discord.restUrl}/v10/channels/${CHANNEL}/messages/${posted.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bot ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content }),
      });

    const responses = [await patch('v1'), await patch('v2'), await patch('v3')];
    const header = (i: number, name: string) => responses[i]?.headers.get(name);

    expect(responses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect([0, 1, 2].map((i) => header(i, 'x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
    expect(header(0, 'x-ratelimit-limit')).toBe('2');
    expect(header(0, 'x-ratelimit-bucket')).toEqual(expect.any(String));
    expect(Number(header(1, 'x-ratelimit-reset-after'))).toBeGreaterThan(0);
    expect(Number(header(1, 'x-ratelimit-reset-after'))).toBeLessThanOrEqual(0.3);
    expect(Number(header(1, 'x-ratelimit-reset')) * 1_000).toBeGreaterThan(Date.now() - 300);
    expect(Number(header(2, 'retry-after'))).toBeGreaterThan(0);
    const body = (await responses[2]?.json()) as { retry_after: number; global: boolean; message: string };
    expect(body).toMatchObject({ message: 'You are being rate limited.', global: false });
    expect(body.retry_after).toBeGreaterThan(0);
    expect(body.retry_after).toBeLessThanOrEqual(0.3);
    expect(discord.rateLimited).toMatchObject([{ route: 'editMessage', bucket: `channel:${CHANNEL}` }]);
    expect(discord.messagesIn(CHANNEL)[0]?.content).toBe('v2');

    // Other routes carry no bucket headers; turning the limit off restores today's behaviour.
    const typing = await fetch(`${discord.restUrl}/v10/channels/${CHANNEL}/typing`, {
      method: 'POST',
      headers: { authorization: `Bot ${TOKEN}` },
    });
    expect(typing.headers.get('x-ratelimit-limit')).toBeNull();
    discord.setEditRateLimit(undefined);
    expect((await patch('v4')).headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('lets discord.js pace ten edits by the headers without hitting a 429', async () => {
    const discord = await startFake();
    const { client, channel } = await startClient(discord);
    discord.setEditRateLimit({ limit: 2, windowMs: 300 });
    let paced = 0;
    client.rest.on('rateLimited', () => {
      paced += 1;
    });

    const message = await channel.send('v0');
    const edited: Message[] = [];
    for (let i = 1; i <= 10; i += 1) edited.push(await message.edit(`v${i}`));

    expect(edited.map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i + 1}`));
    expect(discord.messagesIn(CHANNEL)[0]?.content).toBe('v10');
    const edits = discord.callsTo('editMessage');
    expect(edits.map((c) => c.status)).toEqual(Array(10).fill(200));
    expect(discord.rateLimited).toEqual([]);
    // At most two edits per 300 ms window: each edit is a full window after the one two before it.
    for (let i = 2; i < edits.length; i += 1) {
      expect((edits[i]?.at ?? 0) - (edits[i - 2]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    }
    expect(paced).toBeGreaterThanOrEqual(4); // discord.js waited on `remaining: 0`, it did not guess

    // Interaction webhook edits have their own bucket per token.
    let replies = 0;
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      for (let i = 1; i <= 4; i += 1) await interaction.editReply(`step ${i}`);
      replies += 1;
    });
    const slash = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'move' });
    await waitFor(() => replies === 1, { what: 'four edits of the reply' });
    const original = discord.interaction(slash.id)?.originalMessageId;
    expect(discord.messagesIn(CHANNEL).find((m) => m.id === original)?.content).toBe('step 4');
    const webhookEdits = discord.callsTo('editOriginal');
    expect(webhookEdits.map((c) => c.status)).toEqual([200, 200, 200, 200]);
    expect((webhookEdits[2]?.at ?? 0) - (webhookEdits[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect(discord.rateLimited).toEqual([]);
  });
});
