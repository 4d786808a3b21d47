import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { TurnJob } from '../src/ports/turn-job.js';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import { waitFor } from './fakes/fake-http.js';
import { startSystem } from './helpers/system.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

/*
 * Drills for "forget is final": the forget watermark inside the memory insert, and the scrubbing of
 * the user's profile and memory references from stored answers. (Redis job payloads: worker.test.ts.)
 */
const team = useTeamRuntime();

const say = (text: string, threadKey: string, user = 'ann') => {
  const message: IncomingMessage = { platform: 'slack', workspace: 'T1', threadKey, user: { platformUserId: user }, text };
  return team.runtime.conversation.handle(message);
};

describe('forget everything is final', () => {
  it('stores nothing learned from an earlier message, even when learning finishes after the forget', async () => {
    const { openai } = team.fakes;
    // The memory keeper is held until the forget is done: learning from the first message is still
    // under way when "forget everything" arrives, as happens when two threads run at once.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let extractionArrived!: () => void;
    const arrived = new Promise<void>((r) => {
      extractionArrived = r;
    });
    openai.reset();
    openai.route({ system: 'memory keeper' }, async () => {
      extractionArrived();
      await held;
      return { json: { facts: [{ content: 'You earn $150,000 a year', topic: 'income', replaces: null }] } };
    }, { times: 1 });
    scriptTeam(openai);

    await say('Should I move from Seattle to Austin? I earn $150,000 a year.', 'slack:T1:C1:1.1');
    await arrived;
    const forgot = await say('forget everything', 'slack:T1:C2:2.2');
    expect(forgot.reply.content).toMatch(/nothing stored|forgot everything/i);
    release();
    await team.runtime.conversation.idle();

    const user = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'ann' });
    expect((await team.runtime.memoryStore.list(user.id)).memories).toEqual([]);
    // What they say after the forget is learned again as usual.
    await say('I live in Portland now, should I move to Denver?', 'slack:T1:C3:3.3');
    await team.runtime.conversation.idle();
    expect((await team.runtime.memoryStore.list(user.id)).total).toBeGreaterThan(0);
  });

  it("scrubs the user's profile and memory references from the answers stored for them", async () => {
    // A DM: every memory of bob's may be used there (src/memory/place.ts).
    const thread = 'slack:T1:D4:4.4';
    const bob = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'bob' });
    await team.runtime.memoryStore.add(bob.id, { content: 'You prefer walkable neighbourhoods', topic: 'preference' });
    const { openai } = team.fakes;
    openai.reset();
    openai.route(
      { system: 'intake step' },
      { json: { current_city: 'Seattle', desired_city: 'Denver', annual_income: 150_000, intent: 'compare' } },
      { times: 1 },
    );
    scriptTeam(openai);
    await say('Should I move from Seattle to Denver? I earn $150,000 a year.', thread, 'bob');
    const session = await team.runtime.store.getSessionByThreadKey(thread);
    const before = (await team.runtime.store.listMessages(session!.id)).find((m) => m.role === 'assistant')!;
    expect(before.metadata.recommendation?.profile.annual_income).toBe(150_000);
    expect(before.metadata.recommendation?.memoriesUsed).toEqual(['You prefer walkable neighbourhoods']);
    expect(before.metadata.report).toBeDefined();
    // Colorado taxes income and Washington does not: the summary estimates the difference on their income.
    expect(before.content).toContain('on $150,000 (single filer)');
    expect(before.metadata.recommendation?.taxes?.status === 'ok' && before.metadata.recommendation.taxes.data.annualIncome).toBe(150_000);

    await say('forget everything', 'slack:T1:C5:5.5', 'bob');

    const after = (await team.runtime.store.listMessages(session!.id)).find((m) => m.id === before.id)!;
    expect(after.metadata.recommendation?.profile.annual_income).toBeNull();
    expect(after.metadata.recommendation?.memoriesUsed).toEqual([]);
    expect(after.metadata.report).toBeUndefined();
    expect(JSON.stringify(after)).not.toMatch(/150,?000|walkable/);
  });
});

describe('forget everything at the wire', () => {
  it("removes the user's finished jobs (their message text) from Redis, and nobody else's", async () => {
    const system = await startSystem({ platforms: ['slack'], slackStreaming: false });
    try {
      const slack = system.slack!;
      // The web role's BullMQ queue, where finished jobs (with their message text) are kept.
      const { queue } = system.services.queue as unknown as { queue: Queue<TurnJob> };
      const jobsOf = async (user: string) =>
        (await queue.getJobs(['completed', 'failed'])).filter((j) => j.data.userId === user);
      for (const [channel, user] of [['D8', 'U8'], ['D9', 'U9']] as const) {
        const mention = slack.messageEvent({ channel, user, text: 'Should I move from Seattle to Austin? I earn $150,000.', channelType: 'im' });
        await slack.sendEvent(system.slackEventsUrl, mention);
      }
      await waitFor(async () => (await jobsOf('U8')).length === 1 && (await jobsOf('U9')).length === 1, {
        timeoutMs: 30_000,
        what: 'both answers',
      });
      const forget = slack.messageEvent({ channel: 'D8', user: 'U8', text: 'forget everything', channelType: 'im' });
      await slack.sendEvent(system.slackEventsUrl, forget);
      await waitFor(async () => (await jobsOf('U8')).map((j) => j.data.text).join() === 'forget everything', {
        timeoutMs: 30_000,
        what: "U8's earlier job removed",
      });
      expect(await jobsOf('U9')).toHaveLength(1);
    } finally {
      await system.close();
    }
  });
});
