import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '../queue/redis.js';
import { waitFor } from './fakes/fake-http.js';
import { shownText } from './helpers/slack-thread.js';
import { startSystem, type TestSystem } from './helpers/system.js';
import { workerProcesses } from './helpers/worker-processes.js';

// A job that fails for good must leave a clear message in its thread, never a stuck placeholder.
let system: TestSystem | undefined;
const workers = workerProcesses(() => system!);

afterEach(async () => {
  await workers.killAll();
  await system?.close();
  system = undefined;
});

const botMessages = (system: TestSystem, channel: string, ts: string) =>
  system.slack!.threadMessages(channel, ts).filter((m) => m.user === system.slack!.botUserId);

async function lastStoredMessage(system: TestSystem, threadKey: string) {
  const session = await system.services.runtime.store.getSessionByThreadKey(threadKey);
  return (await system.services.runtime.store.listMessages(session!.id)).at(-1);
}

describe('a job that fails for good', () => {
  it('shows the answer as plain text when Slack refuses its blocks', async () => {
    system = await startSystem({ platforms: ['slack'], slackStreaming: false });
    const slack = system.slack!;
    // Every message with blocks is refused, as Slack does a layout it cannot render; plain text passes.
    slack.failNext('chat.update', 'invalid_blocks', 10, (args) => args.blocks !== undefined);
    slack.failNext('chat.postMessage', 'invalid_blocks', 10, (args) => args.blocks !== undefined);
    const mention = slack.mentionEvent({
      channel: 'CF1',
      user: 'U1',
      text: 'Should I move from Seattle to Austin?',
    });
    await slack.sendEvent(system.slackEventsUrl, mention);

    const [shown] = await waitFor(
      () => {
        const replies = botMessages(system!, 'CF1', mention.ts);
        return replies.some((m) => /as plain text/.test(m.text)) && replies;
      },
      { timeoutMs: 20_000, what: 'the plain-text answer' },
    );
    expect(shownText(shown)).toMatch(/^⚠️ I couldn't post my answer here in full/);
    expect(shownText(shown)).toContain('Seattle, WA → Austin, TX');
    // The job is failed (operators see it); its failure handler finds the notice claimed and adds none.
    await waitFor(async () => (await system!.services.queue!.counts()).failed === 1, {
      what: 'the failed job',
    });
    await system.services.worker!.close(5_000); // waits for failure notices in flight
    expect(botMessages(system, 'CF1', mention.ts)).toHaveLength(1);
    // The placeholder's Stop button was refused too, so it was posted as text: one message in all.
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.blocks === undefined)).toHaveLength(1);
  });

  it('says so in the thread when the job stalled out because it kept killing its worker', async () => {
    system = await startSystem({ platforms: ['slack'], role: 'web', fastStalls: true, slackStreaming: false });
    const { slack, fakes } = system as Required<TestSystem>;
    fakes.openai.setLatency(10_000); // every run sits in its first model call until it is killed
    const mention = slack.mentionEvent({
      channel: 'CF2',
      user: 'U2',
      text: 'Should I move from Seattle to Austin?',
    });
    await slack.sendEvent(system.slackEventsUrl, mention);

    // BullMQ fails a job that stalled more than maxStalledCount (2) times without running it again.
    for (let run = 1; run <= 3; run += 1) {
      const seen = fakes.openai.requests.length;
      // A short thread lock: each re-run need not wait long for the killed run's lock to lapse.
      const child = await workers.start({ TEST_THREAD_LOCK_MS: '1500' });
      await fakes.openai.waitForRequests(seen + 1, 20_000);
      await workers.kill(child);
    }
    fakes.openai.setLatency(0);
    await system.startMore('worker');

    await waitFor(() => botMessages(system!, 'CF2', mention.ts).some((m) => m.text.startsWith('⚠️')), {
      timeoutMs: 20_000,
      what: 'the failure notice',
    });
    const replies = botMessages(system, 'CF2', mention.ts);
    expect(replies).toHaveLength(1); // the placeholder, edited into the notice
    expect(replies[0]!.text).toBe('⚠️ Something went wrong while answering. Please try again. (error code: internal)');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(process.env.REDIS_URL!) });
    const failed = await queue.getFailed().finally(() => queue.close());
    expect(failed.map((j) => j.failedReason)).toEqual(['job stalled more than allowable limit']);
    expect(await lastStoredMessage(system, `slack:T1:CF2:${mention.ts}`)).toMatchObject({
      role: 'assistant',
      metadata: { kind: 'error' },
    });
  }, 90_000);
});
