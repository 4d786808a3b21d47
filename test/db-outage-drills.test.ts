import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '../queue/redis.js';
import { waitFor } from './fakes/fake-http.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { type DrillPostgres, startDrillPostgres } from './helpers/outage-servers.js';
import { startSystem, type TestSystem } from './helpers/system.js';

// Database outage drills: the whole product (web + worker) on a PostgreSQL of the drill's own, which
// it stops, restarts and freezes mid-answer. A job waits the outage out in the queue without spending
// an attempt; when the database stays away the thread is told so through Slack alone; nothing is left
// "Looking into…" or streaming.
let server: DrillPostgres;
let system: TestSystem | undefined;

beforeAll(async () => {
  server = await startDrillPostgres();
}, 60_000);

afterEach(async () => {
  await server.thaw();
  await server.start().catch(() => {}); // already running unless a drill failed midway
  await system?.close();
  system = undefined;
});

afterAll(async () => {
  await server?.close();
});

/** Short timeouts, so a stopped or frozen server fails queries within a second or two. */
const FAST_DB = { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1500', DB_QUERY_TIMEOUT_MS: '2000' };
const WAITING = /My storage is unavailable at the moment\. I'll answer here as soon as it's back/;

async function start(options: { streaming: boolean; outageWaitMs: number }): Promise<TestSystem> {
  system = await startSystem({
    platforms: ['slack'],
    slackStreaming: options.streaming,
    databaseUrl: server.url,
    env: { ...FAST_DB, DB_OUTAGE_WAIT_MS: String(options.outageWaitMs) },
  });
  return system;
}

const botMessages = (system: TestSystem, channel: string, ts: string) =>
  system.slack!.threadMessages(channel, ts).filter((m) => m.user === system.slack!.botUserId && !m.files?.length);
const isAnswer = (m: SlackFakeMessage) => JSON.stringify(m.blocks ?? []).includes('feedback_buttons');

async function jobsOf(system: TestSystem) {
  const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(process.env.REDIS_URL!) });
  try {
    return { completed: await queue.getCompleted(), failed: await queue.getFailed() };
  } finally {
    await queue.close();
  }
}

