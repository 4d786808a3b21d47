import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackReceiver, type SlackReceiver } from '../adapters/slack/slack-receiver.js';
import { createFeedbackStore } from '../db/repositories/feedback-repository.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { createMessageQueue } from '../queue/producer.js';
import { createRedisRunCancellation } from '../queue/run-event-stream.js';
import { silentLogger } from '../src/logger.js';
import type { TurnJob } from '../src/ports/turn-job.js';
import { createAnswerActions, encodeAction } from '../src/run/answer-actions.js';
import { waitFor } from './fakes/fake-http.js';
import { createSlackFake, type SlackFake } from './fakes/slack-fake.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/** Button clicks arriving over Socket Mode (interactive envelopes), not the events endpoint. */
let slack: SlackFake;
let db: TestDatabase;
let receiver: SlackReceiver;
const queue = createMessageQueue({ redisUrl: process.env.REDIS_URL!, queueName: `movebot-test-${randomUUID()}` });
const cancellation = createRedisRunCancellation({ redisUrl: process.env.REDIS_URL!, logger: silentLogger });

beforeAll(async () => {
  slack = await createSlackFake({ signingSecret: 'unused-in-socket-mode' });
  db = await createTestDatabase('postgres');
  const store = createSessionStore(db.db);
  receiver = await createSlackReceiver({
    config: {
      slack: { botToken: 'xoxb-socket-clicks', signingSecret: undefined, appToken: 'xapp-socket-clicks', apiUrl: slack.apiUrl },
    },
    queue,
    store,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    actions: createAnswerActions({ cancellation, feedback: createFeedbackStore(db.db), queue, store }),
  });
  await receiver.start();
  await slack.socketConnected();
});
afterAll(async () => {
  await receiver?.stop();
  await queue.close();
  await cancellation.close();
  await db?.cleanup();
  await slack?.close();
});

describe('Slack clicks in Socket Mode', () => {
  it('acks a follow-up click over the socket after queuing the question as the clicking user', async () => {
    const mention = slack.mentionEvent({ channel: 'C7', user: 'U1', text: 'Seattle to Austin?' });
    const answer = (
      await fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-socket-clicks', 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'C7', thread_ts: mention.ts, text: 'Move.' }),
      }).then((r) => r.json() as Promise<{ ts: string }>)
    ).ts;
    const actionId = encodeAction({ kind: 'follow_up', runId: 'run-1', followUp: 'taxes' });

    const { ack } = await slack.sendSocketInteraction(
      slack.blockActionPayload({ user: 'U2', channel: 'C7', messageTs: answer, actionId, value: actionId }),
    );

    expect(ack.envelope_id).toBeDefined();
    const jobs = (await queue.queue.getJobs(['waiting', 'delayed', 'active'])).map((j) => j.data as TurnJob);
    expect(jobs.map((j) => [j.userId, j.text, j.threadKey])).toEqual([['U2', 'What about taxes?', `slack:T1:C7:${mention.ts}`]]);
    await waitFor(() => slack.threadMessages('C7', mention.ts).some((m) => m.text === '<@U2> asked: *What about taxes?*'), {
      what: 'the question shown in the thread',
    });
  });
});
