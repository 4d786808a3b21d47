import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import type { RunEvent } from '../src/ports/run-events.js';
import { RecommendationSchema } from '../src/team/schemas.js';
import { TAX_FOUNDATION_PAGES } from './fakes/tax-foundation-pages.js';
import type { TeamFakes } from './helpers/team-env.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';

const team = useTeamRuntime();
let thread = 0;

const IL = 'https://taxfoundation.org/location/illinois/';
const CO = 'https://taxfoundation.org/location/colorado/';
const TX = 'https://taxfoundation.org/location/texas/';

async function ask(text: string, threadKey = `cli:taxes:${++thread}`) {
  const events: RunEvent[] = [];
  const message: IncomingMessage = { platform: 'cli', workspace: 'local', threadKey, user: { platformUserId: 'u1' }, text };
  const turn = await team.runtime.conversation.handle(message, { emit: (e) => events.push(e) });
  return { turn, events, threadKey };
}

/** The intake reads the next message this way; the rest of the team keeps its happy path. */
function intakeReads(reading: Record<string, unknown>, ...more: Array<Parameters<TeamFakes['openai']['route']>>) {
  const fake = team.fakes.openai;
  fake.reset();
  fake.route({ system: 'intake step' }, { json: reading }, { times: 1 });
  for (const r of more) fake.route(...r);
  scriptTeam(fake);
}

const chicagoDenver = { current_city: 'Chicago', desired_city: 'Denver', annual_income: 100_000, intent: 'compare' };

