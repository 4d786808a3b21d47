import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartPng } from './helpers/png.js';
import { scriptTeam } from './helpers/team-script.js';
import { type ApiHarness, type ParsedEvent, startApi, streamRun } from './http-harness.js';

// POST /teams/{id}/runs and /agents/{id}/runs against the real team (OpenAI, Firecrawl and Brave
// faked), parsed by eventsource-parser as an AgentOS client would.
let api: ApiHarness;
const teamRuns = () => `${api.url}/teams/move-decision-team/runs`;
const names = (events: ParsedEvent[]) => events.map((e) => e.name);
const deltas = (events: ParsedEvent[], name = 'TeamRunContent') =>
  events.filter((e) => e.name === name).map((e) => String(e.data.content));

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe('streaming team runs', () => {
  let sessionId: string;
  let report: string;

  it('streams a full recommendation with AgentOS event names and ends with the full content', async () => {
    const { status, contentType, events } = await streamRun(teamRuns(), {
      message: 'Should I move from Seattle to Austin?',
      stream: 'true',
      session_id: '',
      user_id: 'alice',
    });
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    // Every JSON object carries its own "event", as the Agent UI requires.
    for (const e of events) expect(e.data.event).toBe(e.name);
    expect(events[0]?.name).toBe('TeamRunStarted');
    expect(events.at(-1)?.name).toBe('TeamRunCompleted');
    expect(names(events)).toContain('TeamToolCallStarted');
    expect(names(events)).toContain('TeamToolCallCompleted');
    expect(names(events)).not.toContain('TeamRunError');

    sessionId = String(events[0]?.data.session_id);
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const runId = events[0]?.data.run_id;
    expect(events.every((e) => e.data.session_id === sessionId && e.data.run_id === runId)).toBe(true);

    const tools = events.filter((e) => e.name === 'TeamToolCallStarted').map((e) => (e.data.tool as { tool_name: string }).tool_name);
    expect(tools.length).toBeGreaterThanOrEqual(2);

    report = String(events.at(-1)?.data.content);
    expect(report).toMatch(/^# Should You Move from Seattle, WA to Austin, TX\?/);
    expect(report).toContain('## Cost Analysis Report');
    expect(report).toContain('**Texas** (Austin, TX): income tax none; sales tax 6.25% state, 8.2% state + average local');
    // The recommendation's prose streamed as the model wrote it; the completed event has the whole report.
    const streamed = deltas(events).join('').trim();
    expect(streamed.length).toBeGreaterThan(20);
    expect(report).toContain(streamed);
    expect(names(events).indexOf('TeamRunContent')).toBeLessThan(names(events).indexOf('TeamRunCompleted'));
    // Tool calls say what they found and where.
    const cost = events.find((e) => e.name === 'TeamToolCallCompleted' && (e.data.tool as { tool_name: string }).tool_name === 'get_cost_of_living_comparison');
    expect(cost?.data.tool).toMatchObject({ result: expect.stringMatching(/^NerdWallet/), sources: [expect.stringContaining('nerdwallet.com')] });
    // Every event carries an id to resume after.
    expect(events.every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true);
    // The cost chart, as Agno's run output lists images.
    const images = events.at(-1)?.data.images as Array<{ content: string; mime_type: string; alt_text: string }>;
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ mime_type: 'image/png', alt_text: expect.stringContaining('Austin, TX: Overall') });
    expectChartPng(Buffer.from(images[0]!.content, 'base64'));
  });

  it('lists the finished run for the session the way the Agent UI reloads it', async () => {
    const res = await fetch(`${api.url}/sessions/${sessionId}/runs?type=team&db_id=movebot-db`);
    expect(res.status).toBe(200);
    const runs = (await res.json()) as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      session_id: sessionId,
      team_id: 'move-decision-team',
      run_input: 'Should I move from Seattle to Austin?',
      content: report,
      status: 'COMPLETED',
    });
    expect(typeof runs[0]?.created_at).toBe('number');
  });

  it('continues the same session when session_id is sent, streaming the follow-up answer', async () => {
    const { events } = await streamRun(teamRuns(), {
      message: 'What do people say about the heat there?',
      session_id: sessionId,
      user_id: 'alice',
    });
    expect(events[0]).toMatchObject({ name: 'TeamRunStarted', data: { session_id: sessionId } });
    const completed = events.at(-1);
    expect(completed?.name).toBe('TeamRunCompleted');
    expect(String(completed?.data.content)).toContain('Follow-up answer based on the earlier analysis');
    expect(deltas(events).join('')).toBe(completed?.data.content);
    const runs = (await (await fetch(`${api.url}/sessions/${sessionId}/runs`)).json()) as unknown[];
    expect(runs).toHaveLength(2);
  });

  it('answers GET /sessions/{id}/runs with the in-progress run (not []) while the answer streams', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // Hold the run at its first model call until the client has looked at the session.
    api.fakes.openai.reset();
    api.fakes.openai.route({ system: 'intake step' }, async () => {
      await gate;
      return undefined;
    });
    scriptTeam(api.fakes.openai);
    let during: Array<Record<string, unknown>> = [];
    const { events } = await streamRun(
      teamRuns(),
      { message: 'Should I move from Chicago to Denver?', user_id: 'bob' },
      {
        async onEvent(e) {
          if (e.name !== 'TeamRunStarted') return;
          const res = await fetch(`${api.url}/sessions/${e.data.session_id}/runs`);
          during = (await res.json()) as Array<Record<string, unknown>>;
          open();
        },
      },
    );
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ status: 'RUNNING', run_input: 'Should I move from Chicago to Denver?' });
    expect(events.at(-1)?.name).toBe('TeamRunCompleted');
    api.fakes.openai.reset();
    scriptTeam(api.fakes.openai);
  });

  it('asks for the missing city instead of guessing, as a completed run', async () => {
    const { events } = await streamRun(teamRuns(), { message: 'Should I move?' });
    const completed = events.at(-1);
    expect(completed?.name).toBe('TeamRunCompleted');
    expect(completed?.data.kind).toBe('clarify');
    // A question back is no model stream: it arrives as one content event, then the completed one.
    expect(deltas(events)).toHaveLength(1);
    expect(deltas(events).join('')).toBe(completed?.data.content);
    expect(String(completed?.data.content)).toMatch(/Which city do you live in now/);
  });
});

