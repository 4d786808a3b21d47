import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { DISCORD_CHANNEL, DISCORD_GUILD, startSystem, type TestSystem } from './helpers/system.js';

const alice = { id: '830000000000000001', username: 'alice' };
let system: TestSystem;

beforeAll(async () => {
  // The web role holds the gateway connection; a separate worker role answers over REST only.
  system = await startSystem({ platforms: ['discord'], role: 'web' });
  await system.startMore('worker');
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
});
