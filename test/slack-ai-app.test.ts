import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { startSystem, type TestSystem } from './helpers/system.js';

/*
 * Slack as a 2026 AI app, end to end through the real web and worker roles, Redis and Postgres, with
 * the Slack fake speaking the Web API: a streamed plan and answer, the Stop button, feedback,
 * one-click follow-ups, assistant threads, and the post-and-edit fallback.
 */
let system: TestSystem;
beforeAll(async () => {
  // U1 asks more than the default 5 questions a minute here; test/ingress-limits.test.ts drills the limits.
  system = await startSystem({ platforms: ['slack'], env: { LIMIT_TURNS_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await system?.close();
});

const QUESTION = 'Should I move from Seattle to Austin?';
const bot = (channel: string, rootTs: string) =>
  system.slack!.threadMessages(channel, rootTs).filter((m) => m.user === system.slack!.botUserId);
/** The thread's stream messages, once the first `count` of them are closed. */
const closedStreams = (channel: string, rootTs: string, count = 1) =>
  waitFor(
    () => {
      const streams = bot(channel, rootTs).filter((m) => m.tasks !== undefined || m.planTitle !== undefined);
      return streams.length >= count && streams.slice(0, count).every((m) => m.streaming === false) && streams;
    },
    { timeoutMs: 30_000, what: `closed streams in ${channel}` },
  );
type Element = { type?: string; action_id?: string; text?: { text?: string } } & Record<string, unknown>;
const elements = (m: SlackFakeMessage | undefined): Element[] =>
  ((m?.blocks ?? []) as Array<{ elements?: Element[] }>).flatMap((b) => b.elements ?? []);
const buttonLabelled = (m: SlackFakeMessage | undefined, label: string) =>
  elements(m).find((e) => e.type === 'button' && e.text?.text === label);
const click = (input: Parameters<NonNullable<TestSystem['slack']>['blockActionPayload']>[0]) =>
  system.slack!.sendInteraction(system.slackEventsUrl, system.slack!.blockActionPayload(input));
const metrics = async () => (await fetch(`${system.services.url}/metrics`)).text();

describe('Slack AI app: a streamed answer with its plan, feedback and follow-ups', () => {
  let rootTs: string;
  let answer: SlackFakeMessage;

  it('streams the plan and the answer into the thread, addressed to the asker, and closes it with the answer blocks', async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({ channel: 'CA1', user: 'U1', text: QUESTION });
    rootTs = mention.ts;
    // The model writes at a human-visible pace, so the answer is seen being written (batched appends).
    system.fakes.openai.setStreamPacing(8, 60);
    try {
      expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);
      [answer] = (await closedStreams('CA1', rootTs)) as [SlackFakeMessage];
    } finally {
      system.fakes.openai.setStreamPacing(8, 0);
    }

    const start = slack.callsTo('chat.startStream')[0]!.args;
    expect(start).toMatchObject({ channel: 'CA1', thread_ts: rootTs, recipient_user_id: 'U1', recipient_team_id: 'T1' });
    // The plan: one task per analyst and the synthesis, all finished, with what each found and read.
    expect(answer.tasks?.map((t) => [t.title, t.status])).toEqual([
      ['Cost Analyst', 'complete'],
      ['Sentiment Analyst', 'complete'],
      ['Migration Researcher', 'complete'],
      ['Recommendation', 'complete'],
    ]);
    const cost = answer.tasks![0]!;
    expect(cost.details).toMatch(/NerdWallet/);
    expect(JSON.stringify(cost.sources)).toContain('nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx');
    // The justification arrived as appended text (written as the model wrote it), not only at the end.
    const appended = slack
      .callsTo('chat.appendStream')
      .flatMap((c) => (c.args.chunks as Array<{ type: string; text?: string }>) ?? [])
      .filter((c) => c.type === 'markdown_text')
      .map((c) => c.text)
      .join('');
    expect(appended).toContain('The cost savings and the music scene match what you asked for.');
    expect(answer.text).toContain('The cost savings and the music scene match what you asked for.');
    // Closed with the rest of the answer, the feedback buttons and the one-click follow-ups.
    const shown = JSON.stringify(answer.blocks);
    expect(shown).toContain('Seattle, WA → Austin, TX');
    expect(elements(answer).some((e) => e.type === 'feedback_buttons')).toBe(true);
    expect(buttonLabelled(answer, 'What about taxes?')).toBeDefined();
    // The Stop button stood under the stream while it ran, and is gone now.
    const stopPosts = slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? []).includes('"Stop"'));
    expect(stopPosts).toHaveLength(1);
    await waitFor(() => slack.callsTo('chat.delete').length === 1, { what: 'the Stop button removed' });
    const files = await waitFor(() => slack.filesInThread('CA1', rootTs).length === 2 && slack.filesInThread('CA1', rootTs));
    expect(files[0]?.name).toMatch(/_analysis\.md$/);
    expect(files[1]?.name).toMatch(/_cost_chart\.png$/); // closing the stream posts the chart after the report
    // One answer: the stream and the report file, nothing else from the bot.
    expect(bot('CA1', rootTs).filter((m) => !m.files?.length)).toEqual([expect.objectContaining({ ts: answer.ts })]);
  });

  it('stores a thumbs up with the run and the clicking user, thanks them privately, counts it, and lets them change it', async () => {
    const slack = system.slack!;
    const feedback = elements(answer).find((e) => e.type === 'feedback_buttons') as unknown as {
      action_id: string;
      positive_button: { value: string };
      negative_button: { value: string };
    };
    const vote = (value: string) =>
      click({ user: 'U2', channel: 'CA1', messageTs: answer.ts, actionId: feedback.action_id, value, elementType: 'feedback_buttons' });

    expect((await vote(feedback.positive_button.value)).status).toBe(200);
    await waitFor(() => slack.ephemerals.some((e) => e.user === 'U2' && /Thanks/.test(e.text)), { what: 'the thanks' });
    expect(await metrics()).toContain('movebot_feedback_total{rating="up"} 1');

    expect((await vote(feedback.negative_button.value)).status).toBe(200);
    const { rows } = await system.db.db.query<{ rating: string; platform_user_id: string }>(
      'SELECT f.rating, u.platform_user_id FROM run_feedback f JOIN users u ON u.id = f.user_id',
    );
    expect(rows).toEqual([{ rating: 'down', platform_user_id: 'U2' }]);
    const text = await metrics();
    expect(text).toContain('movebot_feedback_total{rating="up"} 0');
    expect(text).toContain('movebot_feedback_total{rating="down"} 1');
  });

  it('asks a one-click follow-up once, even when double-clicked, and answers it in the thread like a typed one', async () => {
    const slack = system.slack!;
    const taxes = buttonLabelled(answer, 'What about taxes?')!;
    const followUps = () => system.fakes.openai.chatRequests.filter((r) => r.system.includes('answering a follow-up question'));
    const before = followUps().length;
    const press = () => click({ user: 'U1', channel: 'CA1', messageTs: answer.ts, actionId: String(taxes.action_id) });
    expect((await press()).status).toBe(200);
    expect((await press()).status).toBe(200);

    const streams = await closedStreams('CA1', rootTs, 2);
    expect(streams[1]!.text).toMatch(/^Follow-up answer/);
    const echoes = bot('CA1', rootTs).filter((m) => m.text === '<@U1> asked: *What about taxes?*');
    expect(echoes).toHaveLength(1);
    expect(followUps().length - before).toBe(1);
    expect(slack.ephemerals.some((e) => e.user === 'U1' && /already on its way/.test(e.text))).toBe(true);
    // The question is stored as the clicking user's message in the thread's session.
    const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CA1:${rootTs}`);
    const messages = await system.services.runtime.store.listMessages(session!.id);
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([QUESTION, 'What about taxes?']);
  });

  it('tells the clicker privately when a button is stale, never an error page', async () => {
    const res = await click({ user: 'U3', channel: 'CA1', messageTs: answer.ts, actionId: 'old-button', value: 'v1:thing' });
    expect(res.status).toBe(200);
    await waitFor(() => system.slack!.ephemerals.some((e) => e.user === 'U3' && /no longer works/.test(e.text)), {
      what: 'the stale-button note',
    });
  });
});

describe('Slack AI app: Stop', () => {
  it('stops the run when Stop is clicked: no further model call, the thread keeps what was written and says it stopped', async () => {
    const slack = system.slack!;
    const openai = system.fakes.openai;
    openai.setStreamPacing(4, 60); // the synthesis takes seconds to write: time to click
    try {
      const mention = slack.mentionEvent({ channel: 'CA2', user: 'U1', text: QUESTION });
      await slack.sendEvent(system.slackEventsUrl, mention);
      // Once some of the answer is in the stream, the user clicks Stop.
      await waitFor(() => bot('CA2', mention.ts).some((m) => m.streaming && m.text.includes('The cost savings')), {
        timeoutMs: 30_000,
        what: 'the answer being written',
      });
      const stopMessage = bot('CA2', mention.ts).find((m) => buttonLabelled(m, 'Stop'))!;
      const requestsAtClick = openai.chatRequests.length;
      const res = await click({
        user: 'U1',
        channel: 'CA2',
        messageTs: stopMessage.ts,
        actionId: String(buttonLabelled(stopMessage, 'Stop')!.action_id),
      });
      expect(res.status).toBe(200);

      const [stream] = await closedStreams('CA2', mention.ts);
      expect(stream!.text).toContain('The cost savings');
      expect(stream!.text).toContain('⏹ Stopped.');
      expect(openai.chatRequests.length).toBe(requestsAtClick);
      // The plan says the synthesis did not finish; the Stop button is gone and nothing else was posted.
      expect(stream!.tasks?.find((t) => t.title === 'Recommendation')?.status).toBe('error');
      await waitFor(() => !bot('CA2', mention.ts).some((m) => buttonLabelled(m, 'Stop')), { what: 'the Stop button removed' });
      expect(bot('CA2', mention.ts)).toHaveLength(1);
      const runs = await system.services.runtime.store.listRuns(
        (await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CA2:${mention.ts}`))!.id,
      );
      expect(runs.map((r) => r.status)).toEqual(['cancelled']);
    } finally {
      openai.setStreamPacing(8, 0);
    }
  });
});