describe('state taxes and take-home pay', () => {
  it('an unreadable tax page leaves that state unavailable, says so, and the rest of the answer stands', async () => {
    team.fakes.firecrawl.setPage(TX, { markdown: '', error: 'blocked by the site' });
    try {
      const { turn } = await ask('Should I move from Seattle to Austin?');
      expect(turn.outcome?.kind).toBe('recommendation');
      if (turn.outcome?.kind !== 'recommendation') return;
      const { recommendation: r, markdown, text } = turn.outcome;
      expect(r.taxes?.status).toBe('ok');
      if (r.taxes?.status !== 'ok') return;
      expect(r.taxes.data.to).toMatchObject({ status: 'unavailable' });
      expect(r.taxes.data.from).toMatchObject({ status: 'ok', data: { state: 'Washington', incomeTax: { kind: 'none' } } });
      expect(markdown).toContain("**Austin, TX:** _unavailable: Tax Foundation's page for Texas could not be fetched (scrape_failed)._");
      expect(markdown).toMatch(/\*\*Washington\*\* \(Seattle, WA\): income tax none; sales tax 6\.5% state, 9\.38% state \+ average local/);
      expect(text).toMatch(/\*\*State taxes:\*\* Washington income tax none · Austin, TX unavailable/);
      // The rest of the answer is all there.
      expect(r.cost.status).toBe('ok');
      expect(r.sentiment.status).toBe('ok');
      expect(r.migration.status).toBe('ok');
      expect(markdown).toContain('## Cost Analysis Report');
      expect(markdown).toContain('## Next Steps');
      expect(`${markdown}${text}`).not.toMatch(/127\.0\.0\.1|localhost|blocked by the site/);
    } finally {
      team.fakes.firecrawl.setPage(TX, TAX_FOUNDATION_PAGES[TX]!);
    }
  });

  it("shows both states' rates from the page with their source, and the income tax estimate; a figure not on the page is dropped", async () => {
    intakeReads(chicagoDenver, [
      { system: 'Combine the analysts' },
      {
        json: {
          recommendation: 'move',
          confidence_level: 'Medium',
          detailed_justification:
            'Colorado taxes income at a flat 4.4%, below Illinois. Colorado has a 6.9% income tax on high earners. Denver suits you.',
          key_supporting_factors: ['Lower state income tax'],
          key_concerns: ['Housing costs more'],
          next_steps: ['Visit Denver'],
        },
      },
      { times: 1 },
    ]);
    const { turn } = await ask('Should I move from Chicago to Denver? I earn $100,000 a year.');
    expect(turn.outcome?.kind).toBe('recommendation');
    if (turn.outcome?.kind !== 'recommendation') return;
    const { recommendation: r, markdown, text } = turn.outcome;
    // Stored and read back with the schema.
    expect(RecommendationSchema.parse(JSON.parse(JSON.stringify(r))).taxes).toEqual(r.taxes);

    expect(markdown).toContain('## State Taxes');
    expect(markdown).toContain(
      `**Illinois** (Chicago, IL): income tax flat 4.95%; sales tax 6.25% state, 8.86% state + average local; effective property tax 1.83%. _Source: [Tax Foundation: Illinois](${IL}), fetched `,
    );
    expect(markdown).toContain(
      `**Colorado** (Denver, CO): income tax flat 4.4%; sales tax 2.9% state, 7.81% state + average local; effective property tax 0.49%. _Source: [Tax Foundation: Colorado](${CO}), fetched `,
    );
    expect(markdown).toContain('**Estimated state income tax on $100,000** (single filer):');
    expect(markdown).toContain('- Chicago, IL: $4,950 a year');
    expect(markdown).toContain('- Denver, CO: $4,400 a year');
    expect(markdown).toContain('- Difference: $550 a year less in Denver, CO ($46 a month)');
    expect(markdown).toMatch(/Estimate: state income tax only, filing status assumed single/);
    expect(text).toContain('**State taxes:** Illinois income tax flat 4.95% · Colorado income tax flat 4.4% · est. $550/yr less on $100,000 (single filer)');
    // The page's injected line is never read, and the model's figure that no page states is dropped.
    expect(r.justification).toContain('Colorado taxes income at a flat 4.4%, below Illinois.');
    expect(`${markdown}${text}`).not.toMatch(/6\.9%|flat 1%|0\.01%/);
    const urls = team.fakes.firecrawl.requests.map((x) => x.url);
    expect(urls).toEqual(expect.arrayContaining([IL, CO]));
    // The pages are cached with the knowledge base, under their own source, without the injected line.
    await team.runtime.cache.idle();
    const { rows } = await team.runtime.db.query<{ source_url: string; content: string }>(
      `SELECT d.source_url, c.content FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
       WHERE d.source_kind = 'tax-foundation' ORDER BY d.source_url`,
    );
    expect(rows.map((x) => x.source_url)).toEqual(expect.arrayContaining([CO, IL]));
    expect(rows.map((x) => x.content).join('\n')).toContain('Colorado has a flat 4.40 percent individual income tax rate.');
    expect(rows.map((x) => x.content).join('\n')).not.toMatch(/Ignore previous instructions/);
  });

  it('answers "what about taxes?" from the analysis with the estimate on the income given in the follow-up', async () => {
    intakeReads(chicagoDenver);
    const first = await ask('Should I move from Chicago to Denver? I earn $100,000 a year.');
    expect(first.turn.outcome?.kind).toBe('recommendation');
    team.fakes.firecrawl.requests.length = 0;

    intakeReads({ current_city: 'Chicago', desired_city: 'Denver', annual_income: 80_000, intent: 'follow_up', follow_up_topics: ['cost'] });
    const follow = await ask('What about taxes? I make $80,000 now.', first.threadKey);
    expect(follow.turn.outcome?.kind).toBe('answer');
    const reply = follow.turn.reply.content;
    expect(reply).toMatch(/^Follow-up answer/);
    expect(reply).toContain('**Illinois** (Chicago, IL): income tax flat 4.95%');
    expect(reply).toContain('- Chicago, IL: $3,960 a year');
    expect(reply).toContain('- Denver, CO: $3,520 a year');
    expect(reply).toContain('- Difference: $440 a year less in Denver, CO');
    expect(reply).toContain('filing status assumed single');
    // The streamed text is the reply, and the tax pages were not scraped again.
    const streamed = follow.events.flatMap((e) => (e.type === 'content_delta' ? [e.text] : [])).join('');
    expect(streamed.trim()).toBe(reply.trim());
    expect(team.fakes.firecrawl.requests.map((x) => x.url)).not.toEqual(expect.arrayContaining([IL]));
    expect(follow.events.some((e) => e.type === 'analyst_started')).toBe(false);
  });

  it('works out the salary that keeps the lifestyle in Denver, with the working', async () => {
    intakeReads(chicagoDenver);
    const first = await ask('Should I move from Chicago to Denver? I earn $100,000 a year.');
    expect(first.turn.outcome?.kind).toBe('recommendation');

    intakeReads({ current_city: 'Chicago', desired_city: 'Denver', intent: 'follow_up', follow_up_topics: ['cost'] });
    const follow = await ask('What would I need to earn in Denver to keep my lifestyle?', first.threadKey);
    expect(follow.turn.outcome?.kind).toBe('answer');
    const reply = follow.turn.reply.content;
    expect(reply).toContain('**What you would need to earn in Denver, CO** (estimate, with the working):');
    expect(reply).toContain('1. Cost of living: NerdWallet: "Living in Denver, CO is 6.4% more expensive than living in Chicago, IL." (×1.064).');
    expect(reply).toContain('NerdWallet alone: $100,000 × 1.064 = **$106,400**.');
    expect(reply).toContain('2. Illinois state income tax on $100,000: $4,950, so you keep $95,050.');
    expect(reply).toContain('3. The same lifestyle in Denver, CO costs $95,050 × 1.064 = $101,133 after state tax.');
    expect(reply).toMatch(/4\. Colorado state income tax on \$105,788 is \$4,655, leaving \$101,133: you would need about \*\*\$105,788\*\* a year\./);
    expect(reply).toContain('filing status assumed single');
  });
});
