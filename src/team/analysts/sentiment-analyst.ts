import type { SearchResult } from '../../tools/brave-search.js';
import { PROMPTS } from '../prompts.js';
import { SentimentAnalysisSchema } from '../schemas.js';
import type { Section, SentimentSection } from '../types.js';
import { untrusted } from '../untrusted.js';
import { type AnalystContext, describeUser, formatResults } from './analyst-context.js';

export async function runSentimentAnalyst(ctx: AnalystContext): Promise<Section<SentimentSection>> {
  let results: SearchResult[] = [];
  let note = '';
  if (ctx.tools.cityResearch) {
    try {
      const research = await ctx.tools.cityResearch.research(ctx.to.display);
      results = research.results;
    } catch {
      // Sentiment can still be judged from general knowledge; the prompt says the search failed.
      note = 'The web search for residents\u2019 views failed; rely on general knowledge and say so.';
    }
  } else {
    note = 'No web search is configured; rely on general knowledge and say so.';
  }
  const { value } = await ctx.llm.structured({
    label: 'sentiment-analyst',
    model: ctx.models['sentiment-analyst'],
    meter: ctx.meter,
    signal: ctx.signal,
    schema: SentimentAnalysisSchema,
    schemaName: 'SentimentAnalysis',
    messages: [
      { role: 'system', content: PROMPTS.sentimentAnalyst },
      {
        role: 'user',
        content: [
          describeUser(ctx),
          note,
          results.length ? untrusted('brave-search', formatResults(results)) : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ],
  });
  return {
    status: 'ok',
    data: { analysis: value, sources: results.slice(0, 5).map((r) => ({ title: r.title, url: r.url })) },
  };
}
