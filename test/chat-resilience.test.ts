import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import { startSystem, type TestSystem } from './helpers/system.js';

let system: TestSystem;
let child: ChildProcess | undefined;

beforeAll(async () => {
  // Web role only: the worker runs in a child process we can kill.
  system = await startSystem({ platforms: ['slack'], role: 'web', fastStalls: true });
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await system?.close();
});

async function startWorkerProcess(): Promise<ChildProcess> {
  // node itself, not npx: SIGKILL must hit the process that runs the worker, not a wrapper.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
    env: { ...process.env, ...system.env, TEST_QUEUE_NAME: system.queueName },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: proc.stdout! });
  const [line] = (await once(rl, 'line')) as [string];
  expect(line).toBe('ready');
  return proc;
}

describe('a worker killed mid-answer', () => {
  it('is replaced by another, and the thread still gets exactly one answer', async () => {
    const slack = system.slack!;
    child = await startWorkerProcess();
    system.fakes.openai.setLatency(1_500);
    const mention = slack.mentionEvent({ channel: 'CK1', user: 'U1', text: 'Should I move from Seattle to Austin?' });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    // Mid-run: the placeholder is up and the model is thinking. Kill the worker without warning.
    await waitFor(() => slack.threadMessages('CK1', mention.ts).some((m) => m.user === slack.botUserId), {
      timeoutMs: 20_000,
      what: 'the placeholder',
    });
    await system.fakes.openai.waitForRequests(1, 20_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    child = undefined;
    system.fakes.openai.setLatency(0);

    // Another worker picks the stalled job up and finishes it.
    await system.startMore('worker');
    const botMessages = () => slack.threadMessages('CK1', mention.ts).filter((m) => m.user === slack.botUserId);
    await waitFor(() => botMessages().some((m) => /Move/.test(m.text) && !/^Looking into/.test(m.text)), {
      timeoutMs: 30_000,
      what: 'the answer after the restart',
    });
    const replies = botMessages();
    expect(replies).toHaveLength(1); // the placeholder, edited into the answer: never a second copy
    expect(replies[0]!.text).toMatch(/Move/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    await waitFor(() => slack.filesInThread('CK1', mention.ts).length === 1, { timeoutMs: 10_000, what: 'the report file' });

    const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CK1:${mention.ts}`);
    const stored = await system.services.runtime.store.listMessages(session!.id);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});
