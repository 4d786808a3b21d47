import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { startSystem, type TestSystem } from './helpers/system.js';
import { workerProcesses } from './helpers/worker-processes.js';

// Each test gets its own system (web role only: the workers run in child processes it can kill or
// pause), so no worker of one test picks up another's jobs.
let system: TestSystem | undefined;
const workers = workerProcesses(() => system!);

/** Streaming off unless asked: most of these tests are about the post-and-edit way's bookkeeping. */
async function start(slackStreaming = false): Promise<TestSystem> {
  system = await startSystem({ platforms: ['slack'], role: 'web', fastStalls: true, slackStreaming });
  return system;
}

afterEach(async () => {
  await workers.killAll();
  await system?.close();
  system = undefined;
});

describe('a worker killed mid-answer', () => {
  it('is replaced by another, and the thread still gets exactly one answer', async () => {
    const system = await start();
    const slack = system.slack!;
    const child = await workers.start();
    system.fakes.openai.setLatency(1_500);
    const mention = slack.mentionEvent({ channel: 'CK1', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    // Mid-run: the placeholder is up and the model is thinking. Kill the worker without warning.
    await waitFor(() => slack.threadMessages('CK1', mention.ts).some((m) => m.user === slack.botUserId), {
      timeoutMs: 20_000,
      what: 'the placeholder',
    });
    await system.fakes.openai.waitForRequests(1, 20_000);
    await workers.kill(child);
    system.fakes.openai.setLatency(0);

    // Another worker picks the stalled job up and finishes it.
    await system.startMore('worker');
    const botMessages = () => slack.threadMessages('CK1', mention.ts).filter((m) => m.user === slack.botUserId);
    await waitFor(() => botMessages().some((m) => /Move/.test(m.text) && !/^Looking into/.test(m.text)), {
      timeoutMs: 30_000,
      what: 'the answer after the restart',
    });
    const replies = botMessages();
    // The placeholder, edited into the answer: never a second copy (texts, so a failure shows them).
    expect(replies.map((m) => m.text.slice(0, 80))).toHaveLength(1);
    expect(replies[0]!.text).toMatch(/Move/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    // The report and the chart, each uploaded once although two workers ran the job.
    await waitFor(() => slack.filesInThread('CK1', mention.ts).length === 2, { timeoutMs: 10_000, what: 'the report and the chart' });
    expect(slack.filesInThread('CK1', mention.ts).map((f) => f.name.replace(/^.*_/, ''))).toEqual(['analysis.md', 'chart.png']);

    const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CK1:${mention.ts}`);
    const stored = await system.services.runtime.store.listMessages(session!.id);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});

describe('a worker killed mid-stream', () => {
  it('leaves no half stream: the re-run closes it and edits it into the one answer', async () => {
    const system = await start(true);
    const slack = system.slack!;
    const child = await workers.start();
    system.fakes.openai.setLatency(1_500);
    const mention = slack.mentionEvent({ channel: 'CK3', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    const botMessages = () => slack.threadMessages('CK3', mention.ts).filter((m) => m.user === slack.botUserId && !m.files?.length);
    // Mid-run: the stream is open and the model is thinking. Kill the worker without warning.
    await waitFor(() => botMessages().some((m) => m.streaming), { timeoutMs: 20_000, what: 'the open stream' });
    await system.fakes.openai.waitForRequests(1, 20_000);
    await workers.kill(child);
    system.fakes.openai.setLatency(0);

    await system.startMore('worker');
    const answered = (m: SlackFakeMessage) =>
      JSON.stringify(m.blocks ?? []).includes('feedback_buttons');
    await waitFor(() => botMessages().some(answered), { timeoutMs: 30_000, what: 'the answer after the restart' });
    await waitFor(() => botMessages().length === 1, { timeoutMs: 10_000, what: 'the Stop button removed' });
    const [answer] = botMessages();
    expect(answer!.streaming).toBe(false); // closed, not left streaming
    expect(JSON.stringify(answer!.blocks)).toContain('Seattle, WA → Austin, TX');
    expect(slack.callsTo('chat.startStream')).toHaveLength(1); // the re-run took the stream over: no second answer
    await waitFor(() => slack.filesInThread('CK3', mention.ts).length === 2, { timeoutMs: 10_000, what: 'the report and the chart' });
    expect(slack.callsTo('files.getUploadURLExternal').filter((c) => String(c.args.filename).endsWith('.png'))).toHaveLength(1);
  });
});

describe('a worker that only paused while BullMQ re-ran its job', () => {
  it('keeps the re-run out of the thread: one placeholder, one answer, one report', async () => {
    const system = await start();
    const slack = system.slack!;
    // The paused run's thread lock outlives BullMQ's 1 s job lock by far, so BullMQ re-runs the job
    // well before the thread lock could lapse.
    const paused = await workers.start({ TEST_THREAD_LOCK_MS: '15000' });
    slack.setLatency(1_000);
    const mention = slack.mentionEvent({ channel: 'CK2', user: 'U2', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    // Freeze the worker while its placeholder post is in flight: nothing is in the reply state yet.
    await waitFor(() => slack.callsTo('chat.postMessage').length === 1, { timeoutMs: 20_000, what: 'the placeholder post' });
    paused.kill('SIGSTOP');
    slack.setLatency(0);

    // BullMQ sees the job's lock lapse and hands the job to another worker, which must stay out.
    const other = await system.startMore('worker');
    let activations = 0;
    other.worker!.worker.on('active', () => {
      activations += 1;
    });
    await waitFor(() => activations >= 2 || slack.callsTo('chat.postMessage').length > 1, {
      timeoutMs: 20_000,
      what: 'the other worker to take the job up',
    });
    paused.kill('SIGCONT');

    const botMessages = () => slack.threadMessages('CK2', mention.ts).filter((m) => m.user === slack.botUserId);
    await waitFor(() => botMessages().some((m) => /Move/.test(m.text) && m.edited), { timeoutMs: 30_000, what: 'the answer' });
    await waitFor(
      async () => {
        const c = await system.services.queue!.counts();
        return c.active + c.waiting + c.delayed === 0;
      },
      { timeoutMs: 20_000, what: 'the queue to drain' },
    );
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(botMessages()).toHaveLength(3); // the answer and the messages sharing its report and its chart
    expect(slack.filesInThread('CK2', mention.ts)).toHaveLength(2);
  });
});

describe('a long model call', () => {
  it('keeps its job lock: no other worker takes the job up as stalled', async () => {
    const system = await start();
    const slack = system.slack!;
    // Two workers with the 1 s job lock (renewed every 0.5 s); one model call lasts 3 locks.
    const workersUp = [await system.startMore('worker'), await system.startMore('worker')];
    let activations = 0;
    for (const w of workersUp) {
      w.worker!.worker.on('active', () => {
        activations += 1;
      });
    }
    system.fakes.openai.setLatency(3_000);
    const mention = slack.mentionEvent({ channel: 'CK4', user: 'U4', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);
    await system.fakes.openai.waitForRequests(1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 3_200)); // past the first call's 3 s
    system.fakes.openai.setLatency(0);

    const botMessages = () => slack.threadMessages('CK4', mention.ts).filter((m) => m.user === slack.botUserId);
    await waitFor(() => botMessages().some((m) => /Move/.test(m.text) && m.edited), { timeoutMs: 30_000, what: 'the answer' });
    expect(activations).toBe(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
