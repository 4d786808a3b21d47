import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import type { RunEvent } from '../src/ports/run-events.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
let thread = 0;

/** Figures no source of a Seattle → Austin turn states: NerdWallet's page says housing is 38% lower. */
const INVENTED = /45%|64%|\$3,999/;

async function ask(text: string, threadKey = `cli:grounding:${++thread}`) {
  const events: RunEvent[] = [];
  const message: IncomingMessage = { platform: 'cli', workspace: 'local', threadKey, user: { platformUserId: 'u1' }, text };
  const turn = await team.runtime.conversation.handle(message, { emit: (e) => events.push(e) });
  const streamed = events.flatMap((e) => (e.type === 'content_delta' ? [e.text] : [])).join('');
  return { turn, streamed, threadKey };
}

/** A model that restates the page's figure correctly once and then makes figures up. */
function scriptInventedFigures() {
  const fake = team.fakes.openai;
  fake.reset();
  fake.route({ system: 'Combine the analysts' }, {
    json: {
      recommendation: 'move',
      confidence_level: 'Medium',
      key_supporting_factors: ['Housing is 38% lower in Austin', 'Rent is 45% lower'],
      key_concerns: ['Summer heat', 'Property taxes run 64% higher'],
      detailed_justification: 'Housing is 38% lower in Austin, TX. Rent is 45% lower, so you save a lot. The music scene suits you.',
      next_steps: ['Budget $3,999 for the move', 'Visit in August'],
      memories_used: [],
    },
  });
  fake.route({ system: 'You are the Sentiment Analyst' }, {
    json: {
      overall_sentiment: 'Positive: a lively city. Rents are 45% lower than in Seattle.',
      vibe_description: 'Live music and food trucks.',
      alignment_with_preferences: 'Good fit.',
      notable_pros: ['Music scene', '64% more sunny days'],
      notable_cons: ['Summer heat'],
    },
  });
  fake.route({ system: 'answering a follow-up question' }, {
    content: 'Texas has no state income tax.\n- Housing is 38% lower in Austin, TX.\n- Rent is 45% lower there.\nBudget $3,999 for movers. Ask me about neighbourhoods next.',
  });
  scriptTeam(fake);
}

describe('figures in the team’s prose', () => {
  it('drops sentences of the synthesis and analysts that state a figure no source has', async () => {
    scriptInventedFigures();
    const { turn } = await ask('Should I move from Seattle to Austin?');
    expect(turn.outcome?.kind).toBe('recommendation');
    if (turn.outcome?.kind !== 'recommendation') return;
    const { markdown, recommendation: r } = turn.outcome;
    for (const shown of [markdown, turn.reply.content, JSON.stringify(r)]) expect(shown).not.toMatch(INVENTED);
    // What the page does say stays, sentence by sentence.
    expect(r.justification).toBe('Housing is 38% lower in Austin, TX. The music scene suits you.');
    expect(r.supportingFactors).toEqual(['Housing is 38% lower in Austin']);
    expect(r.concerns).toEqual(['Summer heat']);
    expect(r.nextSteps).toEqual(['Visit in August']);
    expect(markdown).toContain('**Overall sentiment:** Positive: a lively city.');
    expect(markdown).toContain('- Music scene');
    // The synthesis was not shown the analyst's invented figure as a finding to build on.
    const synthesis = team.fakes.openai.chatRequests.find((x) => x.system.includes('Combine the analysts'))!;
    expect(synthesis.lastUser).not.toMatch(INVENTED);
  });

  it('drops them from a follow-up answer, also while it streams', async () => {
    scriptInventedFigures();
    const first = await ask('Should I move from Seattle to Austin?');
    const follow = await ask('What about taxes?', first.threadKey);
    expect(follow.turn.outcome?.kind).toBe('answer');
    const [prose, ...computed] = follow.turn.reply.content.split('\n\n');
    expect(prose).toBe('Texas has no state income tax.\n- Housing is 38% lower in Austin, TX.\nAsk me about neighbourhoods next.');
    // What follows is the tax part computed by code from the Tax Foundation pages.
    expect(computed[0]).toBe('**State taxes**');
    expect(follow.turn.reply.content).not.toMatch(INVENTED);
    expect(follow.streamed).not.toMatch(INVENTED);
    expect(follow.streamed.trim()).toBe(follow.turn.reply.content);
  });
});