describe("Slack AI app: Slack's own agent-session stop", () => {
  it('stops the thread\'s running answer on agent_session_stopped, like the Stop button', async () => {
    const slack = system.slack!;
    const openai = system.fakes.openai;
    openai.setStreamPacing(4, 60);
    try {
      const mention = slack.mentionEvent({ channel: 'CA4', user: 'U1', text: QUESTION });
      await slack.sendEvent(system.slackEventsUrl, mention);
      await waitFor(() => bot('CA4', mention.ts).some((m) => m.streaming && m.text.includes('The cost savings')), {
        timeoutMs: 30_000,
        what: 'the answer being written',
      });
      const stopped = { type: 'agent_session_stopped', channel: 'CA4', thread_ts: mention.ts, user: 'U1', event_ts: mention.ts };
      expect((await slack.sendEvent(system.slackEventsUrl, stopped as never)).status).toBe(200);
      const [stream] = await closedStreams('CA4', mention.ts);
      expect(stream!.text).toContain('⏹ Stopped.');
    } finally {
      openai.setStreamPacing(8, 0);
    }
  });
});

describe('Slack AI app: assistant threads', () => {
  it('suggests prompts made from what the user told us when an assistant thread opens', async () => {
    const slack = system.slack!;
    const { store, memoryStore } = system.services.runtime;
    const user = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'U5' });
    await memoryStore.add(user.id, { content: 'You live in Portland', topic: 'location' });
    const started = slack.assistantThreadStartedEvent({ channel: 'D5', user: 'U5' });
    expect((await slack.sendEvent(system.slackEventsUrl, started)).status).toBe(200);
    const [suggested] = await waitFor(() => slack.suggestedPrompts.length > 0 && slack.suggestedPrompts);
    expect(suggested!.channel).toBe('D5');
    expect(suggested!.prompts.length).toBeLessThanOrEqual(4);
    expect(suggested!.prompts[0]!.message).toBe('Should I move from Portland to Austin?');
  });

  it('shows a status while the turn runs, names the thread after the cities, and streams without recipient ids in a DM', async () => {
    const slack = system.slack!;
    const question = slack.messageEvent({ channel: 'D6', user: 'U6', text: QUESTION, channelType: 'im' });
    await slack.sendEvent(system.slackEventsUrl, question);
    await closedStreams('D6', question.ts);
    const statuses = () => slack.statuses.filter((s) => s.channel === 'D6');
    expect(statuses()[0]).toMatchObject({ threadTs: question.ts, status: 'is looking into it…' });
    expect(statuses()[0]!.loadingMessages?.length).toBeGreaterThan(0);
    await waitFor(() => statuses().at(-1)?.status === '', { what: 'the status cleared once answered' });
    expect(slack.titles).toContainEqual(expect.objectContaining({ channel: 'D6', title: 'Seattle, WA → Austin, TX' }));
    const start = slack.callsTo('chat.startStream').find((c) => c.args.channel === 'D6')!.args;
    expect(start.recipient_user_id).toBeUndefined();
  });
});

