import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import type { RunEvent } from '../src/ports/run-events.js';
import { createTeam } from '../src/team/coordinator.js';
import type { Recommendation } from '../src/team/types.js';
import { createCityResolver } from '../src/tools/city-resolver.js';
import { createTeamTools } from '../src/tools/create-tools.js';
import { createMemoryCache } from '../src/tools/tool-cache.js';
import { type BraveFake, createBraveFake, defaultBraveResults } from './fakes/brave-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { useTeamRuntime } from './helpers/team-runtime.js';

const team = useTeamRuntime();
const isReddit = (q: string) => q.startsWith('site:reddit.com');

/** Quotes, with links to the threads they stand in, and the sources of both search-fed sections. */
function expectQuotesAndSources(r: Recommendation, markdown?: string) {
  expect(r.migration.status).toBe('ok');
  expect(r.sentiment.status).toBe('ok');
  if (r.migration.status !== 'ok' || r.sentiment.status !== 'ok') return;
  const threads = r.migration.data.sources.map((s) => s.url);
  expect(threads).toHaveLength(20);
  expect(r.migration.data.insights.number_of_sources).toBe(20);
  expect(r.quotes.length).toBeGreaterThan(0);
  for (const q of r.quotes) expect(threads).toContain(q.url);
  // The Sentiment Analyst read the city's pages and the movers' threads.
  const sentimentSources = r.sentiment.data.sources.map((s) => s.url);
  expect(sentimentSources).toHaveLength(5);
  expect(sentimentSources.some((u) => u.includes('reddit.com'))).toBe(true);
  expect(sentimentSources.some((u) => !u.includes('reddit.com'))).toBe(true);
  if (markdown) {
    expect(markdown).toMatch(/> ".+"\n> — \[Source\]\(https:\/\/www\.reddit\.com\/.+\)/);
    expect(markdown).toContain('**Sources analysed:** 20 Reddit discussions');
    expect(markdown).toMatch(/## Sentiment & Lifestyle Analysis Report[\s\S]*\*Sources: .*reddit\.com/);
  }
}

describe('Brave requests of a cold analysis', () => {
  it('makes at most three (here two: Reddit first, then the city), with quotes and sources still in the report', async () => {
    const events: RunEvent[] = [];
    const turn = await team.runtime.conversation.handle(
      { platform: 'cli', workspace: 'local', threadKey: 'cli:slots:1', user: { platformUserId: 'u1' }, text: 'Should I move from Seattle to Austin?' },
      { emit: (e) => events.push(e) },
    );
    if (turn.outcome?.kind !== 'recommendation') throw new Error(`expected a recommendation, got ${turn.reply.content}`);

    const queries = team.fakes.brave.requests.map((r) => r.q);
    expect(queries.length).toBeLessThanOrEqual(3);
    expect(queries).toHaveLength(2);
    expect(isReddit(queries[0]!)).toBe(true);
    expect(queries[0]).toContain('"moved to Austin"');
    expect(isReddit(queries[1]!)).toBe(false);
    expect(team.fakes.brave.requests.every((r) => r.count === 20 && r.status === 200)).toBe(true);
    expectQuotesAndSources(turn.outcome.recommendation, turn.outcome.markdown);

    // The Reddit search is announced once, though both analysts read it.
    const completed = events.flatMap((e) => (e.type === 'tool_call_completed' ? [e.tool] : []));
    expect(completed.filter((t) => t === 'search_reddit_migration')).toHaveLength(1);
    expect(completed.filter((t) => t === 'search_city_sentiment')).toHaveLength(1);
  });

  describe("on Brave's free plan (one request per interval, scaled down to 200 ms)", () => {
    let spaced: BraveFake;
    beforeAll(async () => {
      spaced = await createBraveFake({ minIntervalMs: 200 });
    });
    afterAll(async () => {
      await spaced.close();
    });

    function spacedTeam() {
      const config = loadConfig('cli', {
        ...team.fakes.env,
        BRAVE_API_URL: spaced.apiUrl,
        BRAVE_MIN_INTERVAL_MS: '200',
        DATABASE_URL: team.db.url!,
      });
      // A fresh in-memory cache: every run here is cold.
      const tools = createTeamTools(config, { cache: createMemoryCache(systemClock), clock: systemClock, logger: silentLogger });
      return createTeam({ llm: team.runtime.llm, tools, clock: systemClock, resolver: createCityResolver() });
    }

    it('draws no 429, answers all three sections, and starts the Migration Researcher before the city search is done', async () => {
      spaced.reset();
      // The city query is held until the Migration Researcher's model call has arrived: a researcher that
      // waited for every search would never get there (the hold gives up after 5 s and the test fails).
      let researcherFirst = false;
      spaced.setResults(async (q) => {
        if (!isReddit(q)) {
          researcherFirst = await waitFor(
            () => team.fakes.openai.chatRequests.some((r) => r.system.startsWith('You are the Migration Researcher')),
            { what: "the Migration Researcher's model call" },
          ).catch(() => false);
        }
        return defaultBraveResults(q);
      });
      const { outcome } = await spacedTeam().run({
        message: 'Should I move from Seattle to Austin?',
        history: [],
        state: {},
        userId: 'free-plan',
        memories: [],
      });
      if (outcome.kind !== 'recommendation') throw new Error('expected a recommendation');

      expect(spaced.requests.map((r) => r.status)).toEqual([200, 200]);
      expect(isReddit(spaced.requests[0]!.q)).toBe(true);
      expect(researcherFirst).toBe(true);
      expect(outcome.recommendation.cost.status).toBe('ok');
      expectQuotesAndSources(outcome.recommendation);
    });

    it('stays within three requests, and without a 429, when the Reddit phrases find few threads', async () => {
      spaced.reset();
      spaced.setResults((q) =>
        isReddit(q) && q.includes('"moved to Denver"')
          ? [{ title: 'Chicago to Denver?', url: 'https://www.reddit.com/r/Denver/comments/few1/c2d/', description: 'We moved last spring and love the sun.' }]
          : defaultBraveResults(q),
      );
      const { outcome } = await spacedTeam().run({
        message: 'Should I move from Chicago to Denver?',
        history: [],
        state: {},
        userId: 'free-plan',
        memories: [],
      });
      if (outcome.kind !== 'recommendation') throw new Error('expected a recommendation');
      const queries = spaced.requests.map((r) => r.q);
      expect(queries).toHaveLength(3);
      expect(queries.map(isReddit)).toEqual([true, false, true]);
      expect(spaced.requests.every((r) => r.status === 200)).toBe(true);
      for (const section of [outcome.recommendation.cost, outcome.recommendation.sentiment, outcome.recommendation.migration]) {
        expect(section.status).toBe('ok');
      }
      expect(outcome.recommendation.quotes.length).toBeGreaterThan(0);
    });
  });
});
