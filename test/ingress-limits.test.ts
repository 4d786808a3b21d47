import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl, threadKeys } from '../queue/redis.js';
import { chatJobId, type TurnJob } from '../src/ports/turn-job.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { DISCORD_CHANNEL, DISCORD_GUILD, startSystem, type TestSystem } from './helpers/system.js';

/**
 * Drills at the wire for the ingress limits (turns a minute per user, a daily model-cost budget per
 * workspace, messages waiting per thread): signed Slack events, the Discord gateway and the HTTP API
 * against the real composition root, real Redis and PostgreSQL. Web-only systems hold the worker
 * back, so what was queued stays in the queue to be counted.
 */

const REDIS_URL = process.env.REDIS_URL!;
const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

/** The BullMQ job of a platform message, or undefined when nothing was queued for it. */
async function jobOf(system: TestSystem, message: Pick<TurnJob, 'platform' | 'workspace' | 'channel' | 'messageId'>) {
  const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(REDIS_URL) });
  try {
    return await queue.getJob(chatJobId(message));
  } finally {
    await queue.close();
  }
}

const botMessages = (system: TestSystem, channel: string, ts: string): SlackFakeMessage[] =>
  system.slack!.threadMessages(channel, ts).filter((m) => m.user === system.slack!.botUserId);