describe('Slack AI app: a stream that outlives its window', () => {
  it('continues in a new stream message when Slack closes one, and ends with one closed answer', async () => {
    const slack = system.slack!;
    const openai = system.fakes.openai;
    slack.setStreamWindowMs(250); // Slack's five minutes, shortened: the answer takes longer than this
    openai.setStreamPacing(4, 40);
    try {
      const mention = slack.mentionEvent({ channel: 'CA3', user: 'U1', text: QUESTION });
      await slack.sendEvent(system.slackEventsUrl, mention);
      const streams = await waitFor(
        () => {
          const all = bot('CA3', mention.ts).filter((m) => m.tasks !== undefined || m.planTitle !== undefined);
          return all.some((m) => elements(m).some((e) => e.type === 'feedback_buttons')) && all;
        },
        { timeoutMs: 30_000, what: 'the answer' },
      );
      expect(streams.length).toBeGreaterThan(1);
      expect(streams.every((m) => m.streaming === false)).toBe(true);
      // The answer's text is there once, and its blocks and buttons close the last stream only.
      const justification = 'The cost savings and the music scene match what you asked for.';
      expect(streams.filter((m) => m.text.includes(justification))).toHaveLength(1);
      expect(streams.filter((m) => elements(m).some((e) => e.type === 'feedback_buttons'))).toEqual([streams.at(-1)]);
      expect(streams.slice(1).every((m) => m.planTitle === '…continued')).toBe(true);
    } finally {
      slack.setStreamWindowMs(5 * 60_000);
      openai.setStreamPacing(8, 0);
    }
  });
});

