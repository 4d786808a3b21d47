import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '../queue/redis.js';
import { waitFor } from './fakes/fake-http.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { startSystem, type TestSystem } from './helpers/system.js';

// The whole-turn deadline: a model that trickles tokens forever is stopped at TURN_DEADLINE_MS (its
// request aborted at the wire), the thread is told so, and the thread is free for the next message.
let system: TestSystem | undefined;

afterEach(async () => {
  system?.fakes.openai.setStreamPacing(8, 0);
  await system?.close();
  system = undefined;
});

const DEADLINE_MS = 4_000;
const botMessages = (system: TestSystem, channel: string, ts: string) =>
  system.slack!.threadMessages(channel, ts).filter((m) => m.user === system.slack!.botUserId && !m.files?.length);
const isAnswer = (m: SlackFakeMessage) => JSON.stringify(m.blocks ?? []).includes('feedback_buttons');

describe.each([
  ['a native stream', true],
  ['a placeholder edited as it goes', false],
])('a turn past its deadline, in %s', (_how, streaming) => {
  it('is stopped with a clear message, its model call aborted, and the thread answers the next message', async () => {
    system = await startSystem({ platforms: ['slack'], slackStreaming: streaming, env: { TURN_DEADLINE_MS: String(DEADLINE_MS) } });
    const { slack, fakes } = system as Required<TestSystem>;
    // One character every 400 ms: the recommendation would take minutes to write.
    fakes.openai.setStreamPacing(1, 400);
    const mention = slack.mentionEvent({ channel: 'CT1', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    const asked = Date.now();
    await slack.sendEvent(system.slackEventsUrl, mention);

    const notice = await waitFor(
      () => botMessages(system!, 'CT1', mention.ts).find((m) => /turn_timeout/.test(m.text) && !m.streaming),
      { timeoutMs: 20_000, what: 'the deadline notice' },
    );
    expect(Date.now() - asked).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(notice.text).toMatch(/⚠️/);
    // Nothing left behind once the failure is delivered: no open stream, no Stop button, no placeholder.
    await waitFor(
      () => !botMessages(system!, 'CT1', mention.ts).some((m) => m.streaming || /Looking into|Writing the answer/.test(m.text)),
      { what: 'the stream and its Stop button gone' },
    );
    const shown = botMessages(system, 'CT1', mention.ts);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.text).toMatch(/turn_timeout/);

    // The trickling request was cut at the wire, and no model call was made after the deadline.
    await waitFor(() => fakes.openai.chatRequests.every((r) => r.repliedAt !== undefined || r.clientAborted), {
      what: 'no model call left open',
    });
    expect(fakes.openai.chatRequests.some((r) => r.clientAborted)).toBe(true);
    const seen = fakes.openai.chatRequests.length;

    // Failed for good on its first attempt: a retry would hold the thread as long again.
    const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(process.env.REDIS_URL!) });
    try {
      const failed = await waitFor(async () => {
        const jobs = await queue.getFailed();
        return jobs.length > 0 && jobs;
      }, { what: 'the failed job' });
      expect(failed).toHaveLength(1);
      expect(failed[0]!.attemptsMade).toBe(1);
    } finally {
      await queue.close();
    }
    expect(fakes.openai.chatRequests.length).toBe(seen);
    // The run is recorded as failed, not left running.
    expect((await system.db.db.query('SELECT status FROM runs')).rows).toEqual([{ status: 'failed' }]);

    // The thread is not held: a follow-up at a normal pace is answered.
    fakes.openai.setStreamPacing(8, 0);
    const followUp = slack.mentionEvent({
      channel: 'CT1',
      user: 'U1',
      text: 'Should I move from Seattle to Austin? Try again please.',
      threadTs: mention.ts,
    });
    await slack.sendEvent(system.slackEventsUrl, followUp);
    await waitFor(() => botMessages(system!, 'CT1', mention.ts).some(isAnswer), { timeoutMs: 20_000, what: 'the follow-up answer' });
  }, 60_000);
});
