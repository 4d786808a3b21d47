import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../adapters/server/services.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { startSystem, type TestSystem } from './helpers/system.js';
import { workerProcesses } from './helpers/worker-processes.js';

// The split deployment of docker-compose: a web process and a worker process that share only
// Postgres and Redis. Nothing in the web process sees the worker's runs happen.
const KEY = 'split-roles-key-0123456789abcdef0123';
let system: TestSystem;
let worker: Services;
const processes = workerProcesses(() => system);

beforeAll(async () => {
  system = await startSystem({ platforms: ['slack'], role: 'web', env: { AGENTOS_API_KEY: KEY }, slackStreaming: false });
  worker = await system.startMore('worker');
});
afterAll(async () => {
  await processes.killAll();
  await system?.close();
});

const metricsOfWeb = async () => {
  const res = await fetch(`${system.services.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(res.status).toBe(200);
  return res.text();
};

describe('web role and worker role in separate processes', () => {
  it("shows a Slack run answered by the worker in the web role's /metrics, with its tokens and cost", async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({
      channel: 'CS1',
      user: 'U1',
      text: 'Should I move from Seattle to Austin?',
    });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);
    const [answer] = await waitForBotReplies(
      slack,
      'CS1',
      mention.ts,
      (r) => r[0] !== undefined && isAnswered(r[0]),
    );
    expect(shownText(answer)).toContain('Seattle, WA → Austin, TX');

    const text = await metricsOfWeb();
    expect(text).toMatch(/^movebot_runs_total\{status="completed",source="slack"\} 1$/m);
    // The only run there is, so the totals are its own.
    expect(Number(/^movebot_llm_tokens_total\{kind="completion"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(
      0,
    );
    expect(Number(/^movebot_llm_cost_usd_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^movebot_run_duration_seconds_count\{status="completed"\} 1$/m);
  });

  it('keeps /metrics behind the API key', async () => {
    expect((await fetch(`${system.services.url}/metrics`)).status).toBe(401);
  });

  it('answers /health and /ready on the worker, and nothing else', async () => {
    expect(worker.url).toBeDefined();
    const health = await fetch(`${worker.url}/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${worker.url}/ready`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { database: 'ok', redis: 'ok' } },
    ]);
    // No API, console or metrics on a worker: those are the web role's, behind its key.
    expect((await fetch(`${worker.url}/metrics`)).status).toBe(404);
    expect(
      (await fetch(`${worker.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })).status,
    ).toBe(404);
  });

  it('says the worker is not ready while its Redis does not answer', async () => {
    // In a child process it can kill: a worker whose Redis is gone cannot close its BullMQ connections.
    const port = await freePort();
    await processes.start({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, PORT: String(port) });
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect([ready.status, await ready.json()]).toEqual([
      503,
      { status: 'not ready', checks: { database: 'ok', redis: 'unreachable' } },
    ]);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });
});

/** A loopback port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
