import type { ChatRequest, OpenAIFake } from '../fakes/openai-fake.js';
import { messageText } from '../fakes/openai-fake.js';

/**
 * A scripted "model" for the whole team: each agent is recognised by its system prompt and answers
 * valid JSON for its schema, built from what it was actually sent (so quotes really come from the
 * search results, and follow-ups mention the data they got). Tests override single agents with
 * `fake.route(...)` before calling this, since earlier routes win.
 */
export function scriptTeam(fake: OpenAIFake): void {
  fake.route({ system: 'intake step' }, (req) => ({ json: intake(lastUser(req)) }));
  fake.route({ system: 'You are the Cost Analyst' }, () => ({
    json: {
      overall_cost_difference: 'Living costs are clearly lower at the destination overall.',
      housing_comparison: 'Housing is the biggest saving.',
      food_comparison: 'Groceries cost somewhat less.',
      transportation_comparison: 'Expect to drive more.',
      taxes_comparison: 'Texas has no state income tax (general knowledge).',
      key_insights: ['Rent is the main driver of the difference.', 'Budget for a car.'],
    },
  }));
  fake.route({ system: 'You are the Sentiment Analyst' }, () => ({
    json: {
      overall_sentiment: 'Positive: a lively, fast-growing city.',
      vibe_description: 'Live music, food trucks and a young crowd.',
      livability_score: 7.5,
      alignment_with_preferences: 'Good fit for someone who wants sunshine and live music.',
      notable_pros: ['Music scene', 'Job market'],
      notable_cons: ['Summer heat', 'Traffic'],
    },
  }));
  fake.route({ system: 'You are the Migration Researcher' }, (req) => ({ json: migration(lastUser(req)) }));
  fake.route({ system: 'Combine the analysts' }, (req) => ({
    json: {
      recommendation: 'move',
      confidence_level: 'Medium',
      key_supporting_factors: ['Lower housing costs', 'Strong job market'],
      key_concerns: ['Summer heat'],
      detailed_justification: 'The cost savings and the music scene match what you asked for.',
      next_steps: ['Visit in August', 'Compare rents in two neighbourhoods', 'Talk to your employer about remote work'],
      memories_used: lastUser(req).includes('Remembered facts about the user') ? [1] : [],
    },
  }));
  fake.route({ system: 'ranking several destinations' }, (req) => ({ json: ranking(lastUser(req)) }));
  fake.route({ system: 'answering a follow-up question' }, (req) => ({
    content: `Follow-up answer based on the earlier analysis. ${lastUser(req).includes('untrusted_data') ? 'Fresh data was consulted.' : ''}`.trim(),
  }));
  fake.route({ system: 'memory keeper' }, (req) => ({ json: { facts: memoryFacts(lastUser(req)) } }));
  // Anything else gets an empty object, which every schema with defaults accepts.
  fake.setResponder({ json: {} });
}

/** A memory keeper that notices a few phrasings, the way a model would (only in the user's message). */
function memoryFacts(prompt: string) {
  const message = prompt.slice(prompt.indexOf('<untrusted_data'));
  const existing = [...prompt.matchAll(/^\[(\d+)\] (.+)$/gm)].map((m) => ({ n: Number(m[1]), text: m[2]! }));
  const facts: { content: string; topic: string; replaces: number | null }[] = [];
  if (/walkab/i.test(message)) facts.push({ content: 'You prefer walkable neighbourhoods', topic: 'preference', replaces: null });
  const lives = /I live in ([A-Z][a-z]+)/.exec(message);
  if (lives) {
    const old = existing.find((e) => e.text.startsWith('You live in'));
    facts.push({ content: `You live in ${lives[1]}`, topic: 'location', replaces: old?.n ?? null });
  }
  if (/\bdog\b/i.test(message)) facts.push({ content: 'You have a dog', topic: 'household', replaces: null });
  return facts;
}

