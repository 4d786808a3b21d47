import { describeError } from '../errors.js';
import type { LlmClient, UsageMeter } from '../llm/llm-client.js';
import type { CityResolver } from '../tools/city-resolver.js';
import { STATES } from '../tools/us-states.js';
import { formatResults, observedTools, type TeamTools } from './analysts/analyst-context.js';
import type { HistoryMessage } from './intake.js';
import { createGrounder, figureSource } from './grounding.js';
import { createLinkPolicy } from './links.js';
import { PROMPTS } from './prompts.js';
import { renderSharedSummary, renderSummary } from './report.js';
import type { Intake } from './schemas.js';
import type { Recommendation, RecalledMemory, TeamEventListener } from './types.js';
import { taxFollowUp } from './tax-follow-up.js';
import { taxUrls } from './taxes.js';
import { untrusted } from './untrusted.js';

/** Public knowledge retrieved by similarity (issue: knowledge base); optional. */
/** Similar chunks of the shared knowledge base; `about` keeps tool results to those cities' (see KnowledgeRepository.search). */
export type KnowledgeLookup = (query: string, options?: { about?: string[] }) => Promise<{ content: string; url: string }[]>;

/**
 * Answers a question about an analysis already given. Only the data the question needs is fetched
 * again, and the tools' caches make that free within their TTL ("what about taxes?" → cost figures).
 */
export async function answerFollowUp(args: {
  llm: LlmClient;
  meter: UsageMeter;
  model?: string;
  signal?: AbortSignal;
  emit: TeamEventListener;
  tools: TeamTools;
  resolver: CityResolver;
  knowledge?: KnowledgeLookup;
  intake: Intake;
  /** The asker's annual income as known now (message, profile, memories): tax estimates use it. */
  income?: number | null;
  last: Recommendation;
  /** False when `last` was made for someone else in the thread: then only its sourced parts are used. */
  lastIsTheirs: boolean;
  message: string;
  history: HistoryMessage[];
  memories: RecalledMemory[];
}): Promise<string> {
  const { last } = args;
  const tools = observedTools(args.tools, args.emit);
  const topics = new Set(args.intake.follow_up_topics);
  const data: string[] = [];
  // The pages this answer may link to: the earlier analysis' sources and what was fetched now (links.ts).
  const fetched: string[] = sourcesOf(last);

  if (topics.has('cost') && tools.costOfLiving && last.from.slug && last.to.slug) {
    const from = args.resolver.resolve(last.from.display);
    const to = args.resolver.resolve(last.to.display);
    if (from.kind === 'found' && to.kind === 'found') {
      try {
        const c = await tools.costOfLiving.compare(from.city, to.city);
        data.push(untrusted(c.url, c.excerpt, 8_000));
        fetched.push(c.url);
      } catch (err) {
        data.push(`(Cost data could not be fetched again: ${describeError(err)})`);
      }
    }
  }
  if (topics.has('migration') && tools.redditResearch) {
    try {
      const r = await tools.redditResearch.research(last.from.display, last.to.display);
      data.push(untrusted('reddit-via-brave-search', formatResults(r.results), 8_000));
      fetched.push(...r.results.map((x) => x.url));
    } catch (err) {
      data.push(`(Reddit results could not be fetched again: ${describeError(err)})`);
    }
  }
  if (topics.has('sentiment') && tools.cityResearch) {
    try {
      const r = await tools.cityResearch.research(last.to.display);
      data.push(untrusted('brave-search', formatResults(r.results), 6_000));
      fetched.push(...r.results.map((x) => x.url));
    } catch (err) {
      data.push(`(City research could not be fetched again: ${describeError(err)})`);
    }
  }
  // Taxes and the equivalent salary are computed by code and shown as they are (tax-follow-up.ts).
  const computed = await taxFollowUp({ message: args.message, last, tool: args.tools.stateTaxes, income: args.income ?? null });
  if (computed) {
    data.push(`Computed by movebot from the cited pages (restate, do not recompute; it is shown to the user after your answer):\n${computed.text}`);
    fetched.push(...computed.urls);
  }
  if (args.knowledge) {
    // Shared by every thread: here "what did people say about traffic?" means this thread's cities.
    // The state names let the Tax Foundation pages of the two states count too.
    const about = [last.from, last.to].flatMap((c) => [c.name, c.slug ?? '', (c.state && STATES[c.state]) || '']).filter(Boolean);
    const hits = await args.knowledge(args.message, { about }).catch(() => []);
    if (hits.length) data.push(untrusted('knowledge-base', hits.map((h) => `${h.url}\n${h.content}`).join('\n\n'), 6_000));
    fetched.push(...hits.map((h) => h.url));
  }

  const transcript = args.history
    .slice(-10)
    .map((m) => `${m.role === 'user' ? 'User' : 'movebot'}: ${m.content.slice(0, 1_200)}`)
    .join('\n');
  const earlier = args.lastIsTheirs ? renderSummary(last) : renderSharedSummary(last);
  const prompt = [
    `Earlier analysis (${last.from.display} → ${last.to.display}):\n${earlier}`,
    args.memories.length ? `Remembered about this user:\n${args.memories.map((m) => `- ${m.content}`).join('\n')}` : '',
    transcript ? `Conversation so far:\n${transcript}` : '',
    ...data,
    `Question: ${args.message}`,
  ]
    .filter(Boolean)
    .join('\n\n');

  // Figures in the answer must stand in what the model was given or in the analysis' sourced parts;
  // the stream is grounded sentence by sentence, so a dropped figure is never shown even briefly.
  const grounder = createGrounder(figureSource(`${prompt}\n${sourcedText(last)}`));
  const links = createLinkPolicy(fetched);
  let shown = '';
  const show = (grounded: string) => {
    if (!grounded) return;
    const text = links(grounded);
    shown += text;
    args.emit({ type: 'content_delta', text });
  };
  await args.llm.stream(
    {
      label: 'coordinator-follow-up',
      model: args.model,
      meter: args.meter,
      signal: args.signal,
      messages: [
        { role: 'system', content: PROMPTS.followUp },
        { role: 'user', content: prompt },
      ],
    },
    (delta) => show(grounder.push(delta)),
  );
  show(grounder.end());
  if (computed) {
    const tail = `${shown.trim() ? '\n\n' : ''}${computed.text}`;
    shown += tail;
    args.emit({ type: 'content_delta', text: tail });
  }
  return shown.trim();
}

/** The pages an earlier analysis read: its NerdWallet page, search results and Reddit threads. */
function sourcesOf(r: Recommendation): string[] {
  return [
    ...(r.cost.status === 'ok' ? [r.cost.data.sourceUrl] : []),
    ...(r.sentiment.status === 'ok' ? r.sentiment.data.sources.map((s) => s.url) : []),
    ...(r.migration.status === 'ok' ? r.migration.data.sources.map((s) => s.url) : []),
    ...r.quotes.map((q) => q.url),
    ...taxUrls(r.taxes),
  ];
}

/** What an analysis took from its sources: the page's figures and the Cost Analyst's grounded prose. */
function sourcedText(r: Recommendation): string {
  if (r.cost.status !== 'ok') return '';
  return [JSON.stringify(r.cost.data.analysis), ...r.cost.data.figures.map((f) => `${f.value} ${f.evidence}`)].join('\n');
}