describe('PostgreSQL restarted mid-answer', () => {
  it('the job waits for it without spending an attempt, then the thread gets exactly one answer', async () => {
    const system = await start({ streaming: false, outageWaitMs: 60_000 });
    const { slack, fakes } = system as Required<TestSystem>;
    fakes.openai.setLatency(1_500);
    const mention = slack.mentionEvent({ channel: 'CD1', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    // Mid-run: the placeholder is up and the model is thinking. The database goes away.
    await waitFor(() => botMessages(system, 'CD1', mention.ts).length === 1, { timeoutMs: 20_000, what: 'the placeholder' });
    await fakes.openai.waitForRequests(1, 20_000);
    await server.stop();
    fakes.openai.setLatency(0);

    // The turn cannot store its answer: the thread says it is waiting (no "Retrying…", no attempt spent).
    await waitFor(() => botMessages(system, 'CD1', mention.ts).some((m) => WAITING.test(m.text)), {
      timeoutMs: 20_000,
      what: 'the database wait note',
    });
    await server.start();

    await waitFor(() => botMessages(system, 'CD1', mention.ts).some(isAnswer), { timeoutMs: 25_000, what: 'the answer' });
    const replies = botMessages(system, 'CD1', mention.ts);
    expect(replies).toHaveLength(1); // the placeholder, edited into the answer
    expect(replies[0]!.text).toMatch(/Move/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('chat.update').some((c) => /Hit a snag|Retrying/.test(String(c.args.text)))).toBe(false);
    const { completed, failed } = await waitFor(
      async () => {
        const jobs = await jobsOf(system);
        return jobs.completed.length + jobs.failed.length > 0 && jobs;
      },
      { what: 'the finished job' },
    );
    expect(failed).toHaveLength(0);
    expect(completed).toHaveLength(1);
    // Only the finishing run counts as an attempt: the waits in the queue spent none.
    expect(completed[0]!.attemptsMade).toBe(1);
    const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CD1:${mention.ts}`);
    const stored = await system.services.runtime.store.listMessages(session!.id);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  }, 60_000);
});

describe('PostgreSQL that stays down', () => {
  it('tells the thread (closing the stream and its Stop button), and answers queued messages once it is back', async () => {
    const system = await start({ streaming: true, outageWaitMs: 5_000 });
    const { slack, fakes } = system as Required<TestSystem>;
    fakes.openai.setLatency(1_500);
    const first = slack.mentionEvent({ channel: 'CD2', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    await slack.sendEvent(system.slackEventsUrl, first);

    // Mid-stream: the answer's stream is open under a Stop button message. The database goes away.
    await waitFor(() => botMessages(system, 'CD2', first.ts).some((m) => m.streaming), { timeoutMs: 20_000, what: 'the open stream' });
    await fakes.openai.waitForRequests(1, 20_000);
    await server.stop();
    fakes.openai.setLatency(0);

    const notice = await waitFor(
      () => botMessages(system, 'CD2', first.ts).find((m) => m.text.startsWith('⚠️')),
      { timeoutMs: 25_000, what: 'the notice after the wait' },
    );
    expect(notice.text).toContain('db_unavailable');
    // Nothing is left behind: no open stream, no Stop button message, no "Looking into…".
    const shown = botMessages(system, 'CD2', first.ts);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.streaming).toBeFalsy();
    expect(JSON.stringify(shown[0]!.blocks ?? [])).not.toContain('stop');
    expect(shown.some((m) => /Looking into|Writing the answer/.test(m.text))).toBe(false);

    // A message that arrives while the database is still down waits for it in the queue…
    const queued = slack.mentionEvent({ channel: 'CD3', user: 'U2', text: 'Should I move from Denver to Boston?' });
    expect((await slack.sendEvent(system.slackEventsUrl, queued)).status).toBe(200);
    await waitFor(() => botMessages(system, 'CD3', queued.ts).some((m) => WAITING.test(m.text)), {
      timeoutMs: 10_000,
      what: 'the queued message waiting for the database',
    });
    // …and is answered, in the message that said it was waiting, once the database is back.
    await server.start();
    await waitFor(() => botMessages(system, 'CD3', queued.ts).some(isAnswer), { timeoutMs: 20_000, what: 'the queued answer' });
    expect(botMessages(system, 'CD3', queued.ts)).toHaveLength(1);

    // The failed job is failed once, and its failure handler posted no second notice.
    await system.services.worker!.close(5_000);
    expect(botMessages(system, 'CD2', first.ts)).toHaveLength(1);
    const { failed } = await jobsOf(system);
    expect(failed.map((j) => j.data.channel)).toEqual(['CD2']);
  }, 90_000);

  it('tells the thread even when it was down before anything was posted', async () => {
    await server.stop();
    // Started while the database is up (migrations), then stopped before the message arrives.
    await server.start();
    const system = await start({ streaming: false, outageWaitMs: 2_000 });
    const { slack } = system as Required<TestSystem>;
    await server.stop();
    const mention = slack.mentionEvent({ channel: 'CD4', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    await slack.sendEvent(system.slackEventsUrl, mention);

    await waitFor(() => botMessages(system, 'CD4', mention.ts).some((m) => WAITING.test(m.text)), {
      timeoutMs: 10_000,
      what: 'the wait note, posted without the database',
    });
    const notice = await waitFor(() => botMessages(system, 'CD4', mention.ts).find((m) => m.text.startsWith('⚠️')), {
      timeoutMs: 15_000,
      what: 'the notice',
    });
    expect(notice.text).toContain('db_unavailable');
    expect(botMessages(system, 'CD4', mention.ts)).toHaveLength(1); // the wait note, edited into the notice
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  }, 60_000);
});

describe('PostgreSQL gone right after the answer is shown', () => {
  it('leaves the answer in the thread while its bookkeeping waits for the database', async () => {
    const system = await start({ streaming: false, outageWaitMs: 60_000 });
    const { slack } = system as Required<TestSystem>;
    // The moment Slack takes the answer, the database hangs: recording the report and marking the
    // message answered wait for it. Slack slows down a little so the freeze lands before they run.
    let frozen: Promise<void> | undefined;
    slack.failNext('chat.update', 500, 1, (args) => {
      if (!frozen && JSON.stringify(args.blocks ?? '').includes('feedback_buttons')) {
        slack.setLatency(300);
        frozen = server.freeze();
      }
      return false; // never fails the call itself
    });
    const mention = slack.mentionEvent({ channel: 'CD6', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    await slack.sendEvent(system.slackEventsUrl, mention);

    await waitFor(() => frozen !== undefined, { timeoutMs: 20_000, what: 'the answer, and the database hanging' });
    await frozen;
    // The job waits for the database in the queue.
    const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(process.env.REDIS_URL!) });
    try {
      await waitFor(async () => (await queue.getDelayedCount()) === 1, { timeoutMs: 15_000, what: 'the job waiting for the database' });
    } finally {
      await queue.close();
    }
    slack.setLatency(0);
    await server.thaw();
    const { completed } = await waitFor(
      async () => {
        const jobs = await jobsOf(system);
        return jobs.completed.length > 0 && jobs;
      },
      { timeoutMs: 20_000, what: 'the job completed' },
    );
    expect(completed).toHaveLength(1);
    // The answer was never replaced by a wait note or a notice, and it is what the thread shows.
    const updates = slack.callsTo('chat.update').filter((c) => c.args.channel === 'CD6');
    const first = updates.findIndex((c) => JSON.stringify(c.args.blocks ?? '').includes('feedback_buttons'));
    expect(updates.slice(first).some((c) => /⏳|⚠️/.test(String(c.args.text)))).toBe(false);
    const replies = botMessages(system, 'CD6', mention.ts);
    expect(replies).toHaveLength(1);
    expect(isAnswer(replies[0]!)).toBe(true);
  }, 60_000);
});

describe('a hung PostgreSQL', () => {
  it('does not hang the turn: queries time out, the job waits, and answers once the server answers again', async () => {
    const system = await start({ streaming: false, outageWaitMs: 60_000 });
    const { slack, fakes } = system as Required<TestSystem>;
    fakes.openai.setLatency(1_500);
    const mention = slack.mentionEvent({ channel: 'CD5', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    await slack.sendEvent(system.slackEventsUrl, mention);
    await waitFor(() => botMessages(system, 'CD5', mention.ts).length === 1, { timeoutMs: 20_000, what: 'the placeholder' });
    await fakes.openai.waitForRequests(1, 20_000);
    await server.freeze(); // every server process stopped: connections stay open and nothing answers
    fakes.openai.setLatency(0);

    // Without connection and query timeouts the turn would hang here, its job lock renewed forever.
    await waitFor(() => botMessages(system, 'CD5', mention.ts).some((m) => WAITING.test(m.text)), {
      timeoutMs: 15_000,
      what: 'the database wait note',
    });
    await server.thaw();
    await waitFor(() => botMessages(system, 'CD5', mention.ts).some(isAnswer), { timeoutMs: 25_000, what: 'the answer' });
    expect(botMessages(system, 'CD5', mention.ts)).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  }, 60_000);
});
