import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countColor, decodePng, distinctColors } from './console-png.js';
import { type ApiHarness, bearer, startApi } from './http-harness.js';

// The operator console end to end in a real headless Chromium (Debian's /usr/bin/chromium, installed
// by scripts/install-chromium.sh), against the real API on Postgres and Redis.
const KEY = 'console-test-key-42-0123456789abcdef';
const VIEWPORT = { width: 1280, height: 900 };
/** Where the metrics screenshot is kept for a human to look at. */
const SCREENSHOT = join(tmpdir(), 'movebot-console-metrics.png');

let api: ApiHarness;
let context: BrowserContext;
let page: Page;
let profileDir: string;
let failedJobId: string;
let slackUserId: string;
let slackRunId: string;
let apiRunId: string;

async function seed() {
  // A Slack thread through the same conversation service the queue worker uses.
  const turn = await api.runtime.conversation.handle({
    platform: 'slack',
    workspace: 'T1',
    threadKey: 'slack:T1:C1:1700000000.000100',
    externalId: '1700000000.000100',
    user: { platformUserId: 'U123', displayName: 'Sam Slack' },
    text: 'Should I move from Seattle to Austin?',
  });
  slackUserId = turn.user.id;
  await api.memoryStore!.add(slackUserId, { content: 'Has a dog named Biscuit', topic: 'household' });
  await api.memoryStore!.add(slackUserId, { content: 'Works remotely', topic: 'work' });
  // An API session whose text would be markup if the console ever used innerHTML.
  await fetch(`${api.url}/teams/move-decision-team/runs`, {
    method: 'POST',
    headers: bearer(KEY),
    body: new URLSearchParams({ message: 'Hi <img src=x onerror="document.title=1"> there', stream: 'false', user_id: 'ann' }),
  });
  // Thumbs up / down: 2 up and 1 down today on the Slack answer, 1 down yesterday on the API answer.
  const { store, feedback, db } = api.runtime;
  slackRunId = turn.runId!;
  const apiSession = (await store.listSessions({ platform: 'api' })).sessions[0]!;
  apiRunId = (await store.listRuns(apiSession.id))[0]!.id;
  const pat = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'U456' }, 'Pat');
  const lee = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'U789' }, 'Lee');
  await feedback.record({ runId: slackRunId, userId: slackUserId, rating: 'up' });
  await feedback.record({ runId: slackRunId, userId: pat.id, rating: 'up' });
  await feedback.record({ runId: slackRunId, userId: lee.id, rating: 'down' });
  await feedback.record({ runId: apiRunId, userId: apiSession.ownerUserId!, rating: 'down' });
  await db.query(`UPDATE run_feedback SET updated_at = now() - interval '1 day' WHERE run_id = $1`, [apiRunId]);
  // A failed chat job: a BullMQ worker on the same queue whose processing throws (the harness's own
  // worker, which answered the API run above, is stopped first).
  await api.stopWorker();
  const queue = api.queue!.queue;
  const job = await queue.add(
    'chat',
    { platform: 'slack', workspace: 'T1', channel: 'C1', messageId: '1.2', userId: 'U123', text: 'Move to Denver?', threadKey: 'slack:T1:C1:1.2', receivedAt: new Date().toISOString() },
    { jobId: 'slack-console-test', attempts: 1 },
  );
  failedJobId = job.id!;
  const worker = new Worker(
    queue.name,
    async () => {
      throw new Error('model unavailable (test)');
    },
    { connection: { url: process.env.REDIS_URL } },
  );
  await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
  await worker.close();
}

