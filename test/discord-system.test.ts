import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../adapters/server/services.js';
import type { MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { DISCORD_CHANNEL, DISCORD_GUILD, startSystem, type TestSystem } from './helpers/system.js';
import { scriptTeam } from './helpers/team-script.js';

const alice = { id: '830000000000000001', username: 'alice' };
let system: TestSystem;
let worker: Services;

beforeAll(async () => {
  // The web role holds the gateway connection; a separate worker role answers over REST only.
  system = await startSystem({ platforms: ['discord'], role: 'web' });
  worker = await system.startMore('worker');
});
afterAll(async () => {
  await system?.close();
});

const shown = (m: MessageRecord | undefined) =>
  m
    ? [m.content, ...(m.embeds as Array<{ description?: string }>).map((e) => e.description ?? '')].join('\n')
    : '';

describe('Discord through the whole system (web role + worker role)', () => {
  it('answers /move in the reply and continues the conversation in its thread', async () => {
    const discord = system.discord!;
    const { id } = discord.dispatchInteraction({
      channelId: DISCORD_CHANNEL,
      user: alice,
      commandName: 'move',
      options: { from: 'Seattle', to: 'Austin' },
    });
    const rootId = await waitFor(() => discord.interaction(id)?.originalMessageId, {
      what: 'the deferred reply',
    });
    await waitFor(
      () =>
        /^\*\*Move\*\* for Seattle/.test(
          shown(discord.messagesIn(DISCORD_CHANNEL).find((m) => m.id === rootId)),
        ),
      {
        timeoutMs: 30_000,
        what: 'the answer in the reply',
      },
    );
    await waitFor(() => discord.attachments.some((a) => a.channelId === rootId), {
      what: 'the report in the thread',
    });
    await waitFor(() => system.services.discord?.client.channels.cache.get(rootId), {
      what: 'the thread at the web role',
    });

    discord.dispatchMessage({ channelId: rootId, author: alice, content: 'What about taxes?' });
    await waitFor(() => discord.messagesIn(rootId).some((m) => /^Follow-up answer/.test(shown(m))), {
      timeoutMs: 30_000,
      what: 'the follow-up answer in the thread',
    });
    const session = await system.services.runtime.store.getSessionByThreadKey(
      `discord:${DISCORD_GUILD}:${rootId}`,
    );
    const messages = await system.services.runtime.store.listMessages(session!.id);
    expect(messages.map((m) => `${m.role}: ${m.content.split('\n')[0]}`)).toEqual([
      'user: Should I move from Seattle to Austin?',
      expect.stringMatching(/^assistant: \*\*Move\*\* for Seattle, WA → Austin, TX/),
      'user: What about taxes?',
      expect.stringMatching(/^assistant: Follow-up answer/),
    ]);
  });

  // Runs last: it stops the worker role.
  it('finishes the answer it is writing when its worker is told to stop (SIGTERM)', async () => {
    const discord = system.discord!;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let synthesizing!: () => void;
    const atSynthesis = new Promise<void>((resolve) => {
      synthesizing = resolve;
    });
    system.fakes.openai.reset();
    system.fakes.openai.route({ system: 'Combine the analysts' }, async () => {
      synthesizing();
      await held;
      return undefined; // on to the scripted answer
    });
    scriptTeam(system.fakes.openai);
    const { id } = discord.dispatchInteraction({
      channelId: DISCORD_CHANNEL,
      user: alice,
      commandName: 'move',
      options: { from: 'Denver', to: 'Boise' },
    });
    await atSynthesis;

    const stopped = worker.stop();
    release();
    await stopped;

    const rootId = discord.interaction(id)!.originalMessageId!;
    expect(shown(discord.messagesIn(DISCORD_CHANNEL).find((m) => m.id === rootId))).toMatch(/^\*\*Move\*\* for Denver/);
  });
});
