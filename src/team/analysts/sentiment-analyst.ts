import type { SearchResult } from '../../tools/brave-search.js';
import { normaliseResultUrl } from '../../tools/reddit-research.js';
import { PROMPTS } from '../prompts.js';
import { SentimentAnalysisSchema } from '../schemas.js';
import type { Section, SentimentSection } from '../types.js';
import { untrusted } from '../untrusted.js';
import { type AnalystContext, describeUser, formatResults } from './analyst-context.js';

/** Results shown to the model: the city's pages and the movers' threads, best-ranked of each first. */
const MAX_RESULTS = 20;
const MAX_PROMPT_CHARS = 16_000;

export async function runSentimentAnalyst(ctx: AnalystContext): Promise<Section<SentimentSection>> {
  const { cityResearch, redditResearch, searchPlan } = ctx.tools;
  // Reddit's query first, then the city's: this analyst's data is in after the second Brave slot.
  searchPlan?.start(ctx.from.display, ctx.to.display);
  let pages: SearchResult[] = [];
  let cityFailed = false;
  if (cityResearch) {
    try {
      pages = (await cityResearch.research(ctx.to.display)).results;
    } catch {
      cityFailed = true;
    }
  }
  // People who made this very move, on living there: the Migration Researcher's run, joined (no request
  // of our own). Asked after the city's results, by when it is usually in.
  let threads: SearchResult[] = [];
  if (redditResearch) {
    try {
      threads = (await redditResearch.research(ctx.from.display, ctx.to.display)).results;
    } catch {
      // Its own section reports the failure; the city's pages are enough here.
    }
  }
  const results = interleave(pages, threads, MAX_RESULTS);
  let note = '';
  if (!cityResearch && !redditResearch) note = 'No web search is configured; rely on general knowledge and say so.';
  else if (results.length === 0 && (cityFailed || !cityResearch)) {
    // Sentiment can still be judged from general knowledge; the prompt says the search failed.
    note = 'The web search for residents\u2019 views failed; rely on general knowledge and say so.';
  } else if (cityFailed || !cityResearch) {
    note = 'The web search about the city failed; only Reddit threads about moving there are given. Say where you rely on general knowledge.';
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
          results.length ? untrusted('brave-search', formatResults(results), MAX_PROMPT_CHARS) : '',
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

/** Round-robin by rank, each page once (a thread can be in both lists), at most `max`. */
function interleave(first: SearchResult[], second: SearchResult[], max: number): SearchResult[] {
  const seen = new Set<string>();
  const merged: SearchResult[] = [];
  for (let rank = 0; rank < Math.max(first.length, second.length) && merged.length < max; rank++) {
    for (const result of [first[rank], second[rank]]) {
      if (!result || merged.length >= max) continue;
      const key = normaliseResultUrl(result.url) ?? result.url;
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(result);
    }
  }
  return merged;
}
