import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './http-harness.js';

// Contract tests for the read/write endpoints an AgentOS client (the Agno Agent UI) and the console use.
let api: ApiHarness;
let noMemory: ApiHarness;
const get = async (path: string) => {
  const res = await fetch(`${api.url}${path}`);
  // biome-ignore lint/suspicious/noExplicitAny: response shapes are what these tests assert on
  return { status: res.status, body: (await res.json()) as any };
};
const send = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

/** A Slack thread's conversation, stored through the same conversation service the worker uses. */
async function slackTurn(text: string, user = 'U123', ts = '1700000000.000100') {
  return api.runtime.conversation.handle({
    platform: 'slack',
    workspace: 'T1',
    threadKey: `slack:T1:C1:${ts}`,
    externalId: `${ts}-${text.length}`,
    user: { platformUserId: user, displayName: 'Sam Slack' },
    text,
  });
}

beforeAll(async () => {
  [api, noMemory] = await Promise.all([startApi(), startApi({ memory: false })]);
});
afterAll(async () => {
  await Promise.all([api?.close(), noMemory?.close()]);
});

describe('catalog', () => {
  it('GET /health answers ok', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('GET /teams and /teams/{id} describe the move decision team with a db_id', async () => {
    const { status, body } = await get('/teams');
    expect(status).toBe(200);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({
      id: 'move-decision-team',
      db_id: 'movebot-db',
      model: { model: 'gpt-4o-mini', provider: 'OpenAI' },
    });
    expect(body[0].members.map((m: { id: string }) => m.id)).toEqual(['cost-analyst', 'sentiment-analyst', 'migration-researcher']);
    expect((await get('/teams/move-decision-team')).body.id).toBe('move-decision-team');
    expect(await get('/teams/other')).toEqual({ status: 404, body: { error: 'not_found', message: 'No team with id "other".', detail: 'No team with id "other".' } });
  });

  it('GET /agents and /agents/{id} list the three analysts, each with a db_id and model', async () => {
    const { body } = await get('/agents');
    expect(body.map((a: { id: string }) => a.id)).toEqual(['cost-analyst', 'sentiment-analyst', 'migration-researcher']);
    for (const a of body) {
      expect(a.db_id).toBe('movebot-db');
      expect(a.model).toEqual({ name: 'OpenAIChat', model: 'gpt-4o-mini', provider: 'OpenAI' });
    }
    expect((await get('/agents/migration-researcher')).body.name).toBe('Migration Researcher');
    expect((await get('/agents/ghost')).status).toBe(404);
  });

  it('GET /config names the database, agents and team', async () => {
    const { body } = await get('/config');
    expect(body.databases).toEqual(['movebot-db']);
    expect(body.teams).toEqual([{ id: 'move-decision-team', name: 'Move Decision Team', db_id: 'movebot-db' }]);
    expect(body.agents).toHaveLength(3);
  });

  it('answers CORS preflights for Authorization and JSON, and tags responses for the browser', async () => {
    const pre = await fetch(`${api.url}/sessions`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:3000',
        'Access-Control-Request-Method': 'DELETE',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    const res = await fetch(`${api.url}/teams`, { headers: { Origin: 'http://localhost:3000' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  });
});

describe('sessions from every platform', () => {
  let slackSession: string;
  let apiSession: string;

  beforeAll(async () => {
    const turn = await slackTurn('Should I move from Seattle to Austin?');
    slackSession = turn.session.id;
    await slackTurn('What about the heat?');
    const res = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      body: new URLSearchParams({ message: 'Should I move from Chicago to Denver?', stream: 'false', user_id: 'ann' }),
    });
    apiSession = ((await res.json()) as { session_id: string }).session_id;
  });

  it('GET /sessions lists API and Slack sessions newest first with {data, meta}', async () => {
    const { status, body } = await get('/sessions?type=team&component_id=move-decision-team&db_id=movebot-db');
    expect(status).toBe(200);
    expect(body.data.map((s: { session_id: string }) => s.session_id)).toEqual([apiSession, slackSession]);
    expect(body.meta).toEqual({ page: 1, limit: 20, total_pages: 1, total_count: 2 });
    const slack = body.data[1];
    expect(slack).toMatchObject({
      session_name: 'Seattle, WA → Austin, TX',
      platform: 'slack',
      user: { user_id: 'U123', platform: 'slack', workspace: 'T1', display_name: 'Sam Slack' },
    });
    expect(typeof slack.created_at).toBe('number');
    expect(typeof slack.updated_at).toBe('number');
  });

  it('filters by platform and by user, and pages', async () => {
    expect((await get('/sessions?platform=slack')).body.data.map((s: { session_id: string }) => s.session_id)).toEqual([slackSession]);
    expect((await get('/sessions?user_id=ann')).body.data.map((s: { session_id: string }) => s.session_id)).toEqual([apiSession]);
    expect((await get('/sessions?user_id=U123&platform=slack&workspace=T1')).body.data).toHaveLength(1);
    expect((await get('/sessions?user_id=nobody')).body).toEqual({
      data: [],
      meta: { page: 1, limit: 20, total_pages: 0, total_count: 0 },
    });
    const page2 = await get('/sessions?limit=1&page=2');
    expect(page2.body.data.map((s: { session_id: string }) => s.session_id)).toEqual([slackSession]);
    expect(page2.body.meta).toEqual({ page: 2, limit: 1, total_pages: 2, total_count: 2 });
    expect((await get('/sessions?user_id=U123&platform=slack')).status).toBe(400);
    expect((await get('/sessions?limit=0')).status).toBe(400);
  });

  it('GET /sessions/{id} returns the conversation; /runs works for a Slack session too', async () => {
    const { body } = await get(`/sessions/${slackSession}`);
    expect(body.thread_key).toBe('slack:T1:C1:1700000000.000100');
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(body.messages[0].content).toBe('Should I move from Seattle to Austin?');
    expect(body.messages[1].kind).toBe('recommendation');
    const runs = (await get(`/sessions/${slackSession}/runs`)).body;
    expect(runs.map((r: { run_input: string }) => r.run_input)).toEqual(['Should I move from Seattle to Austin?', 'What about the heat?']);
    expect(runs[0].content).toMatch(/^# Should You Move from Seattle, WA to Austin, TX\?/);
    expect(runs[1].content).toContain('Follow-up answer');
    expect((await get('/sessions/no-such-session/runs')).status).toBe(404);
  });

  it('DELETE /sessions/{id} removes the session with its runs, then 404s', async () => {
    const del = await fetch(`${api.url}/sessions/${apiSession}?db_id=movebot-db`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await get(`/sessions/${apiSession}`)).status).toBe(404);
    expect((await get('/sessions')).body.data.map((s: { session_id: string }) => s.session_id)).toEqual([slackSession]);
    const { rows } = await api.db.db.query('SELECT count(*)::int AS n FROM runs WHERE session_id = $1', [apiSession]);
    expect(rows[0]).toEqual({ n: 0 });
    expect((await fetch(`${api.url}/sessions/${apiSession}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('memories (always one user)', () => {
  it('creates, lists, updates and deletes a user’s memories, never another user’s', async () => {
    const created = await send('POST', '/memories', { memory: 'Has two dogs', topics: ['household'], user_id: 'mia' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ memory: 'Has two dogs', topics: ['household'], user_id: 'mia', platform: 'api' });
    const id = created.body.memory_id;
    // Stored with a vector (the embeddings fake), so similarity recall finds it like a learned memory.
    const vec = await api.db.db.query('SELECT embedding IS NOT NULL AS has FROM memories WHERE id = $1', [id]);
    expect(vec.rows[0]).toEqual({ has: true });
    await send('POST', '/memories', { memory: 'Works remotely', user_id: 'mia' });
    await send('POST', '/memories', { memory: 'Hates snow', user_id: 'U9', platform: 'slack', workspace: 'T1' });

    const mine = await get('/memories?user_id=mia');
    expect(mine.body.data.map((m: { memory: string }) => m.memory).sort()).toEqual(['Has two dogs', 'Works remotely']);
    expect(mine.body.meta.total_count).toBe(2);
    const slack = await get('/memories?user_id=U9&platform=slack&workspace=T1');
    expect(slack.body.data.map((m: { memory: string }) => m.memory)).toEqual(['Hates snow']);

    // Another user cannot read, change or delete mia's memory by id.
    expect((await get(`/memories/${id}?user_id=U9&platform=slack&workspace=T1`)).status).toBe(404);
    expect((await send('PATCH', `/memories/${id}`, { memory: 'hijacked', user_id: 'zed' })).status).toBe(404);
    expect((await send('DELETE', `/memories/${id}?user_id=zed`)).status).toBe(404);

    const patched = await send('PATCH', `/memories/${id}`, { memory: 'Has three dogs', user_id: 'mia' });
    expect(patched.status).toBe(200);
    expect(patched.body.memory).toBe('Has three dogs');
    expect((await send('DELETE', `/memories/${id}?user_id=mia`)).status).toBe(204);
    expect((await get('/memories?user_id=mia')).body.data.map((m: { memory: string }) => m.memory)).toEqual(['Works remotely']);
  });

  it('requires a user and valid input, answering 4xx JSON', async () => {
    expect(await get('/memories')).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'user_id is required: memories always belong to one user.', detail: 'user_id is required: memories always belong to one user.' },
    });
    expect((await send('POST', '/memories', { user_id: 'mia' })).status).toBe(400);
    expect((await send('POST', '/memories', { memory: 'x'.repeat(3000), user_id: 'mia' })).status).toBe(400);
    expect((await get('/memories/not-a-number?user_id=mia')).status).toBe(404);
    expect((await send('DELETE', '/memories', { user_id: 'mia' })).status).toBe(400);
  });

  it('bulk-deletes with {memory_ids, user_id}', async () => {
    const a = await send('POST', '/memories', { memory: 'Likes hiking', user_id: 'kim' });
    const b = await send('POST', '/memories', { memory: 'Budget $2,000 rent', user_id: 'kim' });
    const res = await send('DELETE', '/memories', { memory_ids: [a.body.memory_id, b.body.memory_id], user_id: 'kim' });
    expect(res).toEqual({ status: 200, body: { deleted: 2 } });
    expect((await get('/memories?user_id=kim')).body.data).toEqual([]);
  });

  it('answers 503 with a JSON error when the server has no memory store', async () => {
    const res = await fetch(`${noMemory.url}/memories?user_id=mia`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'memory_unavailable', message: 'User memories are not enabled on this server.', detail: 'User memories are not enabled on this server.' });
  });
});

describe('metrics and the console JSON', () => {
  it('GET /metrics is Prometheus text with the queue depth read from Redis', async () => {
    const res = await fetch(`${api.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE movebot_runs_total counter');
    expect(text).toContain('# TYPE movebot_run_duration_seconds histogram');
    expect(text).toMatch(/movebot_queue_jobs\{state="waiting"\} 0/);
    expect(text).toMatch(/movebot_http_requests_total\{route="GET \/sessions",status="200"\} \d+/);
  });

  it('counts runs, tokens, cost, latency and error codes of every source, and keeps them when sessions go', async () => {
    // As a worker process would leave them: runs of a Discord thread this web process never saw.
    const { store } = api.runtime;
    const scrape = async () => (await fetch(`${api.url}/metrics`)).text();
    const value = (text: string, series: RegExp) => Number(series.exec(text)?.[1] ?? 0);
    const prompt = /^movebot_llm_tokens_total\{kind="prompt"\} (\d+)$/m;
    const cost = /^movebot_llm_cost_usd_total (\S+)$/m;
    const failedCount = /^movebot_run_duration_seconds_count\{status="failed"\} (\d+)$/m;
    const before = await scrape();

    const session = await store.getOrCreateSession({ threadKey: 'discord:G9:C9', platform: 'discord' });
    const finished = async (result: Parameters<typeof store.finishRun>[1]) =>
      store.finishRun((await store.startRun({ sessionId: session.id, input: 'x' })).id, result);
    await finished({
      status: 'completed',
      usage: { promptTokens: 100, completionTokens: 50, totalTokens: 150 },
      costUsd: 0.25,
    });
    await finished({ status: 'failed', error: 'llm_timeout: the model did not answer in time' });
    await finished({ status: 'failed', error: 'socket hang up: ECONNRESET' });
    await store.startRun({ sessionId: session.id, input: 'still running' });

    const text = await scrape();
    expect(text).toMatch(/^movebot_runs_total\{status="completed",source="discord"\} 1$/m);
    expect(text).toMatch(/^movebot_runs_total\{status="failed",source="discord"\} 2$/m);
    expect(text).toMatch(/^movebot_errors_total\{code="llm_timeout",source="discord"\} 1$/m);
    // "socket hang up:" is not one of our codes' shape, so the error counts as internal.
    expect(text).toMatch(/^movebot_errors_total\{code="internal",source="discord"\} 1$/m);
    // Tokens, cost and latency are totals over every source: these runs add exactly theirs.
    expect(value(text, prompt) - value(before, prompt)).toBe(100);
    expect(value(text, cost) - value(before, cost)).toBeCloseTo(0.25, 6);
    expect(value(text, failedCount) - value(before, failedCount)).toBe(2);
    expect(text).toMatch(/^movebot_run_duration_seconds_bucket\{status="failed",le="\+Inf"\} \d+$/m);

    // Counters never go back: deleting the session (and so its runs) leaves the totals as they were.
    expect((await fetch(`${api.url}/sessions/${session.id}`, { method: 'DELETE' })).status).toBe(204);
    const after = await scrape();
    expect(after).toMatch(/^movebot_runs_total\{status="failed",source="discord"\} 2$/m);
    expect(value(after, prompt)).toBe(value(text, prompt));
  });

  it('GET /console/api/stats summarises runs per hour, latency percentiles and usage per day from the runs table', async () => {
    const { body } = await get('/console/api/stats?days=3');
    const today = new Date().toISOString().slice(0, 10);
    const runs = await api.db.db.query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE status = 'completed'");
    const hourly = body.runs_per_hour.reduce((n: number, h: { completed: number }) => n + h.completed, 0);
    expect(hourly).toBe(runs.rows[0]?.n);
    expect(body.latency_per_day.map((d: { day: string }) => d.day)).toEqual([today]);
    const day = body.latency_per_day[0];
    expect(day.p95Ms).toBeGreaterThanOrEqual(day.p50Ms);
    expect(body.usage_per_day[0].tokens).toBeGreaterThan(0);
    expect(body.usage_per_day[0].costUsd).toBeGreaterThan(0);
  });

  it('GET /console/api/users lists users with their session and memory counts', async () => {
    const { body } = await get('/console/api/users?platform=slack');
    const sam = body.data.find((u: { user_id: string }) => u.user_id === 'U123');
    expect(sam).toMatchObject({ platform: 'slack', workspace: 'T1', display_name: 'Sam Slack', sessions: 1 });
  });
});