describe('failures and bad requests', () => {
  it('ends the stream with TeamRunError and a user-facing message when the model fails', async () => {
    api.fakes.openai.reset();
    api.fakes.openai.route({ system: 'intake step' }, { status: 500, error: 'model exploded' });
    try {
      const { status, events } = await streamRun(teamRuns(), { message: 'Should I move from Seattle to Austin?' });
      expect(status).toBe(200);
      expect(names(events)).toEqual(['TeamRunStarted', 'TeamRunError']);
      expect(events[1]?.data.content).toBe("I couldn't reach a usable answer from the AI service. Please try again shortly. (error code: llm_error)");
      expect(JSON.stringify(events)).not.toContain('model exploded');

      const res = await fetch(teamRuns(), {
        method: 'POST',
        body: new URLSearchParams({ message: 'Should I move from Seattle to Austin?', stream: 'false' }),
      });
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: 'llm_error',
        message: "I couldn't reach a usable answer from the AI service. Please try again shortly. (error code: llm_error)",
        // The Agent UI shows `detail`.
        detail: "I couldn't reach a usable answer from the AI service. Please try again shortly. (error code: llm_error)",
      });
    } finally {
      api.fakes.openai.reset();
      scriptTeam(api.fakes.openai);
    }
  });

  it('rejects a run without a message, an unknown team or agent, and malformed JSON with 4xx JSON', async () => {
    const noMessage = await fetch(teamRuns(), { method: 'POST', body: new URLSearchParams({ stream: 'false' }) });
    expect(noMessage.status).toBe(400);
    expect(await noMessage.json()).toEqual({ error: 'bad_request', message: 'message is required', detail: 'message is required' });

    const team = await fetch(`${api.url}/teams/nope/runs`, { method: 'POST', body: new URLSearchParams({ message: 'hi' }) });
    expect(team.status).toBe(404);
    expect(((await team.json()) as { error: string }).error).toBe('not_found');

    const agent = await fetch(`${api.url}/agents/nope/runs`, { method: 'POST', body: new URLSearchParams({ message: 'hi' }) });
    expect(agent.status).toBe(404);

    const malformed = await fetch(teamRuns(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"message": ',
    });
    expect(malformed.status).toBe(400);
    const text = await malformed.text();
    expect(JSON.parse(text).error).toBe('bad_request');
    expect(text).not.toMatch(/at .*\.(js|ts):\d+/);

    const badSession = await fetch(teamRuns(), {
      method: 'POST',
      body: new URLSearchParams({ message: 'hi', session_id: '../etc/passwd' }),
    });
    expect(badSession.status).toBe(400);
  });
});

