import {
  cityKey,
  cleanCity,
  createResearchRunner,
  type ResearchDeps,
  type ResearchRun,
} from './reddit-research.js';

export type CityResearch = ResearchRun;

/**
 * The Sentiment Analyst's tool: what the web and residents say about living in one city (culture,
 * livability, pros and cons). Same cache, throttle, de-duplication and 429 handling as Reddit research.
 */
export function createCityResearch(deps: ResearchDeps): { research(city: string): Promise<CityResearch> } {
  const runResearch = createResearchRunner(deps);
  return {
    async research(city) {
      const name = cleanCity(city);
      return runResearch({
        cacheKey: `city-research:v1:${cityKey(name)}`,
        queries: [
          `${name} living there culture livability pros cons`,
          `site:reddit.com living in ${name} what is it like`,
        ],
      });
    },
  };
}
