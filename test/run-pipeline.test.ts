import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services, startServices } from '../adapters/server/services.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startSystem, type TestSystem } from './helpers/system.js';
import { scriptTeam } from './helpers/team-script.js';
import { type ParsedEvent, sseEvents } from './http-harness.js';

// One pipeline across processes' worth of services on the real Redis and PostgreSQL: a worker role
// runs every turn; two web replicas (A and B) that have no OpenAI configuration at all only enqueue
// and relay the run's events from its Redis Stream.
let system: TestSystem;
let a: Services;
let b: Services;

async function startWeb(): Promise<Services> {
  // Only what the web role needs: no OPENAI_*, FIRECRAWL_*, BRAVE_*, Slack or Discord.
  const config = loadConfig('web', {
    DATABASE_URL: system.env.DATABASE_URL!,
    REDIS_URL: system.env.REDIS_URL!,
    PORT: '0',
    HOST: '127.0.0.1',
    EMBEDDING_DIMENSIONS: system.env.EMBEDDING_DIMENSIONS!,
  });
  expect(config.openai.baseURL).toBeUndefined();
  return startServices(config, { role: 'web', logger: silentLogger, queueName: system.queueName });
}

beforeAll(async () => {
  system = await startSystem({ platforms: [], role: 'worker' });
  [a, b] = await Promise.all([startWeb(), startWeb()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await system?.close();
});

const runs = (web: Services) => `${web.url}/teams/move-decision-team/runs`;
const post = (web: Services, message: string, extra: Record<string, string> = {}) =>
  fetch(runs(web), { method: 'POST', body: new URLSearchParams({ message, user_id: 'pat', ...extra }) });

/** Reads SSE events until `stop` says so (then drops the connection) or the stream ends. */
async function collect(res: Response, stop: (e: ParsedEvent, all: ParsedEvent[]) => boolean = () => false) {
  const events: ParsedEvent[] = [];
  for await (const e of sseEvents(res)) {
    events.push(e);
    if (stop(e, events)) break;
  }
  return events;
}

describe('API runs answered by a worker', () => {
  it('starts API-only (no Slack, no Discord), is ready, and a worker answers the run while the web has no model', async () => {
    const ready = await fetch(`${a.url}/ready`);
    expect(ready.status).toBe(200);
    expect(a.slack).toBeUndefined();
    expect(a.discord).toBeUndefined();
    expect(a.worker).toBeUndefined();

    const before = system.fakes.openai.chatRequests.length;
    const events = await collect(await post(a, 'Should I move from Seattle to Austin?'));
    expect(events[0]?.name).toBe('TeamRunStarted');
    expect(events.at(-1)?.name).toBe('TeamRunCompleted');
    expect(String(events.at(-1)?.data.content)).toMatch(/^# Should You Move from Seattle, WA to Austin, TX\?/);
    // The model calls reached the fake through the worker's configuration.
    expect(system.fakes.openai.chatRequests.length).toBeGreaterThan(before);
  });

  it('shows a run started on A from B: as JSON and as a stream from its first event', async () => {
    const res = await post(a, 'Should I move from Chicago to Denver?');
    const events = await collect(res);
    const runId = String(events[0]?.data.run_id);

    const json = (await (await fetch(`${runs(b)}/${runId}`)).json()) as Record<string, unknown>;
    expect(json).toMatchObject({ run_id: runId, session_id: events[0]?.data.session_id, status: 'COMPLETED' });
    expect(json.content).toBe(events.at(-1)?.data.content);
    expect(typeof json.created_at).toBe('number');

    const replay = await collect(await fetch(`${runs(b)}/${runId}/stream`));
    expect(replay.map((e) => e.name)).toEqual(events.map((e) => e.name));
    expect(replay.map((e) => e.id)).toEqual(events.map((e) => e.id));

    expect((await fetch(`${runs(b)}/no-such-run`)).status).toBe(404);
    const unknown = await fetch(`${runs(b)}/no-such-run/cancel`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toMatch(/No run/);
    const finished = await fetch(`${runs(b)}/${runId}/cancel`, { method: 'POST' });
    expect(finished.status).toBe(409);
    expect(((await finished.json()) as { detail: string }).detail).toMatch(/already ended/);
  });

  it('resumes a dropped stream after Last-Event-ID with no gap and no repeat', async () => {
    system.fakes.openai.setStreamPacing(8, 5);
    try {
      const first = await collect(await post(a, 'Should I move from Boston to Austin?'), (_e, all) => all.length === 4);
      expect(first).toHaveLength(4);
      const runId = String(first[0]?.data.run_id);
      const rest = await collect(
        await fetch(`${runs(b)}/${runId}/stream`, { headers: { 'Last-Event-ID': first.at(-1)!.id! } }),
      );
      const whole = await collect(await fetch(`${runs(a)}/${runId}/stream`));
      expect([...first, ...rest].map((e) => e.id)).toEqual(whole.map((e) => e.id));
      expect(new Set(whole.map((e) => e.id)).size).toBe(whole.length);
      expect(rest.at(-1)?.name).toBe('TeamRunCompleted');
    } finally {
      system.fakes.openai.setStreamPacing(8, 0);
    }
  });

  it('cancels from B while A streams: TeamRunCancelled, the model call aborted, no model request after, partial kept', async () => {
    // A long synthesis, streamed slowly: the answer is being written when the stop arrives.
    system.fakes.openai.setStreamPacing(4, 40);
    const sentences = Array.from({ length: 12 }, (_, i) => `Reason number ${['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'][i]} weighs in.`);
    // Routes answer in the order added: this one goes before the team's script.
    system.fakes.openai.reset();
    const slow = system.fakes.openai.route(
      (req) => req.stream && req.responseFormat?.json_schema?.name === 'FinalRecommendation',
      { json: { recommendation: 'move', confidence_level: 'Medium', detailed_justification: sentences.join(' '), key_supporting_factors: ['Music'], key_concerns: [], next_steps: ['Visit'] } },
    );
    scriptTeam(system.fakes.openai);
    try {
      const res = await post(a, 'Should I move from Denver to Portland, OR?', { user_id: 'quinn' });
      let cancelledAt = 0;
      let cancel: Promise<number> | undefined;
      const events = await collect(res, (e) => {
        if (e.name === 'TeamRunContent' && !cancelledAt) {
          cancelledAt = Date.now();
          cancel = fetch(`${runs(b)}/${e.data.run_id}/cancel`, { method: 'POST' }).then((r) => r.status);
        }
        return false;
      });
      expect(await cancel).toBe(200);
      expect(events.at(-1)?.name).toBe('TeamRunCancelled');
      expect(events.map((e) => e.name)).not.toContain('TeamRunCompleted');
      const partial = String(events.at(-1)?.data.content);
      expect(partial.length).toBeGreaterThan(0);

      const synthesis = system.fakes.openai.chatRequests.filter((r) => r.system.includes('Team Coordinator') && r.stream);
      expect(synthesis.at(-1)?.clientAborted).toBe(true);
      // Nothing after the stop: no further model call (not even learning memories from the message).
      const settled = await fetch(`${runs(b)}/${events[0]?.data.run_id}`).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(settled).toMatchObject({ status: 'CANCELLED', content: partial });
      expect(system.fakes.openai.chatRequests.filter((r) => r.receivedAt > cancelledAt + 1_000)).toEqual([]);

      const sessionRuns = (await (await fetch(`${b.url}/sessions/${events[0]?.data.session_id}/runs`)).json()) as Array<Record<string, unknown>>;
      expect(sessionRuns.at(-1)).toMatchObject({ status: 'CANCELLED', content: partial });
      expect(partial).toContain('Reason number one');
      expect(partial).not.toContain('Reason number twelve');
    } finally {
      slow.remove();
      system.fakes.openai.setStreamPacing(8, 0);
    }
  });

  it('finishes a run whose web process went away mid-stream, readable from the other replica', async () => {
    const c = await startWeb();
    system.fakes.openai.setStreamPacing(8, 5);
    try {
      const started = await collect(await post(c, 'Should I move from Miami to Austin?'), (e) => e.name === 'TeamRunStarted');
      const runId = String(started[0]?.data.run_id);
      await c.stop();
      const rest = await collect(await fetch(`${runs(b)}/${runId}/stream`));
      expect(rest.at(-1)?.name).toBe('TeamRunCompleted');
      const json = (await (await fetch(`${runs(b)}/${runId}`)).json()) as Record<string, unknown>;
      expect(json.status).toBe('COMPLETED');
    } finally {
      system.fakes.openai.setStreamPacing(8, 0);
      await c.stop().catch(() => {});
    }
  });

  it('lists the tools of a reopened run, as during the run', async () => {
    const events = await collect(await post(a, 'Should I move from Seattle to Denver?'));
    type Tool = { tool_call_id: string; tool_name: string; result: string; sources: string[] };
    const list = (await (await fetch(`${b.url}/sessions/${events[0]?.data.session_id}/runs`)).json()) as Array<{ tools: Tool[] }>;
    const streamed = events.filter((e) => e.name === 'TeamToolCallCompleted').map((e) => e.data.tool as Tool);
    expect(streamed.length).toBeGreaterThanOrEqual(2);
    const view = (t: Tool) => ({ id: t.tool_call_id, name: t.tool_name, result: t.result, sources: t.sources });
    expect(list[0]?.tools.map(view).sort((x, y) => x.id.localeCompare(y.id))).toEqual(streamed.map(view).sort((x, y) => x.id.localeCompare(y.id)));
    expect(streamed.some((t) => t.sources.length > 0)).toBe(true);
  });
});
