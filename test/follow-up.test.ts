import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import type { RunEvent } from '../src/ports/run-events.js';
import type { TeamFakes } from './helpers/team-env.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
let thread = 0;

async function ask(text: string, threadKey = `cli:follow-up:${++thread}`) {
  const events: RunEvent[] = [];
  const message: IncomingMessage = { platform: 'cli', workspace: 'local', threadKey, user: { platformUserId: 'u1' }, text };
  const turn = await team.runtime.conversation.handle(message, { emit: (e) => events.push(e) });
  return { turn, events, threadKey, analystsRan: events.some((e) => e.type === 'analyst_started') };
}

/** The intake reading the next message as the model would, restating the thread's cities its own way. */
function nextIntakeReads(reading: Record<string, unknown>) {
  const fake: TeamFakes['openai'] = team.fakes.openai;
  fake.reset();
  fake.route({ system: 'intake step' }, { json: reading }, { times: 1 });
  scriptTeam(fake);
}

describe('telling a follow-up from a new comparison', () => {
  it('answers "what about taxes?" after Seattle → NYC from the analysis, though the intake writes "NYC"', async () => {
    const first = await ask('Should I move from Seattle to NYC?');
    expect(first.turn.outcome?.kind).toBe('recommendation');
    if (first.turn.outcome?.kind === 'recommendation') {
      expect(first.turn.outcome.recommendation.to.display).toBe('New York (Manhattan), NY');
    }
    nextIntakeReads({ current_city: 'Seattle', desired_city: 'NYC', intent: 'follow_up', follow_up_topics: ['cost'] });
    const follow = await ask('What about taxes?', first.threadKey);
    expect(follow.turn.outcome?.kind).toBe('answer');
    expect(follow.analystsRan).toBe(false);
  });

  it('compares Salem anew after Winston-Salem: a name inside another is another city', async () => {
    const first = await ask('Should I move from Seattle to Winston-Salem?');
    expect(first.turn.outcome?.kind).toBe('recommendation');
    nextIntakeReads({ current_city: 'Seattle', desired_city: 'Salem', intent: 'follow_up', follow_up_topics: ['general'] });
    const next = await ask('And what about Salem?', first.threadKey);
    expect(next.turn.outcome?.kind).toBe('recommendation');
    if (next.turn.outcome?.kind === 'recommendation') expect(next.turn.outcome.recommendation.to.display).toBe('Salem, OR');
    expect(next.analystsRan).toBe(true);
  });

  it('still takes a city NerdWallet does not list, written the same way, as the same city', async () => {
    const first = await ask('Should I move from Seattle to Atlantis?');
    expect(first.turn.outcome?.kind).toBe('recommendation');
    nextIntakeReads({ current_city: 'seattle', desired_city: 'atlantis', intent: 'follow_up', follow_up_topics: ['general'] });
    const follow = await ask('Is it sunny there?', first.threadKey);
    expect(follow.turn.outcome?.kind).toBe('answer');
  });
});
