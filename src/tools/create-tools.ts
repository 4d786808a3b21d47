import Firecrawl from '@mendable/firecrawl-js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { TeamTools } from '../team/analysts/analyst-context.js';
import { createBraveResearch } from './brave-research.js';
import { createBraveSearch } from './brave-search.js';
import { createCostOfLivingTool } from './cost-of-living.js';
import { createStateTaxTool } from './state-taxes.js';
import type { ToolCache } from './tool-cache.js';

/**
 * Builds the team's tools from config. A service without an API key is left out, and the analyst
 * that needs it reports its section unavailable instead of failing the whole answer.
 */
export function createTeamTools(config: Config, deps: { cache: ToolCache; clock: Clock; logger?: Logger }): TeamTools {
  const tools: TeamTools = {};
  if (config.firecrawl.apiKey) {
    // maxRetries 1 = no SDK retries: the queue's attempts already retry, and retries multiply.
    const firecrawl = new Firecrawl({ apiKey: config.firecrawl.apiKey, apiUrl: config.firecrawl.apiUrl, maxRetries: 1 });
    tools.costOfLiving = createCostOfLivingTool({ firecrawl, cache: deps.cache, clock: deps.clock, logger: deps.logger });
    tools.stateTaxes = createStateTaxTool({ firecrawl, cache: deps.cache, clock: deps.clock, logger: deps.logger });
  }
  if (config.brave.apiKey) {
    const search = createBraveSearch({
      apiKey: config.brave.apiKey,
      apiUrl: config.brave.apiUrl,
      minIntervalMs: config.brave.minIntervalMs,
      clock: deps.clock,
      logger: deps.logger,
    });
    // One engine for both, so a comparison's searches queue in the order that feeds the analysts first.
    const research = createBraveResearch({ search, cache: deps.cache, clock: deps.clock });
    tools.redditResearch = research.redditResearch;
    tools.cityResearch = research.cityResearch;
    tools.searchPlan = research.searchPlan;
  }
  return tools;
}
