import { REST, Routes } from 'discord.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatAnswer, ReplyTarget } from '../src/ports/chat-adapter.js';
import { createDiscordChatAdapter, ORIGINAL } from '../adapters/discord/chat-adapter.js';
import { saveInteraction } from '../adapters/discord/interaction-store.js';
import { renderAnswer, threadName } from '../adapters/discord/render.js';
import { createManualClock } from '../src/clock.js';
import { chartOf } from '../src/charts/run-chart.js';
import { silentLogger } from '../src/logger.js';
import { expectChartPng } from './helpers/png.js';
import { recommendation } from './helpers/recommendation.js';
import { createDiscordFake, type DiscordCall, type DiscordFake } from './fakes/discord-fake.js';

const REDIS_URL = process.env.REDIS_URL!;
const GUILD = '910000000000000001';
const CHANNEL = '910000000000000002';
const TOKEN = 'fake-bot-token';
const alice = { id: '810000000000000001', username: 'alice' };

let discord: DiscordFake;
let redis: Redis;

beforeAll(async () => {
  discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: CHANNEL, name: 'general', type: 0 }] }],
  });
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await discord?.close();
});

function adapter(clock = createManualClock(Date.now())) {
  return createDiscordChatAdapter({
    token: TOKEN,
    applicationId: discord.applicationId,
    apiUrl: discord.restUrl,
    redis,
    logger: silentLogger,
    clock,
  });
}

/** A /move as the receiver leaves it: deferred, token in Redis, the target the job carries. */
async function deferredCommand(): Promise<{ target: ReplyTarget; token: string; rootId: string }> {
  const { id, token } = discord.dispatchInteraction({ channelId: CHANNEL, user: alice, commandName: 'move' });
  await new REST({ api: discord.restUrl }).post(Routes.interactionCallback(id, token), {
    body: { type: 5 },
    auth: false,
  });
  await saveInteraction(redis, id, { token, applicationId: discord.applicationId }, Date.now());
  const rootId = discord.interaction(id)!.originalMessageId!;
  const target: ReplyTarget = {
    platform: 'discord',
    workspace: GUILD,
    userId: 'U1',
    channel: CHANNEL,
    thread: rootId,
    messageId: id,
    interactionId: id,
  };
  return { target, token, rootId };
}

function recorder() {
  const parts: Record<string, string> = {};
  return {
    parts,
    progress: {
      alreadyPosted: [],
      onPosted: async (k: string, id: string) => {
        parts[k] = id;
      },
    },
  };
}

/** Every message body that reached Discord after `since`, checked against Discord's limits. */
function bodiesSince(since: number): Array<{ content: string; embeds: Array<{ description?: string }> }> {
  return discord.calls
    .slice(since)
    .filter((c: DiscordCall) =>
      ['editOriginal', 'createMessage', 'editMessage', 'followup'].includes(c.route),
    )
    .map((c) => c.body as { content: string; embeds: Array<{ description?: string }> });
}

function expectWithinLimits(bodies: ReturnType<typeof bodiesSince>): void {
  for (const b of bodies) {
    expect((b.content ?? '').length).toBeLessThanOrEqual(2_000);
    expect((b.embeds ?? []).length).toBeLessThanOrEqual(10);
    for (const e of b.embeds ?? []) expect((e.description ?? '').length).toBeLessThanOrEqual(4_096);
    const total = (b.embeds ?? []).reduce((n, e) => n + (e.description ?? '').length, 0);
    expect(total).toBeLessThanOrEqual(6_000);
  }
}

const paragraphs = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `Paragraph ${i + 1}: ${'Austin has lower rent and no state income tax. '.repeat(8)}`,
  ).join('\n\n');

