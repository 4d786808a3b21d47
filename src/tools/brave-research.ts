import { type CityResearch, cityResearchSpec, createCityResearch } from './city-research.js';
import {
  createRedditResearch,
  createResearchRunner,
  type RedditResearch,
  type ResearchDeps,
  redditMigrationSpec,
} from './reddit-research.js';

export interface BraveResearch {
  redditResearch: { research(fromCity: string, toCity: string): Promise<RedditResearch> };
  cityResearch: { research(city: string): Promise<CityResearch> };
  /** Starts both researches of one comparison, Reddit's query first; the two tools then join those runs. */
  searchPlan: { start(fromCity: string, toCity: string): void };
}

/**
 * The team's Brave research for one comparison, planned for Brave's free plan (one request a second,
 * BRAVE_MIN_INTERVAL_MS=1000). A cold analysis makes two requests, three at most:
 *   1. Reddit, every phrasing of the move in one query with operators: all of the Migration
 *      Researcher's data, and movers' first-hand views for the Sentiment Analyst (shared, not asked again);
 *   2. the destination's culture and livability: the rest of the Sentiment Analyst's data;
 *   3. only when (1) found few threads, a looser Reddit query.
 * `searchPlan.start` queues (1) before (2) whatever order the cache reads finish in, so the Migration
 * Researcher's model call can start after the first slot and the Sentiment Analyst's after the second.
 * With no interval (a paid plan) the two run side by side.
 */
export function createBraveResearch(deps: ResearchDeps): BraveResearch {
  const runner = createResearchRunner(deps);
  return {
    redditResearch: createRedditResearch(deps, runner),
    cityResearch: createCityResearch(deps, runner),
    searchPlan: {
      start(fromCity, toCity) {
        try {
          const runs = runner.runInOrder([redditMigrationSpec(fromCity, toCity), cityResearchSpec(toCity)]);
          // The analysts join these runs through the tools and see their failures there.
          for (const run of runs) run.catch(() => undefined);
        } catch {
          // A city the tools reject is reported by the tools themselves.
        }
      },
    },
  };
}