describe('non-streaming and agent runs', () => {
  it('returns the run as JSON for stream=false (urlencoded and JSON bodies)', async () => {
    const res = await fetch(teamRuns(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'Should I move from Seattle to Austin?', stream: false, user_id: 'carol' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'COMPLETED', team_id: 'move-decision-team', kind: 'recommendation' });
    expect(String(body.content)).toMatch(/^# Should You Move from Seattle, WA to Austin, TX\?/);
    expect((body.metrics as { total_tokens: number }).total_tokens).toBeGreaterThan(0);
    const [image] = body.images as Array<{ content: string; alt_text: string }>;
    expectChartPng(Buffer.from(image!.content, 'base64'));
    expect(image!.alt_text).toMatch(/^Bar chart of the cost of living compared with Seattle, WA\./);
    const session = (await (await fetch(`${api.url}/sessions/${body.session_id}`)).json()) as Record<string, unknown>;
    expect(session).toMatchObject({ platform: 'api', component_id: 'move-decision-team', user: { user_id: 'carol' } });
  });

  it('runs an agent with agent event names (no Team prefix) and files the session under the agent', async () => {
    const { events } = await streamRun(`${api.url}/agents/cost-analyst/runs`, {
      message: 'Should I move from Seattle to Austin?',
      user_id: 'dave',
    });
    expect(events[0]?.name).toBe('RunStarted');
    expect(events.at(-1)?.name).toBe('RunCompleted');
    expect(names(events).some((n) => n.startsWith('Team'))).toBe(false);
    expect(events[0]?.data.agent_id).toBe('cost-analyst');
    expect(String(events.at(-1)?.data.content)).toContain(deltas(events, 'RunContent').join('').trim());
    const list = (await (
      await fetch(`${api.url}/sessions?type=agent&component_id=cost-analyst&db_id=movebot-db`)
    ).json()) as { data: Array<{ session_id: string; session_type: string }> };
    expect(list.data.map((s) => s.session_id)).toEqual([events[0]?.data.session_id]);
    expect(list.data[0]?.session_type).toBe('agent');

    // By type alone (the Agent UI's agent view sends no component_id): agents' sessions only, and back.
    const ids = async (query: string) =>
      ((await (await fetch(`${api.url}/sessions?${query}`)).json()) as { data: Array<{ session_id: string; session_type: string }> }).data;
    const agents = await ids('type=agent&db_id=movebot-db');
    expect(agents.map((s) => s.session_id)).toEqual([events[0]?.data.session_id]);
    const teams = await ids('type=team');
    expect(teams.length).toBeGreaterThan(1);
    expect(teams.every((s) => s.session_type === 'team')).toBe(true);
    expect(await ids('type=team&component_id=cost-analyst')).toEqual([]);
  });

  it('counts API runs, latency, tokens and cost in /metrics', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const completed = Number(/movebot_runs_total\{status="completed",source="api"\} (\d+)/.exec(text)?.[1]);
    const failed = Number(/movebot_runs_total\{status="failed",source="api"\} (\d+)/.exec(text)?.[1]);
    expect(completed).toBeGreaterThanOrEqual(6);
    expect(failed).toBe(2);
    expect(text).toMatch(/movebot_run_duration_seconds_count\{status="completed"\} \d+/);
    expect(Number(/movebot_llm_tokens_total\{kind="prompt"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/movebot_errors_total\{code="llm_error",source="api"\} 2/);
  });
});
