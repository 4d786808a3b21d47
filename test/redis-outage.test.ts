import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '../queue/redis.js';
import { waitFor } from './fakes/fake-http.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { type DrillRedis, startDrillRedis } from './helpers/outage-servers.js';
import { startSystem, type TestSystem } from './helpers/system.js';

// Redis outage drill: the whole product on a Redis of the drill's own (append-only, as a production
// Redis keeps its data), stopped while a worker is mid-answer with another message waiting. When it
// returns, the jobs resume: every message answered exactly once, none lost.
let redis: DrillRedis;
let system: TestSystem | undefined;

beforeAll(async () => {
  redis = await startDrillRedis();
});

afterEach(async () => {
  await redis.start().catch(() => {}); // running again unless a drill failed midway
  await system?.close();
  system = undefined;
});

afterAll(async () => {
  await redis?.close();
});

const botMessages = (system: TestSystem, channel: string, ts: string) =>
  system.slack!.threadMessages(channel, ts).filter((m) => m.user === system.slack!.botUserId && !m.files?.length);
const isAnswer = (m: SlackFakeMessage) => JSON.stringify(m.blocks ?? []).includes('feedback_buttons');

describe('Redis down at the worker', () => {
  it.each([
    ['shorter than the job lock', false],
    ['longer than the job lock (BullMQ re-runs the job)', true],
  ])('an outage %s: the jobs resume when it returns, each message answered once', async (_how, fastStalls) => {
    system = await startSystem({
      platforms: ['slack'],
      slackStreaming: false,
      redisUrl: redis.url,
      fastStalls,
      // One job at a time: the second message waits in the queue through the outage.
      env: { WORKER_CONCURRENCY: '1' },
    });
    const { slack, fakes } = system as Required<TestSystem>;
    fakes.openai.setLatency(1_000);
    const first = slack.mentionEvent({ channel: 'CR1', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    const second = slack.mentionEvent({ channel: 'CR2', user: 'U2', text: 'Should I move from Denver to Boston?' });
    expect((await slack.sendEvent(system.slackEventsUrl, first)).status).toBe(200);
    expect((await slack.sendEvent(system.slackEventsUrl, second)).status).toBe(200);

    // Mid-answer: the first placeholder is up and the model is thinking. Redis goes away.
    await waitFor(() => botMessages(system!, 'CR1', first.ts).length === 1, { timeoutMs: 20_000, what: 'the placeholder' });
    await fakes.openai.waitForRequests(1, 20_000);
    await redis.stop();
    // The turn runs on without Redis to its end (the answer is written and stored); it cannot say it
    // is done (the thread lock, the run's events, the job's completion are all in Redis) until Redis is back.
    await waitFor(
      () => fakes.openai.chatRequests.some((r) => r.system.includes('Combine the analysts') && r.repliedAt !== undefined),
      { timeoutMs: 20_000, what: 'the first answer written while Redis is down' },
    );
    expect(botMessages(system, 'CR1', first.ts).some(isAnswer)).toBe(false);
    fakes.openai.setLatency(0);
    await redis.start();

    for (const [channel, ts] of [
      ['CR1', first.ts],
      ['CR2', second.ts],
    ] as const) {
      await waitFor(() => botMessages(system!, channel, ts).some(isAnswer), { timeoutMs: 30_000, what: `the answer in ${channel}` });
    }
    const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(redis.url) });
    try {
      await waitFor(async () => (await queue.getCompletedCount()) === 2, { timeoutMs: 15_000, what: 'both jobs completed' });
      expect(await queue.getFailedCount()).toBe(0);
    } finally {
      await queue.close();
    }
    for (const [channel, ts] of [
      ['CR1', first.ts],
      ['CR2', second.ts],
    ] as const) {
      expect(botMessages(system, channel, ts)).toHaveLength(1); // one placeholder, edited into one answer
      const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:${channel}:${ts}`);
      const stored = await system.services.runtime.store.listMessages(session!.id);
      expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
    }
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  }, 90_000);
});
