import { unavailableReason } from '../../user-errors.js';
import { groundQuotes } from '../grounding.js';
import { PROMPTS } from '../prompts.js';
import { MigrationInsightsSchema } from '../schemas.js';
import type { MigrationSection, Section } from '../types.js';
import { untrusted } from '../untrusted.js';
import { type AnalystContext, describeUser, formatResults } from './analyst-context.js';

/** The 20 threads with their extra excerpts, whole: more text to quote word for word. */
const MAX_PROMPT_CHARS = 20_000;

export async function runMigrationResearcher(ctx: AnalystContext): Promise<Section<MigrationSection>> {
  const tool = ctx.tools.redditResearch;
  if (!tool) return { status: 'unavailable', reason: 'Reddit research is not configured (BRAVE_API_KEY is not set)' };
  // Reddit's query goes first: this analyst's model call can start after the first Brave slot.
  ctx.tools.searchPlan?.start(ctx.from.display, ctx.to.display);
  let research: Awaited<ReturnType<typeof tool.research>>;
  try {
    research = await tool.research(ctx.from.display, ctx.to.display);
  } catch (err) {
    return { status: 'unavailable', reason: unavailableReason('Reddit search failed', err) };
  }
  const results = research.results;
  if (results.length === 0) {
    return {
      status: 'ok',
      data: {
        insights: {
          ...MigrationInsightsSchema.parse({}),
          summary: `No Reddit discussions about moving from ${ctx.from.display} to ${ctx.to.display} were found.`,
          number_of_sources: 0,
          reddit_insights_included: false,
        },
        sources: [],
      },
    };
  }
  const { value } = await ctx.llm.structured({
    label: 'migration-researcher',
    model: ctx.models['migration-researcher'],
    meter: ctx.meter,
    signal: ctx.signal,
    schema: MigrationInsightsSchema,
    schemaName: 'MigrationInsights',
    messages: [
      { role: 'system', content: PROMPTS.migrationResearcher },
      {
        role: 'user',
        content: [
          describeUser(ctx),
          research.stoppedEarly ? 'Note: the search stopped early (rate limited); results may be partial.' : '',
          untrusted('reddit-via-brave-search', formatResults(results), MAX_PROMPT_CHARS),
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ],
  });
  return {
    status: 'ok',
    data: {
      insights: {
        ...value,
        featured_quotes: groundQuotes(value.featured_quotes, results),
        number_of_sources: results.length,
        reddit_insights_included: true,
      },
      sources: results.map((r) => ({ title: r.title, url: r.url })),
    },
  };
}
