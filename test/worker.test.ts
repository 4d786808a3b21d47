import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChatJob, chatJobId } from '../src/ports/turn-job.js';
import { createMessageQueue } from '../queue/producer.js';
import { type ChatWorker, createChatWorker, type TurnInfo } from '../queue/worker.js';
import { silentLogger } from '../src/logger.js';
import { createMemoryChatAdapter } from './fakes/memory-chat-adapter.js';
import { messageText } from './fakes/openai-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';
import { workerDeps } from '../adapters/server/services.js';
import { createRedisRunCancellation, createRedisRunEventLog } from '../queue/run-event-stream.js';

const REDIS_URL = process.env.REDIS_URL!;
const runEvents = createRedisRunEventLog({ redisUrl: REDIS_URL, logger: silentLogger });
const runCancellation = createRedisRunCancellation({ redisUrl: REDIS_URL, logger: silentLogger });
afterAll(async () => {
  await Promise.all([runEvents.close(), runCancellation.close()]);
});
const team = useTeamRuntime({ role: 'worker' });

let n = 0;
function job(text: string, thread = `17000000${++n}.000100`, messageId = `${thread}-${++n}`): ChatJob {
  return {
    platform: 'slack',
    workspace: 'T1',
    channel: 'C1',
    thread,
    messageId,
    userId: 'U1',
    userName: 'dana',
    text,
    threadKey: `slack:T1:C1:${thread}`,
    receivedAt: new Date(Date.now() + n).toISOString(),
  };
}

async function system(options: { progressEditsPerMinute?: number } = {}) {
  const queueName = `movebot-test-${randomUUID()}`;
  const chat = createMemoryChatAdapter();
  const queue = createMessageQueue({ redisUrl: REDIS_URL, queueName });
  const turns: TurnInfo[] = [];
  const worker: ChatWorker = createChatWorker({
    ...workerDeps(team.runtime, runEvents, runCancellation),
    adapters: { slack: chat.adapter },
    redisUrl: REDIS_URL,
    queueName,
    concurrency: 4,
    logger: silentLogger,
    threadRetryMs: 20,
    progressEditsPerMinute: options.progressEditsPerMinute,
    onTurn: (turn) => turns.push(turn),
  });
  return {
    chat,
    queue,
    worker,
    turns,
    async close() {
      await worker.close(5_000);
      await queue.close();
    },
  };
}

