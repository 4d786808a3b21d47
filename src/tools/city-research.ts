import {
  cityKey,
  cleanCity,
  createResearchRunner,
  type ResearchDeps,
  type ResearchRun,
  type ResearchRunner,
  type ResearchSpec,
} from './reddit-research.js';

export type CityResearch = ResearchRun;

/**
 * What the web says about living in one city (culture, vibe, livability, pros and cons): one request,
 * 20 results with Brave's extra excerpts. Residents' Reddit threads reach the Sentiment Analyst through
 * the Reddit migration research, which it shares (brave-research.ts).
 */
export function cityResearchSpec(city: string): ResearchSpec {
  const name = cleanCity(city);
  return {
    cacheKey: `city-research:v2:${cityKey(name)}`,
    queries: [`living in ${name} culture vibe livability pros and cons`],
    count: 20,
    extraSnippets: true,
  };
}

/**
 * The Sentiment Analyst's tool: what the web and residents say about living in one city. Same cache,
 * throttle, de-duplication and 429 handling as Reddit research.
 */
export function createCityResearch(
  deps: ResearchDeps,
  runner: ResearchRunner = createResearchRunner(deps),
): { research(city: string): Promise<CityResearch> } {
  return {
    async research(city) {
      return runner.run(cityResearchSpec(city));
    },
  };
}
