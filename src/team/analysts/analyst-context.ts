import { formatNumber } from '../../util/format.js';
import type { LlmClient, UsageMeter } from '../../llm/llm-client.js';
import type { CostComparison } from '../../tools/cost-of-living.js';
import type { NerdWalletCity } from '../../tools/city-resolver.js';
import type { SearchResult } from '../../tools/brave-search.js';
import type { StateTaxTool } from '../../tools/state-taxes.js';
import type { UserProfile } from '../schemas.js';
import type { AnalystId, CityRef, RecalledMemory, TeamEventListener } from '../types.js';
import { describeError } from '../../errors.js';

/** The tools the team reaches. A missing one (no API key configured) makes its section unavailable. */
export interface TeamTools {
  costOfLiving?: { compare(from: NerdWalletCity, to: NerdWalletCity): Promise<CostComparison> };
  redditResearch?: {
    research(from: string, to: string): Promise<{ results: SearchResult[]; stoppedEarly?: string; cached: boolean }>;
  };
  cityResearch?: { research(city: string): Promise<{ results: SearchResult[]; cached: boolean }> };
  /**
   * Starts the Brave researches of one comparison together, Reddit's query first (Brave's free plan serves
   * one request a second: the order decides whose data comes first); the two tools above then join those
   * runs. Optional: without it each tool searches when asked.
   */
  searchPlan?: { start(from: string, to: string): void };
  /** Tax Foundation's state pages (src/tools/state-taxes.ts), read by the coordinator, not an analyst. */
  stateTaxes?: StateTaxTool;
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
 * The tools as one run sees them: every call is announced (`tool_call_started`/`_completed`, with the
 * sources it read, so surfaces can show them) and every result is added to `evidence`, which the team's
 * prose is later checked against: a figure it states must stand in something a tool returned.
 * The Reddit research is shared within the run: the Sentiment Analyst reads the Migration Researcher's
 * threads too, as one call, announced once. The search plan starts once per pair.
 */
export function observedTools(tools: TeamTools, emit: TeamEventListener, evidence: string[] = []): TeamTools {
  const { costOfLiving, redditResearch, cityResearch, searchPlan } = tools;
  let calls = 0;
  const redditRuns = new Map<string, ReturnType<NonNullable<TeamTools['redditResearch']>['research']>>();
  const planned = new Set<string>();
  async function observe<R>(
    analyst: AnalystId,
    tool: string,
    args: string,
    call: () => Promise<R>,
    describe: (result: R) => { summary: string; sources: string[]; cached: boolean; evidence: string },
  ): Promise<R> {
    const callId = `${analyst}-${++calls}`;
    emit({ type: 'tool_call_started', callId, analyst, tool, args });
    try {
      const result = await call();
      const { evidence: text, ...done } = describe(result);
      evidence.push(text);
      emit({ type: 'tool_call_completed', callId, analyst, tool, args, ok: true, ...done });
      return result;
    } catch (err) {
      emit({ type: 'tool_call_completed', callId, analyst, tool, args, ok: false, cached: false, summary: describeError(err), sources: [] });
      throw err;
    }
  }
  const searched = (r: { results: SearchResult[]; cached: boolean }, what: string) => ({
    summary: `${r.results.length} ${what}`,
    sources: r.results.map((x) => x.url),
    cached: r.cached,
    evidence: formatResults(r.results),
  });
  return {
    costOfLiving: costOfLiving && {
      compare: (from, to) =>
        observe('cost-analyst', 'get_cost_of_living_comparison', `${from.url_format}-vs-${to.url_format}`, () => costOfLiving.compare(from, to), (c) => ({
          summary: costSummary(c),
          sources: [c.url],
          cached: c.cached,
          evidence: `${c.excerpt}\n${JSON.stringify(c.figures)}`,
        })),
    },
    redditResearch: redditResearch && {
      research: (from, to) => {
        const key = `${from}\u0000${to}`;
        let run = redditRuns.get(key);
        if (!run) {
          run = observe('migration-researcher', 'search_reddit_migration', `${from} → ${to}`, () => redditResearch.research(from, to), (r) =>
            searched(r, 'Reddit threads'),
          );
          redditRuns.set(key, run);
        }
        return run;
      },
    },
    cityResearch: cityResearch && {
      research: (city) =>
        observe('sentiment-analyst', 'search_city_sentiment', city, () => cityResearch.research(city), (r) => searched(r, 'results')),
    },
    searchPlan: searchPlan && {
      start: (from, to) => {
        const key = `${from}\u0000${to}`;
        if (planned.has(key)) return;
        planned.add(key);
        searchPlan.start(from, to);
      },
    },
  };
}

function costSummary(c: CostComparison): string {
  const o = c.figures.overall;
  if (!o) return 'NerdWallet comparison';
  return o.direction === 'same' ? 'NerdWallet: about the same overall' : `NerdWallet: ${o.percent}% ${o.direction} overall`;
}
