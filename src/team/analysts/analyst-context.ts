import { formatNumber } from '../../util/format.js';
import type { LlmClient, UsageMeter } from '../../llm/llm-client.js';
import type { CostComparison } from '../../tools/cost-of-living.js';
import type { NerdWalletCity } from '../../tools/city-resolver.js';
import type { SearchResult } from '../../tools/brave-search.js';
import type { UserProfile } from '../schemas.js';
import type { AnalystId, CityRef, RecalledMemory, TeamEventListener } from '../types.js';

/** The tools the team reaches. A missing one (no API key configured) makes its section unavailable. */
export interface TeamTools {
  costOfLiving?: { compare(from: NerdWalletCity, to: NerdWalletCity): Promise<CostComparison> };
  redditResearch?: {
    research(from: string, to: string): Promise<{ results: SearchResult[]; stoppedEarly?: string; cached: boolean }>;
  };
  cityResearch?: { research(city: string): Promise<{ results: SearchResult[]; cached: boolean }> };
}

/** Models per agent; each defaults to OPENAI_MODEL. */
export type AgentModels = Partial<Record<AnalystId | 'coordinator', string>>;

/** Everything one analyst needs for one run. */
export interface AnalystContext {
  llm: LlmClient;
  meter: UsageMeter;
  signal: AbortSignal;
  emit: TeamEventListener;
  tools: TeamTools;
  models: AgentModels;
  from: CityRef;
  to: CityRef;
  /** NerdWallet entries when both cities are listed; cost data needs them. */
  fromListed?: NerdWalletCity;
  toListed?: NerdWalletCity;
  /** Why a city has no NerdWallet entry, for the cost section. */
  unlistedReason?: string;
  profile: UserProfile;
  memories: RecalledMemory[];
}

/** The user's situation as a short block every analyst prompt includes. */
export function describeUser(ctx: Pick<AnalystContext, 'from' | 'to' | 'profile' | 'memories'>): string {
  const p = ctx.profile;
  const lines = [
    `Moving from: ${ctx.from.display}`,
    `Moving to: ${ctx.to.display}`,
    p.annual_income != null ? `Annual income: $${formatNumber(p.annual_income)}` : undefined,
    p.monthly_expenses != null ? `Monthly expenses: $${formatNumber(p.monthly_expenses)}` : undefined,
    p.city_preferences.length ? `Wants in a city: ${p.city_preferences.join('; ')}` : undefined,
    p.current_city_likes.length ? `Likes about current city: ${p.current_city_likes.join('; ')}` : undefined,
    p.current_city_dislikes.length ? `Dislikes about current city: ${p.current_city_dislikes.join('; ')}` : undefined,
    ctx.memories.length
      ? `Remembered about this user:\n${ctx.memories.map((m, i) => `  [${i + 1}] ${m.content}`).join('\n')}`
      : undefined,
  ];
  return lines.filter(Boolean).join('\n');
}

export function formatResults(results: SearchResult[]): string {
  return results.map((r, i) => `[${i + 1}] ${r.title}\nURL: ${r.url}\n${r.snippet}`).join('\n\n');
}

/**
 * The tools with every result also added to `evidence`: what the team's prose is later checked
 * against, so a figure it states must stand in something a tool returned.
 */
export function recordingTools(tools: TeamTools, evidence: string[]): TeamTools {
  const { costOfLiving, redditResearch, cityResearch } = tools;
  const kept = <R>(result: R, text: string): R => {
    evidence.push(text);
    return result;
  };
  return {
    costOfLiving: costOfLiving && {
      compare: async (from, to) => {
        const c = await costOfLiving.compare(from, to);
        return kept(c, `${c.excerpt}\n${JSON.stringify(c.figures)}`);
      },
    },
    redditResearch: redditResearch && {
      research: async (from, to) => {
        const r = await redditResearch.research(from, to);
        return kept(r, formatResults(r.results));
      },
    },
    cityResearch: cityResearch && {
      research: async (city) => {
        const r = await cityResearch.research(city);
        return kept(r, formatResults(r.results));
      },
    },
  };
}
