import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebListener } from '../adapters/server/web-app.js';
import { BARE_MENTION_TEXT } from '../adapters/slack/slack-normalize.js';
import { createSlackReceiver } from '../adapters/slack/slack-receiver.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import type { ChatJob } from '../src/ports/turn-job.js';
import { createMessageQueue } from '../queue/producer.js';
import { silentLogger } from '../src/logger.js';
import type { SessionStore } from '../src/ports/session-store.js';
import { waitFor } from './fakes/fake-http.js';
import { createSlackFake, type SlackFake } from './fakes/slack-fake.js';
import { sendForgedMentions } from './helpers/slack-thread.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const REDIS_URL = process.env.REDIS_URL!;
const SECRET = 'slack-receiver-test-secret';
const BOT_TOKEN = 'xoxb-receiver-test';

let slack: SlackFake;
let t: TestDatabase;
let store: SessionStore;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  slack = await createSlackFake({ signingSecret: SECRET });
  t = await createTestDatabase('postgres');
  store = createSessionStore(t.db);
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
afterAll(async () => {
  await t?.cleanup();
  await slack?.close();
});

/** A port nothing listens on: Redis "down". */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Listens on `port` and pipes every connection to `target`: a Redis that comes back. */
async function startRelay(port: number, target: URL): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The receiver on its own queue, mounted in the real web app (HTTP) or connected (Socket Mode). */
async function startReceiver(options: { socket?: boolean; redisUrl?: string } = {}) {
  const queue = createMessageQueue({
    redisUrl: options.redisUrl ?? REDIS_URL,
    queueName: `movebot-test-${randomUUID()}`,
    timeoutMs: 500,
  });
  const receiver = await createSlackReceiver({
    config: {
      slack: {
        botToken: BOT_TOKEN,
        signingSecret: options.socket ? undefined : SECRET,
        appToken: options.socket ? 'xapp-receiver-test' : undefined,
        apiUrl: slack.apiUrl,
      },
    },
    queue,
    store,
    logger: silentLogger,
    retryConfig: { retries: 0 },
  });
  let server: Server | undefined;
  let eventsUrl = '';
  if (!options.socket) {
    server = createServer(createWebListener({ logger: silentLogger, slackRouter: receiver.router, slackIngress: receiver.ingress }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  }
  await receiver.start();
  cleanups.push(async () => {
    await receiver.stop();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await queue.close();
  });
  const jobs = async (): Promise<ChatJob[]> => {
    const all = await queue.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    return all.sort((a, b) => a.timestamp - b.timestamp).map((j) => j.data);
  };
  return { receiver, queue, jobs, eventsUrl };
}

describe('Slack receiver over HTTP', () => {
  it('acks a signed mention with 200 after queuing one job for its thread', async () => {
    const { jobs, eventsUrl, receiver } = await startReceiver();
    const mention = slack.mentionEvent({
      channel: 'C1',
      user: 'U1',
      text: 'Should I move from Seattle to Austin?',
    });

    const res = await slack.sendEvent(eventsUrl, mention);

    expect(res.status).toBe(200);
    // processBeforeResponse: by the time Slack has its 200, the job is in Redis.
    expect(await jobs()).toEqual([
      expect.objectContaining({
        platform: 'slack',
        workspace: 'T1',
        channel: 'C1',
        thread: mention.ts,
        messageId: mention.ts,
        userId: 'U1',
        text: 'Should I move from Seattle to Austin?',
        threadKey: `slack:T1:C1:${mention.ts}`,
      }),
    ]);
    expect(receiver.botUserId).toBe('UBOT');
    expect(receiver.mode).toBe('http');
  });

  it('queues one job for retries of an event and for the message + app_mention pair', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const mention = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'Denver to Chicago' });
    const sameMessage = slack.messageEvent({ channel: 'C1', user: 'U1', text: mention.text, ts: mention.ts });

    const statuses = [
      (await slack.sendEvent(eventsUrl, mention, { eventId: 'Ev1' })).status,
      (await slack.sendEvent(eventsUrl, mention, { eventId: 'Ev1', retryNum: 1 })).status,
      (await slack.sendEvent(eventsUrl, sameMessage, { eventId: 'Ev2' })).status,
      (
        await slack.sendEvent(eventsUrl, sameMessage, {
          eventId: 'Ev2',
          retryNum: 2,
          retryReason: 'http_error',
        })
      ).status,
    ];

    expect(statuses).toEqual([200, 200, 200, 200]);
    expect((await jobs()).map((j) => j.text)).toEqual(['Denver to Chicago']);
  });

  it('ignores its own messages, other bots, edits, deletions and joins', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const root = slack.mentionEvent({ channel: 'C2', user: 'U1', text: 'hi' });
    await store.getOrCreateSession({ threadKey: `slack:T1:C2:${root.ts}`, platform: 'slack' });
    const inThread = { channel: 'C2', threadTs: root.ts };
    const events = [
      slack.messageEvent({ ...inThread, text: 'Looking into it…', user: 'UBOT', botId: slack.botId }),
      slack.messageEvent({ ...inThread, text: 'beep', user: 'U9', botId: 'BOTHER' }),
      slack.messageEvent({ ...inThread, text: 'edited', user: 'U1', subtype: 'message_changed' }),
      slack.messageEvent({ ...inThread, text: '', user: 'U1', subtype: 'message_deleted' }),
      slack.messageEvent({ ...inThread, text: '<@U3> has joined', user: 'U3', subtype: 'channel_join' }),
    ];

    for (const event of events) expect((await slack.sendEvent(eventsUrl, event)).status).toBe(200);

    expect(await jobs()).toEqual([]);
  });

  it('takes a follow-up without a mention only in a thread it holds a conversation in', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const known = slack.mentionEvent({ channel: 'C3', user: 'U1', text: 'Seattle to Austin' });
    const unknown = slack.messageEvent({ channel: 'C3', user: 'U2', text: 'a human thread' });
    await store.getOrCreateSession({ threadKey: `slack:T1:C3:${known.ts}`, platform: 'slack' });

    await slack.sendEvent(
      eventsUrl,
      slack.messageEvent({ channel: 'C3', user: 'U2', text: 'lunch?', threadTs: unknown.ts }),
    );
    await slack.sendEvent(
      eventsUrl,
      slack.messageEvent({ channel: 'C3', user: 'U2', text: 'top level chatter' }),
    );
    const followUp = slack.messageEvent({
      channel: 'C3',
      user: 'U1',
      text: 'What about rent?',
      threadTs: known.ts,
    });
    await slack.sendEvent(eventsUrl, followUp);

    expect(await jobs()).toEqual([
      expect.objectContaining({
        text: 'What about rent?',
        messageId: followUp.ts,
        threadKey: `slack:T1:C3:${known.ts}`,
      }),
    ]);
  });

  it('takes a quick follow-up while the thread’s first message still waits for a worker', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const mention = slack.mentionEvent({ channel: 'C4', user: 'U1', text: 'Seattle to Austin?' });
    await slack.sendEvent(eventsUrl, mention);
    // No worker runs here, so no session exists yet: only the queued mention makes the thread ours.
    expect(await store.getSessionByThreadKey(`slack:T1:C4:${mention.ts}`)).toBeUndefined();
    await slack.sendEvent(
      eventsUrl,
      slack.messageEvent({ channel: 'C4', user: 'U1', text: 'and I have a dog', threadTs: mention.ts }),
    );
    expect((await jobs()).map((j) => j.text)).toEqual(['Seattle to Austin?', 'and I have a dog']);
  });

  it('answers DMs without a mention and bare mentions with a stand-in question', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const dm = slack.messageEvent({ channel: 'D1', user: 'U1', text: 'Boston to Denver?' });
    const bare = slack.mentionEvent({ channel: 'C4', user: 'U1', text: '<@UBOT>' });

    await slack.sendEvent(eventsUrl, dm);
    await slack.sendEvent(eventsUrl, bare);

    expect((await jobs()).map((j) => [j.threadKey, j.text])).toEqual([
      [`slack:T1:D1:${dm.ts}`, 'Boston to Denver?'],
      [`slack:T1:C4:${bare.ts}`, BARE_MENTION_TEXT],
    ]);
  });

  it('answers 401 to a bad or stale signature and queues nothing', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    expect(await sendForgedMentions(slack, eventsUrl)).toEqual([401, 401]);
    expect(await jobs()).toEqual([]);
  });

  it('answers 401 to an unsigned request without reading it as an event, and queues nothing', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const mention = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'Seattle to Austin?' });
    const body = JSON.stringify({ type: 'event_callback', team_id: 'T1', event_id: 'EvUnsigned', event: mention });
    const res = await fetch(eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
    expect(await jobs()).toEqual([]);
  });

  it('queues once when Slack delivers the same event again while the first is still being queued', async () => {
    const { jobs, eventsUrl } = await startReceiver();
    const mention = slack.mentionEvent({ channel: 'C7', user: 'U1', text: 'Austin to Boise?' });
    const statuses = await Promise.all([
      slack.sendEvent(eventsUrl, mention, { eventId: 'EvTwice' }),
      slack.sendEvent(eventsUrl, mention, { eventId: 'EvTwice', retryNum: 1 }),
      slack.sendEvent(eventsUrl, mention, { eventId: 'EvTwice', retryNum: 2, retryReason: 'http_error' }),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await jobs()).map((j) => j.text)).toEqual(['Austin to Boise?']);
  });

  it('answers the URL verification challenge', async () => {
    const { eventsUrl, jobs } = await startReceiver();
    const res = await slack.urlVerification(eventsUrl);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ challenge: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(await jobs()).toEqual([]);
  });

  it('answers 5xx when Redis is down, so Slack delivers the event again', async () => {
    const down = await startReceiver({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    const mention = slack.mentionEvent({ channel: 'C5', user: 'U1', text: 'Seattle to Austin' });

    const res = await slack.sendEvent(down.eventsUrl, mention, { eventId: 'EvDown' });

    expect(res.status).toBeGreaterThanOrEqual(500);
    // Slack's retry reaches a healthy instance: the message is queued, not lost.
    const up = await startReceiver();
    const retry = await slack.sendEvent(up.eventsUrl, mention, { eventId: 'EvDown', retryNum: 1 });
    expect(retry.status).toBe(200);
    expect((await up.jobs()).map((j) => j.text)).toEqual(['Seattle to Austin']);
  });
});

