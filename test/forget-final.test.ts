import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
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
    const thread = 'slack:T1:C4:4.4';
    const bob = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'bob' });
    await team.runtime.memoryStore.add(bob.id, { content: 'You prefer walkable neighbourhoods', topic: 'preference' });
    const { openai } = team.fakes;
    openai.reset();
    openai.route(
      { system: 'intake step' },
      { json: { current_city: 'Seattle', desired_city: 'Austin', annual_income: 150_000, intent: 'compare' } },
      { times: 1 },
    );
    scriptTeam(openai);
    await say('Should I move from Seattle to Austin? I earn $150,000 a year.', thread, 'bob');
    const session = await team.runtime.store.getSessionByThreadKey(thread);
    const before = (await team.runtime.store.listMessages(session!.id)).find((m) => m.role === 'assistant')!;
    expect(before.metadata.recommendation?.profile.annual_income).toBe(150_000);
    expect(before.metadata.recommendation?.memoriesUsed).toEqual(['You prefer walkable neighbourhoods']);
    expect(before.metadata.report).toBeDefined();

    await say('forget everything', 'slack:T1:C5:5.5', 'bob');

    const after = (await team.runtime.store.listMessages(session!.id)).find((m) => m.id === before.id)!;
    expect(after.metadata.recommendation?.profile.annual_income).toBeNull();
    expect(after.metadata.recommendation?.memoriesUsed).toEqual([]);
    expect(after.metadata.report).toBeUndefined();
    expect(JSON.stringify(after)).not.toMatch(/150,?000|walkable/);
  });
});
