import { describe, expect, it } from 'vitest';
import type { TeamState } from '../src/team/coordinator.js';
import { profileFor, withProfile } from '../src/team/thread-state.js';
import type { RunEvent } from '../src/ports/run-events.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
const THREAD = 'slack:T1:C42:1700000000.000100';

/** What movebot remembers of Ana from elsewhere; Ben, asking in the same thread, has no memories. */
const ANA_MEMORIES = ['You earn $185,000 a year', 'You prefer walkable cities'];
const ANA_FACTS = /185,?000|185k|walkable/i;

async function say(user: string, text: string) {
  const events: RunEvent[] = [];
  const turn = await team.runtime.conversation.handle(
    { platform: 'slack', workspace: 'T1', threadKey: THREAD, user: { platformUserId: user }, text },
    { emit: (e) => events.push(e) },
  );
  // Memory learning and knowledge indexing run after the answer; their requests belong to this turn.
  await team.runtime.conversation.idle();
  await team.runtime.cache.idle();
  const streamed = events.flatMap((e) => (e.type === 'content_delta' ? [e.text] : [])).join('');
  return { turn, streamed };
}

/**
 * The model as it really behaves: the intake folds remembered facts into the profile (the prompt says
 * memories may fill gaps), and the Sentiment Analyst writes the user's preferences into its fit text.
 */
function scriptModelThatUsesWhatItIsTold() {
  const fake = team.fakes.openai;
  fake.reset();
  fake.route({ system: 'intake step' }, (req) => {
    const remembered = req.lastUser.split('Newest message from the user')[0] ?? '';
    if (!remembered.includes('$185,000')) return undefined; // on to the scripted intake
    return {
      json: { annual_income: 185_000, city_preferences: ['walkable cities'], intent: 'compare', follow_up_topics: [] },
    };
  });
  fake.route({ system: 'You are the Sentiment Analyst' }, (req) => {
    const wants = /Wants in a city: (.+)/.exec(req.lastUser)?.[1];
    const income = /Annual income: (.+)/.exec(req.lastUser)?.[1];
    return {
      json: {
        overall_sentiment: 'Positive: a lively city.',
        alignment_with_preferences: [wants && `Fits what you want: ${wants}.`, income && `Affordable on ${income}.`]
          .filter(Boolean)
          .join(' '),
        notable_pros: ['Music scene'],
        notable_cons: ['Summer heat'],
      },
    };
  });
  scriptTeam(fake);
}

/** A request as sent, without its system prompts: fixed text whose examples ("walkable") are no one's. */
function sentData(body: Record<string, unknown>): string {
  const messages = (body.messages as { role: string }[] | undefined)?.filter((m) => m.role !== 'system');
  return JSON.stringify({ ...body, messages });
}

describe('two people in one thread', () => {
  it("keeps one person's remembered facts out of the other's answers, reports and model requests", async () => {
    scriptModelThatUsesWhatItIsTold();
    const ana = await team.runtime.store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'ana' });
    // Told where anyone could read them: a channel's answer may use them (src/memory/place.ts).
    for (const content of ANA_MEMORIES) await team.runtime.memoryStore.add(ana.id, { content, topic: 'preference', learnedPlace: 'public' });

    const first = await say('ana', 'Should I move from Seattle to Austin?');
    expect(first.turn.outcome?.kind).toBe('recommendation');
    if (first.turn.outcome?.kind !== 'recommendation') return;
    // Ana's own answer is built on her facts, so the checks below can see them if they leak.
    expect(first.turn.reply.content).toMatch(/You mentioned: "You (earn \$185,000 a year|prefer walkable cities)"/);
    expect(first.turn.outcome.markdown).toContain('Fits what you want: walkable cities. Affordable on $185,000.');
    const anaCost = team.fakes.openai.chatRequests.find((r) => r.system.startsWith('You are the Cost Analyst'))!;
    expect(anaCost.lastUser).toContain('Annual income: $185,000');
    const sentBefore = team.fakes.openai.requests.length;

    const follow = await say('ben', 'What about taxes?');
    expect(follow.turn.outcome?.kind).toBe('answer');
    const fresh = await say('ben', 'Should I move from Chicago to Denver?');
    expect(fresh.turn.outcome?.kind).toBe('recommendation');
    if (fresh.turn.outcome?.kind !== 'recommendation') return;

    for (const shown of [follow.turn.reply.content, follow.streamed, fresh.turn.reply.content, fresh.turn.outcome.markdown]) {
      expect(shown).not.toMatch(ANA_FACTS);
    }
    expect(fresh.turn.outcome.recommendation.profile).toMatchObject({ annual_income: null, city_preferences: [] });
    const benRequests = team.fakes.openai.requests.slice(sentBefore);
    // Ben's turns did reach the follow-up step and all three analysts: the check covers them all.
    const systems = team.fakes.openai.chatRequests.filter((r) => benRequests.includes(r)).map((r) => r.system);
    for (const step of ['follow-up question', 'Cost Analyst', 'Sentiment Analyst', 'Migration Researcher', 'Combine the']) {
      expect(systems.some((s) => s.includes(step))).toBe(true);
    }
    for (const r of benRequests) expect(sentData(r.body)).not.toMatch(ANA_FACTS);

    // Ana's facts are still hers for her next turn in the thread, kept apart from Ben's.
    const session = await team.runtime.store.getSessionByThreadKey(THREAD);
    const state = session?.state.team as TeamState;
    expect(state.profiles?.[ana.id]).toMatchObject({ annual_income: 185_000, city_preferences: ['walkable cities'] });
    expect(JSON.stringify(state.profiles?.[fresh.turn.user.id])).not.toMatch(ANA_FACTS);
  });
});

describe('a thread saved before profiles were kept per person', () => {
  it('goes on with its cities but gives no one the facts of unknown owner', () => {
    const legacy: TeamState = {
      profile: {
        current_city: 'Seattle',
        desired_city: 'Austin',
        annual_income: 185_000,
        monthly_expenses: null,
        city_preferences: ['walkable cities'],
        current_city_likes: [],
        current_city_dislikes: [],
      },
    };
    const read = profileFor(legacy, 'someone');
    expect(read).toMatchObject({ current_city: 'Seattle', desired_city: 'Austin', annual_income: null, city_preferences: [] });
    const next = withProfile(legacy, 'someone', read!);
    expect(next).toEqual({
      cities: { current_city: 'Seattle', desired_city: 'Austin' },
      profiles: { someone: { ...read, current_city: null, desired_city: null } },
    });
  });
});
