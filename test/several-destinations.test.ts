import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import type { RunEvent } from '../src/ports/run-events.js';
import { ComparisonSchema } from '../src/team/comparison-schema.js';
import { TeamStateSchema } from '../src/team/thread-state.js';
import { messageText } from './fakes/openai-fake.js';
import { SEATTLE_AUSTIN_URL, SEATTLE_DENVER_URL, SEATTLE_RALEIGH_URL } from './helpers/team-env.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { modelBarrier, scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
let thread = 0;

function ask(text: string, threadKey = `cli:multi:${++thread}`) {
  const events: RunEvent[] = [];
  const message: IncomingMessage = { platform: 'cli', workspace: 'local', threadKey, user: { platformUserId: 'u1' }, text };
  return team.runtime.conversation.handle(message, { emit: (e) => events.push(e) }).then((turn) => ({ turn, threadKey, events }));
}

const taxPage = (state: string) => `https://taxfoundation.org/location/${state}/`;
const scraped = () => team.fakes.firecrawl.requests.map((r) => r.url).sort();
const chats = (system: string) => team.fakes.openai.chatRequests.filter((r) => r.system.includes(system));

describe('several destinations from one origin', () => {
  it('compares three destinations side by side and ranks them from the pair results', async () => {
    // A barrier in the model: each pair's Cost Analyst call is held until all three have arrived, so
    // pairs run one after another would wait out the deadline one by one (and see fewer than three).
    const barrier = modelBarrier(3);
    team.fakes.openai.reset();
    team.fakes.openai.route({ system: 'You are the Cost Analyst' }, barrier.hold);
    scriptTeam(team.fakes.openai);
    const { turn, threadKey, events } = await ask('Compare Austin, Denver and Raleigh for me, I live in Seattle');
    barrier.done();
    expect(barrier.seenOnRelease).toEqual([3, 3, 3]);
    // One plan for the question, and only the ranking's prose streamed.
    expect(events.filter((e) => e.type === 'cities_resolved').map((e) => e.type === 'cities_resolved' && e.to.display)).toEqual([
      'Austin, TX, Denver, CO, Raleigh, NC',
    ]);
    expect(events.filter((e) => e.type === 'synthesizing')).toHaveLength(1);
    const streamed = events.map((e) => (e.type === 'content_delta' ? e.text : '')).join('');
    expect(streamed.trim()).toBe('Raleigh, NC saves the most on housing.');
    expect(turn.outcome?.kind).toBe('recommendation');
    if (turn.outcome?.kind !== 'recommendation') return;
    const { comparison, markdown, text } = turn.outcome;
    // Three NerdWallet pages reached Firecrawl, one per pair, and each state's tax page once (Seattle's
    // is shared by the three pairs); one intake and one ranking call.
    expect(scraped()).toEqual(
      [SEATTLE_AUSTIN_URL, SEATTLE_DENVER_URL, SEATTLE_RALEIGH_URL, ...['washington', 'texas', 'colorado', 'north-carolina'].map(taxPage)].sort(),
    );
    expect(chats('intake step')).toHaveLength(1);
    expect(chats('ranking several destinations')).toHaveLength(1);
    expect(chats('You are the Cost Analyst')).toHaveLength(3);
    expect(comparison?.destinations.map((d) => d.to.display)).toEqual(['Austin, TX', 'Denver, CO', 'Raleigh, NC']);
    // Ranked by housing savings, as the scripted model chose: Raleigh 44%, Austin 38%, Denver 22%.
    expect(text).toMatch(/1\. \*\*Raleigh, NC\*\*: Move\. Housing 44% lower than Seattle\.\n2\. \*\*Austin, TX\*\*.*\n3\. \*\*Denver, CO\*\*/);
    // The report: a table of the figures from each page, side by side, then one section per destination.
    expect(markdown).toContain('| | Raleigh, NC | Austin, TX | Denver, CO |');
    expect(markdown).toMatch(/\| Housing \| 44% lower \| 38% lower \| 22% lower \|/);
    expect(markdown).toContain('## 1. Should You Move from Seattle, WA to Raleigh, NC?');
    expect(markdown).toContain('## 3. Should You Move from Seattle, WA to Denver, CO?');
    // The ranking's prose is grounded: the figure no page had is gone, the rest stays.
    expect(markdown).toContain('Raleigh, NC saves the most on housing.');
    expect(markdown).not.toContain('99%');
    // Stored in the session and valid when read back.
    const session = await team.runtime.store.getSessionByThreadKey(threadKey);
    const state = TeamStateSchema.parse(session!.state.team);
    expect(ComparisonSchema.parse(state.comparison).ranking.map((r) => r.index)).toEqual([2, 0, 1]);
  });

  it('says the limit plainly and compares the first three of four destinations', async () => {
    const { turn } = await ask('Should I move from Seattle to Austin, Denver, Raleigh or Boise?');
    if (turn.outcome?.kind !== 'recommendation') throw new Error(`got ${turn.outcome?.kind}`);
    expect(turn.outcome.text).toContain('I compare at most 3 destinations at a time');
    expect(turn.outcome.text).toContain('left out Boise');
    expect(turn.outcome.markdown).toContain('left out Boise');
    expect(turn.outcome.comparison?.destinations.map((d) => d.to.display)).toEqual(['Austin, TX', 'Denver, CO', 'Raleigh, NC']);
    // Boise was never looked up: no page asked for, no analyst asked about it.
    expect(team.fakes.openai.chatRequests.some((r) => r.text.includes('Boise, ID'))).toBe(false);
    expect(team.fakes.firecrawl.requests.some((r) => r.url.includes('boise'))).toBe(false);
  });

  it('asks back about just the unclear destination, then compares both with the answer', async () => {
    const { turn, threadKey } = await ask('Should I move from Seattle to Austin or Columbus?');
    expect(turn.outcome?.kind).toBe('clarify');
    const text = turn.outcome?.text ?? '';
    expect(text).toMatch(/^Which Columbus do you mean: Columbus, GA or Columbus, OH\?/);
    expect(text).toContain("I'll compare it with Austin once I know.");
    expect(text).not.toMatch(/Which Austin/);
    expect(team.fakes.firecrawl.requests).toHaveLength(0);

    const { turn: answered } = await ask('Columbus, OH', threadKey);
    if (answered.outcome?.kind !== 'recommendation') throw new Error(`got ${answered.outcome?.kind}`);
    expect(answered.outcome.comparison?.destinations.map((d) => d.to.display)).toEqual(['Austin, TX', 'Columbus, OH']);
    // NerdWallet's page for this pair is not in the fake: that destination's cost reads unavailable, the rest stands.
    expect(team.fakes.firecrawl.requests.map((r) => r.url)).toContain(
      'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-columbus-oh',
    );
    expect(answered.outcome.markdown).toMatch(/\| Housing \| 38% lower \| unavailable \|/);
  });

  it("leaves out a destination none of whose analysts could answer, says so, and ranks the others", async () => {
    team.fakes.openai.reset();
    const denver = team.fakes.openai.route((r) => r.text.includes('Moving to: Denver, CO'), { status: 500, error: 'The server had an error' });
    scriptTeam(team.fakes.openai);
    const { turn, threadKey } = await ask('Compare Austin, Denver and Raleigh for me, I live in Seattle');
    if (turn.outcome?.kind !== 'recommendation') throw new Error(`got ${turn.outcome?.kind}`);
    expect(denver.calls).toBeGreaterThanOrEqual(3); // each of Denver's analysts asked, and failed
    expect(turn.outcome.comparison?.destinations.map((d) => d.to.display)).toEqual(['Austin, TX', 'Raleigh, NC']);
    for (const shown of [turn.outcome.text, turn.outcome.markdown]) {
      expect(shown).toMatch(/Denver, CO could not be analysed this time: .+\(error code: \w+\)/);
    }
    expect(turn.outcome.markdown).toContain('| | Raleigh, NC | Austin, TX |');
    const session = await team.runtime.store.getSessionByThreadKey(threadKey);
    expect(TeamStateSchema.parse(session!.state.team).comparison?.destinations).toHaveLength(2);
  });

  it('answers about the one destination left when the other cannot be analysed', async () => {
    team.fakes.openai.reset();
    team.fakes.openai.route((r) => r.text.includes('Moving to: Denver, CO'), { status: 500, error: 'The server had an error' });
    scriptTeam(team.fakes.openai);
    const { turn, threadKey } = await ask('Should I move from Seattle to Austin or Denver?');
    if (turn.outcome?.kind !== 'recommendation') throw new Error(`got ${turn.outcome?.kind}`);
    expect(turn.outcome.comparison).toBeUndefined();
    expect(turn.outcome.recommendation.to.display).toBe('Austin, TX');
    expect(turn.outcome.text).toMatch(/^_Denver, CO could not be analysed this time: /);
    expect(turn.outcome.text).toContain('**Move** for Seattle, WA → Austin, TX');
    expect(turn.outcome.markdown).toContain('# Should You Move from Seattle, WA to Austin, TX?');
    // The thread is now about that pair: a follow-up continues it.
    const session = await team.runtime.store.getSessionByThreadKey(threadKey);
    const state = TeamStateSchema.parse(session!.state.team);
    expect(state.last?.to.display).toBe('Austin, TX');
    expect(state.comparison).toBeUndefined();
  });

  it("uses what the question itself says (the income) in every pair's tax estimate", async () => {
    team.fakes.openai.reset();
    team.fakes.openai.route(
      { system: 'intake step' },
      { json: { current_city: 'Seattle', desired_city: 'Austin', annual_income: 150_000, intent: 'compare' } },
      { times: 1 },
    );
    scriptTeam(team.fakes.openai);
    const { turn } = await ask('Should I move from Seattle to Austin or Denver? I earn $150,000 a year.');
    if (turn.outcome?.kind !== 'recommendation') throw new Error(`got ${turn.outcome?.kind}`);
    const incomes = turn.outcome.comparison?.destinations.map((d) => (d.recommendation.taxes?.status === 'ok' ? d.recommendation.taxes.data.annualIncome : undefined));
    expect(incomes).toEqual([150_000, 150_000]);
  });

  it('answers a follow-up about the destination it names', async () => {
    const { threadKey } = await ask('Should I move from Seattle to Austin or Denver?');
    // The first turn's background work (memory, knowledge) ends before the fakes forget it.
    await team.runtime.conversation.idle();
    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
    team.fakes.brave.reset();
    const { turn } = await ask("What about Denver's weather?", threadKey);
    expect(turn.outcome?.kind).toBe('answer');
    const [followUp] = chats('answering a follow-up question');
    const prompt = messageText(followUp?.messages.at(-1)?.content);
    expect(prompt).toContain('Earlier analysis (Seattle, WA → Denver, CO)');
    expect(prompt).not.toContain('Earlier analysis (Seattle, WA → Austin, TX)');
    // The weather is the Sentiment Analyst's subject: Denver's search results (cached) were given, not Austin's.
    expect(prompt).toMatch(/living in Denver, CO/);
    expect(prompt).not.toMatch(/living in Austin, TX/);
  });
});