function lastUser(req: ChatRequest): string {
  const users = req.messages.filter((m) => m.role === 'user');
  return messageText(users[users.length - 1]?.content);
}

function intake(prompt: string) {
  const newest = prompt.split('Newest message from the user:\n')[1] ?? prompt;
  const compare = /\b(move|moving|relocat|compare)\b/i.test(newest);
  const topics: string[] = [];
  if (/tax|cost|rent|price|salary|expensive/i.test(newest)) topics.push('cost');
  if (/people|reddit|said|say|regret/i.test(newest)) topics.push('migration');
  if (/vibe|weather|culture|safe/i.test(newest)) topics.push('sentiment');
  return {
    current_city: null,
    desired_city: null,
    city_preferences: /walkab/i.test(newest) ? ['walkable neighbourhoods'] : [],
    intent: compare ? 'compare' : 'follow_up',
    follow_up_topics: topics.length ? topics : ['general'],
  };
}

/** Quotes copied verbatim from the first results the researcher was shown. */
function migration(prompt: string) {
  const quotes: { quote: string; url: string }[] = [];
  const blocks = prompt.split(/\n\n(?=\[\d+\] )/);
  for (const block of blocks) {
    const url = /URL: (\S+)/.exec(block)?.[1];
    const snippet = block.split('\n').slice(2).join(' ').trim();
    if (url && snippet.length > 20) quotes.push({ quote: snippet.slice(0, 60).trim(), url });
    if (quotes.length === 2) break;
  }
  quotes.push({ quote: 'A quote that appears nowhere in the results at all', url: 'https://evil.example/x' });
  return {
    redditor_perspectives: 'Most movers are happy with the cost savings.',
    featured_quotes: quotes,
    common_reasons_for_moving: ['Cost of living'],
    common_challenges: ['Heat'],
    common_positive_outcomes: ['Lower rent'],
    regrets_or_warnings: ['Car dependence'],
    summary: 'Movers report lower costs and hotter summers.',
  };
}

/**
 * A ranking by the destinations' housing figures (most savings first), each reason quoting its figure;
 * the justification also writes one figure no analysis had, which grounding must drop.
 */
function ranking(prompt: string) {
  const destinations = [...prompt.matchAll(/^Destination \d+: (.+)\n(?:.*\n)*?Cost figures[^:]*: (.*)$/gm)].map((m) => {
    const housing = /Housing: (\d+)% lower/.exec(m[2] ?? '');
    return { city: m[1]!, housing: housing ? Number(housing[1]) : 0, figure: housing?.[0] ?? '' };
  });
  destinations.sort((a, b) => b.housing - a.housing);
  return {
    ranking: destinations.map((d) => ({ city: d.city, reason: d.figure ? `${d.figure.replace(': ', ' ')} than Seattle.` : 'No cost data.' })),
    confidence_level: 'Medium',
    detailed_justification: `${destinations[0]?.city ?? 'The first'} saves the most on housing. Every city cuts your costs by 99%.`,
  };
}

/**
 * A barrier in the model: each matching call is held until `count` have arrived (or `timeoutMs`
 * passed), then passes on to the scripted reply. Calls made one after another would each wait out
 * the deadline and see fewer than `count` arrived; `seenOnRelease` lists what each one saw.
 */
export function modelBarrier(count: number, timeoutMs = 5_000) {
  let arrived = 0;
  let release!: () => void;
  const barrier = new Promise<void>((resolve) => (release = resolve));
  const deadline = setTimeout(() => release(), timeoutMs);
  const seenOnRelease: number[] = [];
  return {
    seenOnRelease,
    /** The route's script: holds the call, then returns undefined so the next script answers it. */
    async hold(): Promise<undefined> {
      if (++arrived === count) release();
      await barrier;
      seenOnRelease.push(arrived);
      return undefined;
    },
    /** Clears the deadline timer (call after the turn). */
    done: () => clearTimeout(deadline),
  };
}