/** GET /metrics of the web role (loopback, no key configured). */
const scrape = async (system: TestSystem) => (await fetch(`${system.services.url}/metrics`)).text();
const limitsHit = (metrics: string, limit: string, platform: string) =>
  Number(new RegExp(`^movebot_limits_hit_total\\{limit="${limit}",platform="${platform}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);

describe('ingress limits at the wire (Slack, HTTP API; web role only: nothing is answered)', () => {
  let system: TestSystem;
  beforeAll(async () => {
    // The production defaults: 5 turns a minute, $5 a day, 10 waiting per thread.
    system = await startSystem({ platforms: ['slack'], role: 'web' });
    expect(system.config.limits).toEqual({ turnsPerMinute: 5, dailyBudgetUsd: 5, pendingPerThread: 10 });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('six quick mentions from one user: the sixth gets the limit reply in its thread and queues nothing', async () => {
    const slack = system.slack!;
    const mentions = Array.from({ length: 6 }, (_, i) =>
      slack.mentionEvent({ channel: `CRATE${i}`, user: 'URATE', text: `Should I move from Seattle to Austin? (${i})` }),
    );
    for (const m of mentions) expect((await slack.sendEvent(system.slackEventsUrl, m)).status).toBe(200);

    for (const m of mentions.slice(0, 5)) {
      expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: m.channel, messageId: m.ts })).toBeDefined();
      expect(botMessages(system, m.channel, m.ts)).toEqual([]);
    }
    const sixth = mentions[5]!;
    expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: sixth.channel, messageId: sixth.ts })).toBeUndefined();
    const [reply, ...more] = botMessages(system, sixth.channel, sixth.ts);
    expect(more).toEqual([]);
    expect(reply?.threadTs).toBe(sixth.ts);
    expect(reply?.text).toMatch(/^You're asking faster than I can answer: at most 5 questions a minute\. Try again in \d+ s\.$/);
    const seconds = Number(/in (\d+) s/.exec(reply!.text)![1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    // Another person is not held back by this one.
    const other = slack.mentionEvent({ channel: 'CRATEX', user: 'UOTHER', text: 'Should I move from Boston to Denver?' });
    expect((await slack.sendEvent(system.slackEventsUrl, other)).status).toBe(200);
    expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: 'CRATEX', messageId: other.ts })).toBeDefined();
  });

  it("a Slack retry of an accepted message is still one job and does not spend the user's turns twice", async () => {
    const slack = system.slack!;
    const first = slack.mentionEvent({ channel: 'CRETRY', user: 'URETRY', text: 'Should I move from Seattle to Austin?' });
    const pair = slack.messageEvent({ channel: 'CRETRY', user: 'URETRY', text: first.text, ts: first.ts });
    const deliveries = await Promise.all([
      slack.sendEvent(system.slackEventsUrl, first, { eventId: 'EvRetry1' }),
      slack.sendEvent(system.slackEventsUrl, pair, { eventId: 'EvRetry1b' }),
    ]);
    for (let retryNum = 1; retryNum <= 3; retryNum++) {
      deliveries.push(await slack.sendEvent(system.slackEventsUrl, first, { eventId: 'EvRetry1', retryNum }));
    }
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200, 200]);
    const job = await jobOf(system, { platform: 'slack', workspace: 'T1', channel: 'CRETRY', messageId: first.ts });
    expect(job).toBeDefined();
    const pending = threadKeys(system.queueName, `slack:T1:CRETRY:${first.ts}`).pending;
    expect(await redis.zrange(pending, '0', '-1')).toEqual([job!.id]);
    expect(botMessages(system, 'CRETRY', first.ts)).toEqual([]); // neither refused nor answered twice

    // Five deliveries, one turn spent: four more questions this minute are still taken.
    const next = Array.from({ length: 4 }, (_, i) =>
      slack.mentionEvent({ channel: `CRETRY${i}`, user: 'URETRY', text: `And Denver? (${i})` }),
    );
    for (const m of next) expect((await slack.sendEvent(system.slackEventsUrl, m)).status).toBe(200);
    for (const m of next) {
      expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: m.channel, messageId: m.ts })).toBeDefined();
    }
    // The sixth is refused once; its own redelivery is a duplicate, not a second refusal.
    const over = slack.mentionEvent({ channel: 'CRETRYX', user: 'URETRY', text: 'And Miami?' });
    expect((await slack.sendEvent(system.slackEventsUrl, over, { eventId: 'EvOver' })).status).toBe(200);
    expect((await slack.sendEvent(system.slackEventsUrl, over, { eventId: 'EvOver', retryNum: 1 })).status).toBe(200);
    expect(botMessages(system, 'CRETRYX', over.ts).map((m) => m.text)).toEqual([
      expect.stringMatching(/^You're asking faster than I can answer/),
    ]);
  });

  it('a thread with 10 messages waiting refuses the 11th with a reply in the thread, and it takes no place', async () => {
    const slack = system.slack!;
    const root = slack.mentionEvent({ channel: 'CBUSY', user: 'UBUSY0', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, root)).status).toBe(200);
    // Nine more in the thread, from different people (each within their own turns a minute).
    for (let i = 1; i <= 9; i++) {
      const reply = slack.mentionEvent({ channel: 'CBUSY', user: `UBUSY${i}`, text: `What about rent? (${i})`, threadTs: root.ts });
      expect((await slack.sendEvent(system.slackEventsUrl, reply)).status).toBe(200);
    }
    const pending = threadKeys(system.queueName, `slack:T1:CBUSY:${root.ts}`).pending;
    expect(await redis.zcard(pending)).toBe(10);

    const eleventh = slack.messageEvent({ channel: 'CBUSY', user: 'UBUSY10', text: 'And taxes?', threadTs: root.ts });
    expect((await slack.sendEvent(system.slackEventsUrl, eleventh)).status).toBe(200);
    expect(await redis.zcard(pending)).toBe(10);
    expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: 'CBUSY', messageId: eleventh.ts })).toBeUndefined();
    const replies = botMessages(system, 'CBUSY', root.ts);
    expect(replies.map((m) => m.text)).toEqual([
      'This thread already has 10 questions waiting for an answer. Please ask again once I have answered them (in about 60 s).',
    ]);
    expect(replies[0]!.threadTs).toBe(root.ts);
    // The refusal spent none of the asker's turns: a question of theirs elsewhere is taken.
    const elsewhere = slack.mentionEvent({ channel: 'CBUSY2', user: 'UBUSY10', text: 'Should I move from Boston to Denver?' });
    expect((await slack.sendEvent(system.slackEventsUrl, elsewhere)).status).toBe(200);
    expect(await jobOf(system, { platform: 'slack', workspace: 'T1', channel: 'CBUSY2', messageId: elsewhere.ts })).toBeDefined();
  });

  it('the HTTP API answers the sixth run of a user this minute with 429, Retry-After and a detail', async () => {
    const post = async () => {
      const form = new FormData();
      form.set('message', 'Should I move from Seattle to Austin?');
      form.set('user_id', 'api-rate-user');
      form.set('stream', 'true');
      const left = new AbortController();
      const res = await fetch(`${system.services.url}/teams/move-decision-team/runs`, { method: 'POST', body: form, signal: left.signal });
      // An accepted run streams until a worker answers it (none here): read the status, then leave.
      const body = res.status === 429 ? ((await res.json()) as Record<string, unknown>) : undefined;
      const out = { status: res.status, retryAfter: res.headers.get('retry-after'), body };
      left.abort();
      return out;
    };
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await post());
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = results[5]!;
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body).toMatchObject({
      error: 'rate_limited',
      limit: 'user_turns',
      retry_after_seconds: Number(refused.retryAfter),
      detail: expect.stringMatching(/^You're asking faster than I can answer: at most 5 questions a minute\. Try again in \d+ s\.$/),
    });
    expect(refused.body?.message).toBe(refused.body?.detail);
  });

  it('/metrics counts the limits hit, by limit and platform', async () => {
    const metrics = await scrape(system);
    expect(metrics).toContain('# TYPE movebot_limits_hit_total counter');
    expect(limitsHit(metrics, 'user_turns', 'slack')).toBe(2);
    expect(limitsHit(metrics, 'thread_pending', 'slack')).toBe(1);
    expect(limitsHit(metrics, 'user_turns', 'api')).toBe(1);
    expect(limitsHit(metrics, 'workspace_budget', 'slack')).toBe(0);
    expect(limitsHit(metrics, 'user_turns', 'discord')).toBe(0);
  });
});

describe('the daily budget per workspace at the wire (web + worker)', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ platforms: ['slack'], slackStreaming: false });
    // Workspace TBROKE spent $5.25 today (a finished run, as the worker records it); T1 nothing yet.
    const { db } = system.db;
    await db.query(`INSERT INTO sessions (id, thread_key, platform) VALUES ('budget-s1', 'slack:TBROKE:CB0:1700000000.000100', 'slack')`);
    await db.query(
      `INSERT INTO runs (id, session_id, status, input, cost_usd, started_at, finished_at)
       VALUES ('budget-r1', 'budget-s1', 'completed', 'q', 5.25, now() - interval '1 second', now())`,
    );
    // Spend from before today's UTC midnight does not count.
    await db.query(`INSERT INTO sessions (id, thread_key, platform) VALUES ('budget-s2', 'slack:TYESTERDAY:CB0:1.0', 'slack')`);
    await db.query(
      `INSERT INTO runs (id, session_id, status, input, cost_usd, started_at, finished_at)
       VALUES ('budget-r2', 'budget-s2', 'completed', 'q', 50, date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 minute', now())`,
    );
  });
  afterAll(async () => {
    await system?.close();
  });

  it('refuses a workspace over its budget with a reply saying it resets tomorrow (UTC midnight), and answers another', async () => {
    const slack = system.slack!;
    const broke = slack.mentionEvent({ channel: 'CBROKE', user: 'UB1', text: 'Should I move from Seattle to Austin?' });
    const sent = Date.now();
    expect((await slack.sendEvent(system.slackEventsUrl, broke, { teamId: 'TBROKE' })).status).toBe(200);
    const [reply] = await waitForBotReplies(slack, 'CBROKE', broke.ts, (r) => r.length >= 1);
    expect(reply!.threadTs).toBe(broke.ts);
    expect(reply!.text).toMatch(
      /^This workspace has used today's budget for questions \(\$5\.00 a day\)\. It resets tomorrow at 00:00 UTC \(in (\d+ h ?)?(\d+ min)?\); please try again then\.$/,
    );
    // "in H h M min" is the time to the next UTC midnight, rounded up to the minute.
    const midnight = Math.ceil((sent + 1) / 86_400_000) * 86_400_000;
    const [, h, m] = /\(in (?:(\d+) h)? ?(?:(\d+) min)?\)/.exec(reply!.text)!;
    const saidMs = (Number(h ?? 0) * 60 + Number(m ?? 0)) * 60_000;
    expect(Math.abs(saidMs - (midnight - sent))).toBeLessThan(61_000);
    expect(await jobOf(system, { platform: 'slack', workspace: 'TBROKE', channel: 'CBROKE', messageId: broke.ts })).toBeUndefined();

    // Another workspace is still answered, and so is one whose spending was yesterday's.
    for (const team of ['T1', 'TYESTERDAY']) {
      const ok = slack.mentionEvent({ channel: `COK${team}`, user: 'UB2', text: 'Should I move from Seattle to Austin?' });
      expect((await slack.sendEvent(system.slackEventsUrl, ok, { teamId: team })).status).toBe(200);
      const [answer] = await waitForBotReplies(slack, `COK${team}`, ok.ts, (r) => r[0] !== undefined && isAnswered(r[0]));
      expect(shownText(answer)).toContain('Seattle, WA → Austin, TX');
    }
    const metrics = await scrape(system);
    expect(limitsHit(metrics, 'workspace_budget', 'slack')).toBe(1);
    // The spend is cached in Redis for every web replica (30 s), keyed by workspace and UTC day.
    const cached = await redis.keys(`movebot:${system.queueName}:limits:spend:*`);
    expect(cached.length).toBeGreaterThanOrEqual(3);
  });
});