describe('Discord chat adapter', () => {
  it('edits the deferred reply from placeholder through progress to a long answer, then opens a thread', async () => {
    const { target, rootId } = await deferredCommand();
    const since = discord.calls.length;
    const chat = adapter();
    const text = paragraphs(30);
    const answer: ChatAnswer = {
      outcome: { kind: 'answer', text },
      report: { fileName: 'seattle_to_austin_report.md', markdown: '# Seattle → Austin\n\nFull report.' },
    };

    const ref = await chat.postPlaceholder(target, 'Looking into Seattle → Austin…');
    expect(ref).toEqual({ id: ORIGINAL, channel: CHANNEL });
    expect(discord.messagesIn(CHANNEL).find((m) => m.id === rootId)?.content).toBe(
      'Looking into Seattle → Austin…',
    );
    await chat.updateProgress(target, ref, '✅ Cost Analyst\n⏳ Sentiment Analyst');
    expect(discord.messagesIn(CHANNEL).find((m) => m.id === rootId)?.content).toContain(
      '⏳ Sentiment Analyst',
    );

    const { parts, progress } = recorder();
    await chat.deliverAnswer(target, ref, answer, progress);

    // The reply became the answer's first part; the rest and the report follow in its thread.
    const reply = discord.messagesIn(CHANNEL).find((m) => m.id === rootId)!;
    expect(reply.content).toBe('');
    const thread = discord.threads.find((th) => th.id === rootId);
    expect(thread).toMatchObject({ parentId: CHANNEL, fromMessageId: rootId });
    const inThread = discord.messagesIn(rootId);
    const overflow = inThread.filter((m) => m.attachments.length === 0);
    const shown = [reply, ...overflow].map(
      (m) => (m.embeds as Array<{ description: string }>)[0]!.description,
    );
    expect(shown.join(' ').replace(/\s+/g, ' ').trim()).toBe(text.replace(/\s+/g, ' ').trim());
    expect(overflow.length).toBeGreaterThan(0);
    expectWithinLimits(bodiesSince(since));

    const file = discord.attachments.find((a) => a.filename === 'seattle_to_austin_report.md');
    expect(file?.content.toString('utf8')).toBe('# Seattle → Austin\n\nFull report.');
    expect(inThread.at(-1)?.content).toContain('Full report');
    expect(Object.keys(parts).sort()).toEqual(
      ['report', 'thread', ...overflow.map((_, i) => `part-${i + 2}`)].sort(),
    );
    expect(parts.thread).toBe(rootId);

    // A re-run after a crash posts nothing twice.
    const before = discord.messagesIn(rootId).length;
    await chat.deliverAnswer(target, ref, answer, {
      alreadyPosted: Object.keys(parts),
      onPosted: async () => {},
    });
    expect(discord.messagesIn(rootId)).toHaveLength(before);
  });

  it('attaches the cost chart as a PNG shown by an embed, with alt text, once across a re-run', async () => {
    const { target, rootId } = await deferredCommand();
    const chat = adapter();
    const chart = await chartOf(recommendation(), silentLogger);
    const answer: ChatAnswer = {
      outcome: { kind: 'answer', text: 'Move.' },
      report: { fileName: 'seattle_to_austin_report.md', markdown: '# Seattle → Austin' },
      chart: { fileName: 'seattle_to_austin_cost_chart.png', ...chart! },
    };
    const ref = await chat.postPlaceholder(target, 'Thinking…');
    const { parts, progress } = recorder();
    await chat.deliverAnswer(target, ref, answer, progress);

    const file = discord.attachments.find((a) => a.filename === 'seattle_to_austin_cost_chart.png');
    expectChartPng(file!.content);
    expect(file?.contentType).toBe('image/png');
    expect(file?.description).toContain('Austin, TX: Overall 23% lower');
    const message = discord.messagesIn(rootId).find((m) => m.id === file?.messageId);
    expect(message?.embeds).toEqual([
      expect.objectContaining({ image: { url: 'attachment://seattle_to_austin_cost_chart.png' }, description: chart!.alt }),
    ]);
    expect(parts.chart).toBe(file?.messageId);

    const uploaded = discord.attachments.length;
    await chat.deliverAnswer(target, ref, answer, { alreadyPosted: Object.keys(parts), onPosted: async () => {} });
    expect(discord.attachments.length).toBe(uploaded);
  });

  it('keeps a short answer in the reply itself and never pings anyone', async () => {
    const { target, rootId } = await deferredCommand();
    const since = discord.calls.length;
    const chat = adapter();
    const ref = await chat.postPlaceholder(target, 'Thinking about your question…');
    await chat.deliverAnswer(
      target,
      ref,
      { outcome: { kind: 'answer', text: 'Yes @everyone, move.' } },
      recorder().progress,
    );

    // Shown as written, with an invisible word joiner after the @ so no client reads a mention.
    expect(discord.messagesIn(CHANNEL).find((m) => m.id === rootId)).toMatchObject({
      content: 'Yes @\u2060everyone, move.',
      embeds: [],
    });
    expect(discord.messagesIn(rootId)).toHaveLength(0);
    for (const c of discord.calls.slice(since).filter((c) => c.route === 'editOriginal'))
      expect((c.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
  });

  it('posts the answer in the thread as the bot once the interaction token expired', async () => {
    const { target, token, rootId } = await deferredCommand();
    const chat = adapter();
    const ref = await chat.postPlaceholder(target, 'Looking into Seattle → Austin…');
    discord.expireInteractionToken(token);

    const { parts, progress } = recorder();
    await chat.updateProgress(target, ref, 'still working');
    await chat.deliverAnswer(
      target,
      ref,
      { outcome: { kind: 'answer', text: 'Austin, probably.' } },
      progress,
    );

    const [answer] = discord.messagesIn(rootId);
    expect(answer).toMatchObject({ content: 'Austin, probably.', author: { id: discord.bot.id } });
    expect(parts.answer).toBe(answer!.id);
    expect(discord.callsTo('createMessage').at(-1)?.path).toBe(`/channels/${rootId}/messages`);
  });

  it('does not use a token past its 15 minutes, even while Redis still has it', async () => {
    const { target, rootId } = await deferredCommand();
    const clock = createManualClock(Date.now());
    const chat = adapter(clock);
    const edits = discord.callsTo('editOriginal').length;
    clock.advance(15 * 60_000);

    const ref = await chat.postPlaceholder(target, 'Looking into Seattle → Austin…');
    expect(ref).toMatchObject({ channel: rootId, thread: rootId });
    expect(discord.callsTo('editOriginal')).toHaveLength(edits);
    expect(discord.messagesIn(rootId)[0]?.content).toBe('Looking into Seattle → Austin…');
  });

  it('opens a thread on a mention and answers inside it', async () => {
    const mention = discord.dispatchMessage({
      channelId: CHANNEL,
      author: alice,
      content: `<@${discord.bot.id}> Denver?`,
    });
    const target = mentionTarget(mention.id);
    const chat = adapter();
    const ref = await chat.postPlaceholder(target, 'Thinking about your question…');
    expect(ref).toMatchObject({ channel: mention.id, thread: mention.id });
    await chat.updateProgress(target, ref, 'Checking Denver');
    await chat.deliverAnswer(
      target,
      ref,
      { outcome: { kind: 'error', text: 'The AI service is down.' } },
      recorder().progress,
    );

    expect(discord.threads.find((th) => th.id === mention.id)?.name).toBe('Thinking about your question');
    expect(discord.messagesIn(mention.id).map((m) => m.content)).toEqual(['⚠️ The AI service is down.']);
  });

  it('replies in the channel when it may not open threads', async () => {
    const mention = discord.dispatchMessage({
      channelId: CHANNEL,
      author: alice,
      content: `<@${discord.bot.id}> Boise?`,
    });
    discord.failNext('startThreadFromMessage', { status: 403, code: 50013, message: 'Missing Permissions' });
    const target = mentionTarget(mention.id);
    const ref = await adapter().postPlaceholder(target, 'Thinking about your question…');
    expect(ref).toMatchObject({ channel: CHANNEL });
    expect(ref.thread).toBeUndefined();
    expect(discord.messagesIn(CHANNEL).at(-1)?.content).toBe('Thinking about your question…');
  });
});

describe('Discord rendering', () => {
  it('fits any answer into messages within the limits', () => {
    for (const n of [1, 5, 40]) {
      const { main, overflow } = renderAnswer({ outcome: { kind: 'answer', text: paragraphs(n) } });
      expectWithinLimits([main, ...overflow]);
    }
    const oneLong = renderAnswer({ outcome: { kind: 'answer', text: 'x'.repeat(9_000) } });
    expectWithinLimits([oneLong.main, ...oneLong.overflow]);
    expect([oneLong.main, ...oneLong.overflow].map((b) => b.embeds[0]!.description).join('')).toBe(
      'x'.repeat(9_000),
    );
  });

  it('names threads briefly', () => {
    expect(threadName('Looking into Seattle → Austin…')).toBe('Seattle → Austin');
    expect(threadName('y'.repeat(300)).length).toBeLessThanOrEqual(100);
  });
});

/** Where the answer to a plain mention (no interaction) goes: a thread opened on that message. */
function mentionTarget(messageId: string): ReplyTarget {
  return { platform: 'discord', workspace: GUILD, userId: 'U1', channel: CHANNEL, thread: messageId, messageId };
}
