import { expectChartPng } from './helpers/png.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackFakeMessage } from './fakes/slack-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { startSystem, type TestSystem } from './helpers/system.js';
import { scriptTeam } from './helpers/team-script.js';

let system: TestSystem;

// These tests cover the post-and-edit way (a workspace that cannot stream); test/slack-ai-app.test.ts streams.
beforeAll(async () => {
  system = await startSystem({ platforms: ['slack'], slackStreaming: false });
});
afterAll(async () => {
  await system?.close();
});

/** The bot's messages in a thread, once `done` holds for them. */
const botReplies = (channel: string, rootTs: string, done: (replies: SlackFakeMessage[]) => boolean) =>
  waitForBotReplies(system.slack!, channel, rootTs, done);

describe('Slack end to end: mention → queue → worker → one threaded answer', () => {
  it('answers a mention in its thread with one message and the report, and keeps context in a follow-up', async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({
      channel: 'CE1',
      user: 'U1',
      text: 'Should I move from Seattle to Austin?',
    });

    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);

    const [answer] = await botReplies(
      'CE1',
      mention.ts,
      (r) => r.length >= 2 && r[0] !== undefined && isAnswered(r[0]),
    );
    expect(shownText(answer)).toContain('Seattle, WA → Austin, TX');
    expect(answer?.threadTs).toBe(mention.ts);
    const [report, chart] = await waitFor(() => {
      const files = slack.filesInThread('CE1', mention.ts);
      return files.length > 1 && files;
    });
    expect(report?.name).toMatch(/_analysis\.md$/);
    expect(report?.content.toString()).toContain('Seattle');
    // The cost chart follows the report: a PNG with alt text, linked from the report by its name.
    expect(chart?.name).toBe(report?.name.replace(/_analysis\.md$/, '_cost_chart.png'));
    expectChartPng(chart!.content);
    expect(chart?.altText).toMatch(/^Bar chart of the cost of living compared with Seattle, WA\. Austin, TX: Overall/);
    expect(report?.content.toString()).toContain(`](${chart?.name})`);

    const followUp = slack.messageEvent({
      channel: 'CE1',
      user: 'U1',
      text: 'What about taxes?',
      threadTs: mention.ts,
    });
    expect((await slack.sendEvent(system.slackEventsUrl, followUp)).status).toBe(200);
    const replies = await botReplies('CE1', mention.ts, (r) =>
      r.some((m) => /^Follow-up answer/.test(shownText(m)) && isAnswered(m)),
    );
    // One answer message per question, plus the report file and the chart.
    expect(replies).toHaveLength(4);

    const session = await system.services.runtime.store.getSessionByThreadKey(`slack:T1:CE1:${mention.ts}`);
    const messages = await system.services.runtime.store.listMessages(session!.id);
    expect(messages.map((m) => [m.role, m.role === 'user' ? m.content : ''])).toEqual([
      ['user', 'Should I move from Seattle to Austin?'],
      ['assistant', ''],
      ['user', 'What about taxes?'],
      ['assistant', ''],
    ]);
  });

  it('answers once when Slack delivers the same mention several times', async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({
      channel: 'CE2',
      user: 'U2',
      text: 'Should I move from Seattle to Austin?',
    });
    const pair = slack.messageEvent({ channel: 'CE2', user: 'U2', text: mention.text, ts: mention.ts });

    const statuses = await Promise.all([
      slack.sendEvent(system.slackEventsUrl, mention, { eventId: 'EvE2' }),
      slack.sendEvent(system.slackEventsUrl, mention, { eventId: 'EvE2', retryNum: 1 }),
      slack.sendEvent(system.slackEventsUrl, pair, { eventId: 'EvE2b' }),
    ]);

    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200]);
    await botReplies('CE2', mention.ts, (r) => r.length >= 2 && r[0] !== undefined && isAnswered(r[0]));
    // Once the worker has nothing left, the thread holds exactly one answer and one report.
    await waitFor(
      async () => {
        const c = await system.services.queue!.counts();
        return c.active + c.waiting + c.delayed === 0;
      },
      { timeoutMs: 10_000, what: 'the queue to drain' },
    );
    const bot = slack.threadMessages('CE2', mention.ts).filter((m) => m.user === slack.botUserId);
    expect(bot).toHaveLength(3); // the answer, the report and the chart
    expect(slack.filesInThread('CE2', mention.ts).map((f) => f.name.replace(/^.*_/, ''))).toEqual(['analysis.md', 'chart.png']);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'CE2')).toHaveLength(1);
  });

  it('says so in the thread when the AI service fails', async () => {
    const slack = system.slack!;
    const openai = system.fakes.openai;
    openai.reset();
    openai.setResponder(() => ({ status: 401, error: 'invalid api key' }));
    try {
      const mention = slack.mentionEvent({
        channel: 'CE3',
        user: 'U3',
        text: 'Should I move from Seattle to Austin?',
      });
      await slack.sendEvent(system.slackEventsUrl, mention);

      const [notice] = await botReplies('CE3', mention.ts, (r) => r[0] !== undefined && isAnswered(r[0]));
      expect(shownText(notice)).toMatch(/:warning:|⚠️/);
      expect(notice?.text).toMatch(/AI service|try again/i);
    } finally {
      openai.reset();
      scriptTeam(openai);
    }
  });

  it('splits a long answer into parts within Slack limits', async () => {
    const slack = system.slack!;
    const openai = system.fakes.openai;
    const paragraph = (i: number) =>
      `Point ${i}: ${'taxes in Texas work differently than in Washington. '.repeat(12)}`;
    const long = `Follow-up answer. ${Array.from({ length: 80 }, (_, i) => paragraph(i)).join('\n\n')}`;
    openai.reset();
    openai.route({ system: 'answering a follow-up question' }, { content: long });
    scriptTeam(openai);
    try {
      const mention = slack.mentionEvent({
        channel: 'CE4',
        user: 'U4',
        text: 'Should I move from Seattle to Austin?',
      });
      await slack.sendEvent(system.slackEventsUrl, mention);
      // The answer, its report and its chart, so the follow-up's parts come after all three.
      await botReplies('CE4', mention.ts, (r) => r.length >= 3 && r[0] !== undefined && isAnswered(r[0]));
      const followUp = slack.messageEvent({
        channel: 'CE4',
        user: 'U4',
        text: 'Tell me about taxes',
        threadTs: mention.ts,
      });
      await slack.sendEvent(system.slackEventsUrl, followUp);

      const replies = await botReplies('CE4', mention.ts, (r) =>
        r.some((m) => shownText(m).includes('Point 79')),
      );
      const parts = replies.filter((m) => m.ts > followUp.ts);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts[0]?.edited).toBe(true);
      for (const part of parts) {
        const blocks = part.blocks as Array<{ text?: { text: string } | string }>;
        expect(blocks.length).toBeLessThanOrEqual(50);
        expect(JSON.stringify(blocks).length).toBeLessThanOrEqual(12_000);
        for (const b of blocks) {
          const text = typeof b.text === 'string' ? b.text : b.text?.text;
          expect(text?.length ?? 0).toBeLessThanOrEqual(3_000);
        }
      }
      const all = parts.map(shownText).join('\n');
      for (const i of [0, 40, 79]) expect(all).toContain(`Point ${i}:`);
    } finally {
      openai.reset();
      scriptTeam(openai);
    }
  });
});