beforeAll(async () => {
  api = await startApi({ apiKey: KEY });
  await seed();
  profileDir = mkdtempSync(join(tmpdir(), 'movebot-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: VIEWPORT,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await api?.close();
});

describe('operator console in Chromium', () => {
  it('refuses a wrong key and logs in with the right one', async () => {
    await page.goto(`${api.url}/console`);
    await page.fill('#api-key', 'wrong-key');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error', { hasText: 'The key was not accepted.' }).waitFor();
    expect(await page.locator('#tabs').isHidden()).toBe(true);

    await page.fill('#api-key', KEY);
    await page.click('#login button[type=submit]');
    await page.locator('#sessions-table tbody tr').nth(1).waitFor();
    expect(await page.locator('#sessions-count').textContent()).toBe('2 sessions');
  });

  it('shows sessions by platform and user, and opens a conversation', async () => {
    const rows = page.locator('#sessions-table tbody tr');
    const texts = await rows.allTextContents();
    expect(texts.some((t) => t.includes('slack') && t.includes('Sam Slack') && t.includes('Seattle, WA → Austin, TX'))).toBe(true);
    expect(texts.some((t) => t.includes('api') && t.includes('ann'))).toBe(true);

    await rows.filter({ hasText: 'Sam Slack' }).click();
    const conversation = page.locator('#conversation');
    await conversation.locator('.msg.assistant').waitFor();
    expect(await conversation.locator('h2').textContent()).toBe('Seattle, WA → Austin, TX');
    expect(await conversation.locator('.msg.user').textContent()).toContain('Should I move from Seattle to Austin?');
    expect(await conversation.locator('.msg.assistant').textContent()).toContain('Move');
    // The answer carries its votes, and the session's runs are listed with theirs.
    const votes = conversation.locator('.msg.assistant .votes');
    expect(await votes.getAttribute('data-up')).toBe('2');
    expect(await votes.getAttribute('data-down')).toBe('1');
    expect(await votes.textContent()).toBe('2 up · 1 down');
    const run = conversation.locator(`table.runs tbody tr[data-run-id="${slackRunId}"]`);
    expect(await run.locator('td.up').textContent()).toBe('2');
    expect(await run.locator('td.down').textContent()).toBe('1');
    expect(await run.locator('td.share').textContent()).toBe('67%');
    await page.screenshot({ path: join(tmpdir(), 'movebot-console-sessions.png') });

    await page.selectOption('#session-platform', 'api');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().click();
    // Chat text is shown as text: the <img> stays literal and its onerror never runs.
    await page.locator('#conversation .msg.user', { hasText: '<img src=x' }).waitFor();
    await page.locator('#conversation table.runs td', { hasText: '<img src=x' }).waitFor();
    expect(await page.locator('#conversation img').count()).toBe(0);
    expect(await page.title()).toBe('movebot console');
  });

  it('shows a user’s memories and deletes one', async () => {
    await page.click('#tabs [data-tab=memories]');
    await page.locator('#users-table tbody tr', { hasText: 'Sam Slack' }).click();
    const memories = page.locator('#memories .memory');
    await expect.poll(() => memories.allTextContents()).toEqual([
      expect.stringContaining('Works remotely'),
      expect.stringContaining('Has a dog named Biscuit'),
    ]);
    await memories.filter({ hasText: 'Biscuit' }).locator('button.delete').click();
    await expect.poll(() => memories.count()).toBe(1);
    const left = await api.memoryStore!.list(slackUserId);
    expect(left.memories.map((m) => m.content)).toEqual(['Works remotely']);
  });

  it('shows the queue with the failed job and retries it', async () => {
    await page.click('#tabs [data-tab=queue]');
    await page.locator('#failed-table tbody tr').first().waitFor();
    expect(await page.locator('#queue-counts [data-state=failed] b').textContent()).toBe('1');
    const row = page.locator(`#failed-table tbody tr[data-job-id="${failedJobId}"]`);
    expect(await row.textContent()).toContain('model unavailable (test)');
    expect(await row.textContent()).toContain('Move to Denver?');

    await row.locator('button.retry').click();
    await expect.poll(() => page.locator('#failed-table tbody tr').count()).toBe(0);
    expect(await page.locator('#queue-counts [data-state=failed] b').textContent()).toBe('0');
    expect(await (await api.queue!.queue.getJob(failedJobId))?.getState()).toBe('waiting');
  });

  it('shows the feedback totals, the thumbs-up share per day and the latest voted runs', async () => {
    await page.click('#tabs [data-tab=metrics]');
    await page.locator('#feedback-totals [data-kind=share]').waitFor();
    expect(await page.locator('#feedback-totals [data-kind=up] b').textContent()).toBe('2');
    expect(await page.locator('#feedback-totals [data-kind=down] b').textContent()).toBe('2');
    expect(await page.locator('#feedback-totals [data-kind=share] b').textContent()).toBe('50%');
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(await page.locator(`#feedback-days tr[data-day="${today}"] td.share`).textContent()).toBe('67%');
    expect(await page.locator(`#feedback-days tr[data-day="${yesterday}"] td.share`).textContent()).toBe('0%');
    expect(await page.locator('#feedback-days tbody tr').count()).toBe(7);
    expect(await page.locator('#feedback-days td.share', { hasText: '—' }).count()).toBe(5);
    // One bar: today's 67% (yesterday's 0% and the days without votes draw none).
    const bars = page.locator('#chart-feedback rect.bar.share');
    expect(await bars.count()).toBe(1);
    expect(Number(await bars.getAttribute('data-value'))).toBeCloseTo(200 / 3, 5);
    expect(await bars.locator('title').textContent()).toContain('67%');

    const recent = page.locator('#feedback-runs tbody tr');
    expect(await recent.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')))).toEqual([slackRunId, apiRunId]);
    expect(await recent.first().textContent()).toContain('Seattle, WA → Austin, TX');
    expect(await recent.first().locator('td.up').textContent()).toBe('2');
    expect(await recent.first().locator('td.down').textContent()).toBe('1');
    // The API question is shown as text, never as markup.
    expect(await recent.nth(1).textContent()).toContain('Hi <img src=x onerror="document.title=1"> there');
    expect(await page.locator('#panel-metrics img').count()).toBe(0);
    expect(await page.title()).toBe('movebot console');

    // A voted run opens its conversation.
    await recent.first().click();
    await page.locator('#conversation h2', { hasText: 'Seattle, WA → Austin, TX' }).waitFor();
    expect(await page.locator('#panel-sessions').isHidden()).toBe(false);
  });

  it('draws the run metrics as charts and renders a real screenshot', async () => {
    await page.click('#tabs [data-tab=metrics]');
    await page.locator('#chart-runs svg rect.bar.completed').first().waitFor();
    expect(await page.locator('.charts svg.chart').count()).toBe(5);
    expect(await page.locator('#chart-latency rect.bar.p95').count()).toBe(1);
    expect(await page.locator('#chart-tokens rect.bar.tokens').count()).toBe(1);
    expect(await page.locator('#chart-cost rect.bar.cost').count()).toBe(1);
    const completed = await page.locator('#chart-runs rect.bar.completed').evaluateAll((els) =>
      els.reduce((n, el) => n + Number(el.getAttribute('data-value')), 0),
    );
    expect(completed).toBe(2);

    const png = await page.screenshot({ path: SCREENSHOT });
    const image = decodePng(png);
    expect({ width: image.width, height: image.height }).toEqual(VIEWPORT);
    // Not blank: many colours, the header's navy band and the charts' bar colours are on screen.
    expect(distinctColors(image)).toBeGreaterThan(50);
    expect(countColor(image, [0x14, 0x21, 0x3d])).toBeGreaterThan(VIEWPORT.width * 20);
    expect(countColor(image, [0x2e, 0x9d, 0x5b])).toBeGreaterThan(200); // completed runs, tokens
    expect(countColor(image, [0x2f, 0x6f, 0xde])).toBeGreaterThan(200); // p50, cost
  });
});
