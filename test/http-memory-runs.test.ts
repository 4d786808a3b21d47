import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from './fakes/openai-fake.js';
import { scriptTeam } from './helpers/team-script.js';
import { type ApiHarness, type ParsedEvent, startApi, streamRun } from './http-harness.js';

// Memory commands through POST /teams/{id}/runs, parsed by a real SSE parser, and what "forget
// everything" leaves of a person's situation for the team's next run (as the OpenAI fake saw it).
let api: ApiHarness;
const teamRuns = () => `${api.url}/teams/move-decision-team/runs`;
const names = (events: ParsedEvent[]) => events.map((e) => e.name);

/** An intake that also reads "I earn $N" from the newest message, as a model would; else the script's. */
function incomeIntake(req: ChatRequest) {
  const newest = req.lastUser.split('Newest message from the user:\n')[1] ?? '';
  const income = /I earn \$([\d,]+)/.exec(newest)?.[1];
  if (!income) return undefined;
  return {
    json: {
      current_city: null,
      desired_city: null,
      annual_income: Number(income.replaceAll(',', '')),
      city_preferences: /walkab/i.test(newest) ? ['walkable neighbourhoods'] : [],
      intent: 'compare',
      follow_up_topics: ['general'],
    },
  };
}

const ask = (message: string, user: string, session = '') =>
  streamRun(teamRuns(), { message, user_id: user, session_id: session });

/** The team's model requests from `from` on: the intake and the three analysts. */
function teamRequests(from: number) {
  return api.fakes.openai.chatRequests
    .slice(from)
    .filter((r) =>
      /intake step|You are the (Cost Analyst|Sentiment Analyst|Migration Researcher)/.test(r.system),
    );
}
const costBrief = (from: number) =>
  teamRequests(from).find((r) => r.system.includes('You are the Cost Analyst'))?.lastUser ?? '';

beforeAll(async () => {
  api = await startApi();
  api.fakes.openai.reset();
  api.fakes.openai.route({ system: 'intake step' }, incomeIntake);
  scriptTeam(api.fakes.openai);
});
afterAll(async () => {
  await api?.close();
});

describe('memory commands as runs', () => {
  let session: string;

  beforeAll(async () => {
    const { events } = await ask(
      'I earn $150,000 and I prefer walkable neighbourhoods. Should I move from Seattle to Austin?',
      'alice',
    );
    session = String(events[0]?.data.session_id);
    await api.runtime.conversation.idle(); // the walkable preference is learned as a memory
  });

  it('streams a memory command as TeamRunStarted → TeamRunContent → TeamRunCompleted with a listed run id', async () => {
    const { events } = await ask('what do you remember about me?', 'alice', session);
    expect(names(events)).toEqual(['TeamRunStarted', 'TeamRunContent', 'TeamRunCompleted']);
    const runId = events[0]?.data.run_id;
    expect(typeof runId).toBe('string');
    expect(events.every((e) => e.data.run_id === runId && e.data.session_id === session)).toBe(true);
    const completed = events[2]!.data;
    expect(String(completed.content)).toContain('You prefer walkable neighbourhoods');
    expect(events[1]?.data.content).toBe(completed.content);
    expect(completed.metrics).toMatchObject({ total_tokens: 0, cost_usd: 0 });

    const runs = (await (await fetch(`${api.url}/sessions/${session}/runs`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(runs.map((r) => r.run_input)).toEqual([
      'I earn $150,000 and I prefer walkable neighbourhoods. Should I move from Seattle to Austin?',
      'what do you remember about me?',
    ]);
    expect(runs[1]).toMatchObject({
      run_id: runId,
      status: 'COMPLETED',
      content: completed.content,
      metrics: { total_tokens: 0 },
    });
  });

  it('answers a memory command with stream=false under the id of a run the session lists', async () => {
    const res = await fetch(teamRuns(), {
      method: 'POST',
      body: new URLSearchParams({
        message: 'what do you remember about me?',
        stream: 'false',
        user_id: 'alice',
        session_id: session,
      }),
    });
    const body = (await res.json()) as { run_id: string; status: string };
    expect(body.status).toBe('COMPLETED');
    const runs = (await (await fetch(`${api.url}/sessions/${session}/runs`)).json()) as Array<{
      run_id: string;
    }>;
    expect(runs.at(-1)?.run_id).toBe(body.run_id);
  });
});

describe('forget everything', () => {
  it("drops the asker's income and preferences from every thread's state, keeping other people's", async () => {
    const shared = String(
      (
        await ask(
          'I earn $150,000 and I prefer walkable neighbourhoods. Should I move from Seattle to Austin?',
          'erin',
        )
      ).events[0]?.data.session_id,
    );
    await ask('I earn $90,000. Should I move from Seattle to Austin?', 'frank', shared);
    const other = String(
      (await ask('I earn $150,000. Should I move from Chicago to Denver?', 'erin')).events[0]?.data
        .session_id,
    );
    await api.runtime.conversation.idle();

    const forgot = await ask('forget everything', 'erin', shared);
    expect(names(forgot.events)).toEqual(['TeamRunStarted', 'TeamRunContent', 'TeamRunCompleted']);
    expect(String(forgot.events.at(-1)?.data.content)).toMatch(/forgot everything/);

    // Her next question, in this thread and in her other one: nothing of her situation reaches the team.
    for (const [thread, question] of [
      [shared, 'Should I move from Seattle to Austin?'],
      [other, 'Should I move from Chicago to Denver?'],
    ] as const) {
      const before = api.fakes.openai.chatRequests.length;
      const { events } = await ask(question, 'erin', thread);
      expect(events.at(-1)?.data.kind).toBe('recommendation');
      const sent = teamRequests(before);
      expect(sent.length).toBe(4); // intake and three analysts: the assertions below are about real requests
      for (const r of sent) {
        expect(r.lastUser).not.toMatch(/150,?000/);
        expect(r.lastUser).not.toMatch(/walkable/i);
      }
      expect(costBrief(before)).not.toContain('Annual income');
    }

    // Frank, in the same thread, keeps his.
    const before = api.fakes.openai.chatRequests.length;
    await ask('Should I move from Seattle to Austin?', 'frank', shared);
    expect(costBrief(before)).toContain('Annual income: $90,000');
  });
});