describe('chat worker', () => {
  it('turns the placeholder into exactly one answer, with progress in between', async () => {
    const s = await system();
    try {
      const j = job('Should I move from Seattle to Austin?');
      expect((await s.queue.enqueue(j)).enqueued).toBe(true);
      expect((await s.queue.enqueue(j)).enqueued).toBe(false); // a duplicate delivery enqueues nothing
      await waitFor(() => s.chat.calls.some((c) => c.op === 'answer'), { timeoutMs: 20_000, what: 'an answer' });
      const thread = s.chat.thread('C1', j.thread!);
      expect(thread.map((m) => m.text.split('\n')[0])).toEqual([
        '**Move** for Seattle, WA → Austin, TX (confidence: Medium)',
        expect.stringMatching(/^\[file\] seattle_to_austin_\d{8}_\d{6}_analysis\.md$/),
      ]);
      const shown = thread[0]!.history;
      expect(shown[0]).toBe('Looking into Seattle → Austin…');
      expect(shown.some((h) => h.includes('Cost Analyst'))).toBe(true);
      expect(s.chat.calls.filter((c) => c.op === 'placeholder')).toHaveLength(1);
      // The turn is reported for /metrics with what the model calls cost.
      await waitFor(() => s.turns.length === 1, { what: 'the turn report' });
      expect(s.turns[0]).toMatchObject({ platform: 'slack', ok: true, usage: { totalTokens: expect.any(Number) } });
      expect(s.turns[0]!.usage!.totalTokens).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('answers two quick messages of one thread in order, one at a time', async () => {
    const s = await system();
    try {
      team.fakes.openai.setLatency(30);
      const a = job('Should I move from Seattle to Austin?', '1700009999.000100', 'a');
      const b = job('What about taxes?', '1700009999.000100', 'b');
      await s.queue.enqueue(a);
      await s.queue.enqueue(b);
      await waitFor(() => s.chat.calls.filter((c) => c.op === 'answer').length === 2, { timeoutMs: 30_000, what: 'two answers' });
      const [first, second] = s.chat.thread('C1', a.thread!).filter((m) => !m.text.startsWith('[file]'));
      expect(first!.text).toMatch(/^\*\*Move\*\*/);
      expect(second!.text).toMatch(/^Follow-up answer/);
      // The second turn started only after the first was answered.
      const firstAnswerAt = s.chat.calls.find((c) => c.op === 'answer')!.at;
      const secondPlaceholderAt = s.chat.calls.filter((c) => c.op === 'placeholder')[1]!.at;
      expect(secondPlaceholderAt).toBeGreaterThanOrEqual(firstAnswerAt);
    } finally {
      team.fakes.openai.setLatency(0);
      await s.close();
    }
  });

  it('shares a progress budget per workspace, and every thread still gets its answer', async () => {
    // One edit a minute per workspace: a single progress edit, then the bucket stays empty for the test.
    const s = await system({ progressEditsPerMinute: 1 });
    try {
      team.fakes.openai.setLatency(20);
      const a = job('Should I move from Seattle to Austin?');
      const b = job('Should I move from Denver to Austin?');
      const other = job('Should I move from Boston to Austin?');
      const c = { ...other, workspace: 'T2', threadKey: `slack:T2:C1:${other.thread}` };
      for (const j of [a, b, c]) await s.queue.enqueue(j);
      await waitFor(() => s.chat.calls.filter((x) => x.op === 'answer').length === 3, {
        timeoutMs: 30_000,
        what: 'three answers',
      });
      const [ma, mb, mc] = [a, b, c].map((j) => s.chat.thread('C1', j.thread!)[0]!);
      for (const m of [ma, mb, mc]) expect(m!.text).toMatch(/^\*\*Move\*\*/);
      // history = placeholder, progress edits…, answer
      const progressEdits = (m: { history: string[] }) => m.history.length - 2;
      expect(progressEdits(ma!) + progressEdits(mb!)).toBe(1);
      expect(progressEdits(mc!)).toBe(1);
    } finally {
      team.fakes.openai.setLatency(0);
      await s.close();
    }
  });

  it('says so in the thread when the model keeps failing', async () => {
    const s = await system();
    try {
      team.fakes.openai.reset();
      team.fakes.openai.setResponder({ status: 400, error: 'model not found' });
      const j = job('Should I move from Seattle to Austin?');
      // The notice is posted before BullMQ records the failure; the worker's event marks the latter.
      const jobFailed = once(s.worker.worker, 'failed');
      await s.queue.enqueue(j);
      await waitFor(() => s.chat.calls.some((c) => c.op === 'answer'), { timeoutMs: 20_000, what: 'a failure notice' });
      const [msg] = s.chat.thread('C1', j.thread!);
      expect(msg!.text).toMatch(/couldn't reach a usable answer from the AI service/);
      expect(msg!.text).not.toMatch(/\bat .+\.ts/);
      const session = await team.runtime.store.getSessionByThreadKey(j.threadKey);
      const messages = await team.runtime.store.listMessages(session!.id);
      expect(messages.at(-1)).toMatchObject({ role: 'assistant', metadata: { kind: 'error' } });

      // An operator retries the failed job once the model is back: the notice becomes the answer.
      team.fakes.openai.reset();
      scriptTeam(team.fakes.openai);
      await jobFailed;
      const failed = await s.queue.queue.getJob(chatJobId(j));
      expect(await failed?.getState()).toBe('failed');
      await failed!.retry('failed');
      await waitFor(() => /^\*\*Move\*\*/.test(s.chat.thread('C1', j.thread!)[0]?.text ?? ''), {
        timeoutMs: 20_000,
        what: 'the retried answer',
      });
      expect(s.chat.thread('C1', j.thread!).filter((m) => !m.text.startsWith('[file]'))).toHaveLength(1);
      const after = await team.runtime.store.listMessages(session!.id);
      expect(after.map((m) => [m.role, m.metadata.kind])).toEqual([
        ['user', undefined],
        ['assistant', 'recommendation'],
      ]);
    } finally {
      team.fakes.openai.setResponder({ json: {} });
      await s.close();
    }
  });

  it('finishes the running job before closing on shutdown', async () => {
    const s = await system();
    team.fakes.openai.setLatency(200);
    const j = job('Should I move from Seattle to Austin?');
    await s.queue.enqueue(j);
    // Close while this job is mid-run: its placeholder is up and the model is thinking.
    await waitFor(() => s.chat.calls.some((c) => c.op === 'placeholder'), { timeoutMs: 10_000, what: 'the placeholder' });
    await team.fakes.openai.waitForRequests(1, 10_000);
    await s.worker.close(20_000);
    team.fakes.openai.setLatency(0);
    expect(s.chat.calls.some((c) => c.op === 'answer')).toBe(true);
    await s.queue.close();
  });

  it('puts a job still running at the shutdown deadline back in the queue; the next worker answers it once', async () => {
    const s = await system();
    // The intake call is held until after the deadline, so the turn cannot finish in time.
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    team.fakes.openai.reset();
    team.fakes.openai.route({ system: 'intake step' }, async () => {
      await held;
      return undefined; // on to the scripted answer
    });
    scriptTeam(team.fakes.openai);
    const j = job('Should I move from Seattle to Austin?');
    await s.queue.enqueue(j);
    await waitFor(() => s.chat.calls.some((c) => c.op === 'placeholder'), { timeoutMs: 10_000, what: 'the placeholder' });
    await team.fakes.openai.waitForRequests(1, 10_000);

    await s.worker.close(200);
    // Released, not left active until the stall check: no attempt spent, nothing said in the thread yet.
    const released = (await s.queue.queue.getJob(chatJobId(j)))!;
    expect(['waiting', 'delayed']).toContain(await released.getState());
    expect(released.attemptsMade).toBe(0);
    expect(s.chat.thread('C1', j.thread!).map((m) => m.text)).toEqual(['Looking into Seattle → Austin…']);

    letThrough();
    const next = createChatWorker({
      ...workerDeps(team.runtime, runEvents, runCancellation),
      adapters: { slack: s.chat.adapter },
      redisUrl: REDIS_URL,
      queueName: s.queue.queue.name,
      logger: silentLogger,
      threadRetryMs: 20,
    });
    try {
      await waitFor(() => s.chat.calls.some((c) => c.op === 'answer'), { timeoutMs: 20_000, what: 'the answer' });
      expect(s.chat.calls.filter((c) => c.op === 'placeholder')).toHaveLength(1);
      expect(s.chat.thread('C1', j.thread!)[0]!.text).toMatch(/^\*\*Move\*\* for Seattle, WA → Austin, TX/);
    } finally {
      await next.close(5_000);
      await s.queue.close();
    }
  });

  it('takes a burst of first messages on a fresh connection without refusing any', async () => {
    const queue = createMessageQueue({ redisUrl: REDIS_URL, queueName: `movebot-test-${randomUUID()}` });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => queue.enqueue(job(`burst ${i}`))));
      expect(results.every((r) => r.enqueued)).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('refuses to enqueue when Redis is unreachable, so the platform retries', async () => {
    const queue = createMessageQueue({ redisUrl: 'redis://127.0.0.1:1', queueName: `movebot-test-${randomUUID()}`, timeoutMs: 500 });
    await expect(queue.enqueue(job('hello'))).rejects.toMatchObject({ code: 'queue_unavailable' });
    await queue.close();
  });

  it('never lets the model see another thread’s history', async () => {
    const s = await system();
    try {
      const a = job('Should I move from Seattle to Austin? I am Alice.');
      const b = job('Should I move from Chicago to Denver?');
      await s.queue.enqueue(a);
      await s.queue.enqueue(b);
      await waitFor(() => s.chat.calls.filter((c) => c.op === 'answer').length === 2, { timeoutMs: 30_000, what: 'two answers' });
      const chicagoCalls = team.fakes.openai.chatRequests.filter((r) => messageText(r.messages[1]?.content).includes('Chicago'));
      expect(chicagoCalls.length).toBeGreaterThan(0);
      for (const c of chicagoCalls) expect(messageText(c.messages[1]?.content)).not.toContain('Alice');
    } finally {
      await s.close();
    }
  });
});