describe('Slack receiver when Redis comes back', () => {
  it('queues Slack\'s retry on the same instance, with no restart', async () => {
    const port = await closedPort();
    const instance = await startReceiver({ redisUrl: `redis://127.0.0.1:${port}` });
    const mention = slack.mentionEvent({ channel: 'C8', user: 'U1', text: 'Boise to Denver' });
    expect((await slack.sendEvent(instance.eventsUrl, mention, { eventId: 'EvBack' })).status).toBeGreaterThanOrEqual(500);

    // Redis is back at the same address (a TCP relay to the test's Redis); closed after the receiver.
    const relay = await startRelay(port, new URL(REDIS_URL));
    cleanups.unshift(() => relay.close());
    let retryNum = 0;
    await waitFor(
      async () => (await slack.sendEvent(instance.eventsUrl, mention, { eventId: 'EvBack', retryNum: ++retryNum })).status === 200,
      { timeoutMs: 10_000, intervalMs: 200, what: 'a 200 once Redis is back' },
    );
    expect((await instance.jobs()).map((j) => j.text)).toEqual(['Boise to Denver']);
  });
});

describe('Slack receiver in Socket Mode', () => {
  it('connects, queues a mention and acks the envelope after queuing it', async () => {
    const { jobs, receiver } = await startReceiver({ socket: true });
    await slack.socketConnected();
    const mention = slack.mentionEvent({ channel: 'C6', user: 'U1', text: 'Austin to Seattle' });

    const { ack, envelopeId } = await slack.sendSocketEvent(mention);

    expect(ack.envelope_id).toBe(envelopeId);
    expect((await jobs()).map((j) => [j.threadKey, j.text])).toEqual([
      [`slack:T1:C6:${mention.ts}`, 'Austin to Seattle'],
    ]);
    expect(receiver.router).toBeUndefined();
    expect(slack.callsTo('apps.connections.open').length).toBeGreaterThan(0);
  });

  it('withholds the ack when Redis is down, so Slack redelivers', async () => {
    await startReceiver({ socket: true, redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    await slack.socketConnected();
    const mention = slack.mentionEvent({ channel: 'C7', user: 'U1', text: 'Austin to Seattle' });

    await expect(slack.sendSocketEvent(mention, { timeoutMs: 3_000 })).rejects.toThrow(/not acked/);
  });
});