describe('ingress limits at the Discord gateway (web role only)', () => {
  let system: TestSystem;
  const carol = { id: '840000000000000001', username: 'carol' };
  const dave = { id: '840000000000000002', username: 'dave' };
  beforeAll(async () => {
    system = await startSystem({ platforms: ['discord'], role: 'web' });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('a sixth /move this minute gets the limit in its deferred reply; a sixth mention gets it as a reply', async () => {
    const discord = system.discord!;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id } = discord.dispatchInteraction({ channelId: DISCORD_CHANNEL, user: carol, commandName: 'move', options: { from: 'Seattle', to: `Austin ${i}` } });
      ids.push(id);
      await waitFor(() => jobOf(system, { platform: 'discord', workspace: DISCORD_GUILD, channel: DISCORD_CHANNEL, messageId: id }), {
        what: `command ${i} queued`,
      });
    }
    const sixth = discord.dispatchInteraction({ channelId: DISCORD_CHANNEL, user: carol, commandName: 'move', options: { from: 'Seattle', to: 'Austin 5' } }).id;
    const rootId = await waitFor(() => discord.interaction(sixth)?.originalMessageId, { what: 'the deferred reply' });
    const refused = await waitFor(
      () => discord.messagesIn(DISCORD_CHANNEL).find((m) => m.id === rootId && /faster than I can answer/.test(m.content)),
      { what: 'the limit in the reply' },
    );
    expect(refused.content).toMatch(/^You're asking faster than I can answer: at most 5 questions a minute\. Try again in \d+ s\.$/);
    expect(await jobOf(system, { platform: 'discord', workspace: DISCORD_GUILD, channel: DISCORD_CHANNEL, messageId: sixth })).toBeUndefined();

    const mentions = [];
    for (let i = 0; i < 5; i++) {
      const m = discord.dispatchMessage({ channelId: DISCORD_CHANNEL, author: dave, content: `<@${discord.bot.id}> Should I move to Denver? (${i})` });
      mentions.push(m);
      await waitFor(() => jobOf(system, { platform: 'discord', workspace: DISCORD_GUILD, channel: DISCORD_CHANNEL, messageId: m.id }), {
        what: `mention ${i} queued`,
      });
    }
    const last = discord.dispatchMessage({ channelId: DISCORD_CHANNEL, author: dave, content: `<@${discord.bot.id}> And Miami?` });
    const reply = await waitFor(
      () => discord.messagesIn(DISCORD_CHANNEL).find((m) => m.author.id === discord.bot.id && /faster than I can answer/.test(m.content) && m.id !== rootId),
      { what: 'the limit reply to the sixth mention' },
    );
    expect(reply.content).toMatch(/^You're asking faster than I can answer: at most 5 questions a minute\. Try again in \d+ s\.$/);
    // A reply to the message itself, pinging nobody.
    const posted = discord.callsTo('createMessage').find((c) => (c.body as { content?: string }).content === reply.content);
    expect(posted?.body).toMatchObject({ message_reference: { message_id: last.id }, allowed_mentions: { parse: [] } });
    expect(await jobOf(system, { platform: 'discord', workspace: DISCORD_GUILD, channel: DISCORD_CHANNEL, messageId: last.id })).toBeUndefined();
    const metrics = await scrape(system);
    expect(limitsHit(metrics, 'user_turns', 'discord')).toBe(2);
  });
});