// Last: the workspace is remembered as unable to stream for the rest of this system's life.
describe('Slack AI app: where streaming is unavailable', () => {
  it('answers by placeholder and edits, with the Stop button, and remembers not to try streaming again', async () => {
    const slack = system.slack!;
    slack.disableStreaming('not_allowed_token_type');
    const first = slack.mentionEvent({ channel: 'CA9', user: 'U1', text: QUESTION });
    await slack.sendEvent(system.slackEventsUrl, first);
    const [answer] = await waitFor(() => {
      const replies = bot('CA9', first.ts);
      return replies[0]?.edited && elements(replies[0]).some((e) => e.type === 'feedback_buttons') && replies;
    });
    expect(JSON.stringify(answer!.blocks)).toContain('Seattle, WA → Austin, TX');
    const placeholder = slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'CA9')!.args;
    expect(JSON.stringify(placeholder.blocks)).toContain('"Stop"');

    const attempts = slack.callsTo('chat.startStream').length;
    const second = slack.mentionEvent({ channel: 'CA9', user: 'U1', text: 'Should I move from Chicago to Denver?' });
    await slack.sendEvent(system.slackEventsUrl, second);
    await waitFor(() => bot('CA9', second.ts)[0]?.edited === true && elements(bot('CA9', second.ts)[0]).length > 0);
    expect(slack.callsTo('chat.startStream').length).toBe(attempts);
  });
});
