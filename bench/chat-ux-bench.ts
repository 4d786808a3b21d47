/**
 * `npm run bench:chat-ux` (needs DATABASE_URL and REDIS_URL:
 * `bash scripts/test-services.sh npm run bench:chat-ux`).
 *
 * What one Slack answer looks like to the person who asked, and what it costs in Web API calls:
 * native streaming (chat.startStream with the plan title, chat.appendStream with the live plan's
 * task_update chunks and the answer's markdown_text as the model writes it, chat.stopStream with the
 * answer blocks, plus a Stop button message posted and deleted) against the post-and-edit way Slack
 * workspaces that cannot stream still get (placeholder chat.postMessage, progress chat.update edits,
 * final chat.update). The whole product runs as the tests start it (test/helpers/system.ts: web and
 * worker roles in this process, real Postgres and Redis, every outside service faked). BENCH_ANSWERS
 * answers (default 10) are asked one after another, each in a fresh channel and about a city pair no
 * other answer used (NerdWallet's list), streaming first, then with streaming disabled in the Slack fake.
 *
 * Per answer, from the moment the mention is sent (Slack fake arrival times, one clock):
 * - first reply visible: chat.startStream / the placeholder's chat.postMessage;
 * - first plan update visible: the first call carrying a task_update chunk / the first chat.update of
 *   the placeholder that shows the analysts' lines (src/team/progress.ts);
 * - first words of the answer visible: the first stream call carrying markdown_text / the first
 *   chat.update that shows the justification;
 * - answer complete: chat.stopStream / the placeholder's last chat.update;
 * - Web API calls per answer (all of them, report upload included) and chat.appendStream calls.
 * For context it also prints when the run itself had the plan (cities_resolved) and the first words
 * (the first content_delta), read from the run's Redis Stream, and when the fake model was asked for
 * the synthesis and finished writing it. Each answer starts with a full progress-edit budget (a quiet
 * workspace). BENCH_TRACE=S1 (or F1, …) prints one answer's calls in order.
 *
 * Goal (the issue sets no number): streaming shows the plan and the first words sooner than
 * placeholder-and-edits. Fakes: LLM 300 ms per call, synthesis streamed 8 characters every 20 ms,
 * Firecrawl 400 ms, Brave 100 ms, Slack Web API 20 ms per call.
 */
import { Redis } from 'ioredis';
import { loadNerdWalletCities, type NerdWalletCity } from '../src/tools/city-resolver.js';
import { waitFor } from '../test/fakes/fake-http.js';
import type { SlackCall } from '../test/fakes/slack-fake.js';
import { startSystem } from '../test/helpers/system.js';

const ANSWERS = Number(process.env.BENCH_ANSWERS ?? 10);
const LLM_MS = 300;
const CHUNK_CHARS = 8;
const CHUNK_DELAY_MS = 20;
const FIRECRAWL_MS = 400;
const BRAVE_MS = 100;
const SLACK_MS = Number(process.env.BENCH_SLACK_MS ?? 20);
/** The scripted synthesis's justification (test/helpers/team-script.ts): its first words. */
const FIRST_WORDS = 'The cost savings';
const STREAM_METHODS = new Set(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('bench:chat-ux needs DATABASE_URL and REDIS_URL (bash scripts/test-services.sh npm run bench:chat-ux)');
  process.exit(2);
}

// Two new cities per answer (warm-ups included), so no answer finds its cost page or research cached.
const cities = loadNerdWalletCities();
if (2 * (2 * ANSWERS + 2) > cities.length) {
  console.error(`bench:chat-ux: BENCH_ANSWERS must stay below ${Math.floor(cities.length / 4) - 1}`);
  process.exit(2);
}
let nextCity = 0;
const takePair = (): [NerdWalletCity, NerdWalletCity] => [cities[nextCity++]!, cities[nextCity++]!];
const comparePage = (from: NerdWalletCity, to: NerdWalletCity) =>
  `# Cost of living: ${from.display_name} vs ${to.display_name}\n\nThe cost of living in ${to.display_name} is 18% lower than in ${from.display_name}.\n\n| Category | Difference |\n|---|---|\n| Housing | 31% lower |\n| Food | 6% lower |\n| Transportation | 4% higher |\n\nMedian rent: $2,350 vs $1,700\n`;

const system = await startSystem({ platforms: ['slack'] });
const slack = system.slack!;
const { openai, firecrawl, brave } = system.fakes;
openai.setLatency(LLM_MS);
openai.setStreamPacing(CHUNK_CHARS, CHUNK_DELAY_MS);
firecrawl.setLatency(FIRECRAWL_MS);
brave.setLatency(BRAVE_MS);
slack.setLatency(SLACK_MS);
// The progress-edit budget is per workspace (30 a minute, a burst of 8): ten answers in a row from one
// workspace would run it down and later answers would show no progress at all. Each answer here stands
// for a quiet workspace, so its bucket is emptied of history (= full) before each answer.
const redis = new Redis(process.env.REDIS_URL);
const budgetKey = `movebot:${system.queueName}:edit-budget:slack:${slack.teamId}`;

type Mode = 'streaming' | 'fallback';
interface Sample {
  firstReply: number;
  plan?: number;
  words?: number;
  complete: number;
  calls: number;
  appends: number;
  byMethod: Map<string, number>;
  /** The fake model's synthesis request: when it came in and when its stream ended. */
  synthesis: { asked?: number; written?: number };
  /** When the run had the plan (cities resolved) and the first words (content_delta), from its Redis Stream. */
  run: { plan?: number; words?: number };
}

/** Run event streams seen so far, so each answer finds its own. */
const knownRuns = new Set<string>();
/** When the answer's run appended its first plan event and first content delta (stream entry ids are ms). */
async function runTimes(sent: number): Promise<Sample['run']> {
  const keys = (await redis.keys('movebot:run:*:events')).filter((k) => !knownRuns.has(k));
  for (const k of keys) knownRuns.add(k);
  if (keys.length !== 1) return {};
  const entries = await redis.xrange(keys[0]!, '-', '+');
  const at = (type: string) => {
    const entry = entries.find(([, fields]) => (JSON.parse(fields[1] ?? '{}') as { type?: string }).type === type);
    return entry ? Number(entry[0].split('-')[0]) - sent : undefined;
  };
  return { plan: at('cities_resolved'), words: at('content_delta') };
}

const chunksOf = (call: SlackCall): Array<{ type?: string; text?: string }> => {
  const chunks = call.args.chunks;
  if (Array.isArray(chunks)) return chunks as Array<{ type?: string; text?: string }>;
  if (typeof chunks === 'string') {
    try {
      return JSON.parse(chunks) as Array<{ type?: string; text?: string }>;
    } catch {
      return [];
    }
  }
  return call.args.markdown_text !== undefined ? [{ type: 'markdown_text', text: String(call.args.markdown_text) }] : [];
};
const shows = (call: SlackCall, text: string) => JSON.stringify([call.args.text ?? '', call.args.blocks ?? []]).includes(text);

/** Asks one question in a fresh channel and reads what the thread showed when from the call log. */
async function answer(mode: Mode, label: string): Promise<Sample> {
  const [from, to] = takePair();
  firecrawl.setPage(
    `https://www.nerdwallet.com/cost-of-living-calculator/compare/${from.url_format}-vs-${to.url_format}`,
    comparePage(from, to),
  );
  const channel = `CUX${label}`;
  const mention = slack.mentionEvent({
    channel,
    user: `U${label}`,
    text: `Should I move from ${from.display_name} to ${to.display_name}? I love live music.`,
  });
  await redis.del(budgetKey);
  const firstCall = slack.allCalls.length;
  const sent = Date.now();
  const ack = await slack.sendEvent(system.slackEventsUrl, mention);
  if (ack.status !== 200) throw new Error(`${label}: the mention was answered ${ack.status}`);
  // Done: the report is in the thread and the job (which removes the Stop button last) has finished.
  await waitFor(
    async () => {
      if (slack.filesInThread(channel, mention.ts).length === 0) return false;
      const c = await system.services.queue!.counts();
      return c.active + c.waiting + c.delayed === 0;
    },
    { timeoutMs: 60_000, what: `the answer in ${channel}` },
  );
  await new Promise((r) => setTimeout(r, 200)); // any straggling call
  const calls = slack.allCalls.slice(firstCall);
  const inChannel = calls.filter((c) => (c.args.channel ?? c.args.channel_id) === channel);
  const after = (call: SlackCall | undefined) => (call ? call.at - sent : undefined);
  const asked = openai.chatRequests.filter((r) => r.system.includes('Combine the analysts') && r.receivedAt >= sent).at(-1);
  const synthesis = { asked: asked && asked.receivedAt - sent, written: asked?.repliedAt && asked.repliedAt - sent };
  const run = await runTimes(sent);
  if (process.env.BENCH_TRACE === label) {
    console.log(`${label} synthesis asked +${ms(synthesis.asked)}, written +${ms(synthesis.written)}`);
    console.log(`${label} run: cities resolved +${ms(run.plan)}, first content_delta +${ms(run.words)}`);
    for (const c of calls) {
      const kinds = chunksOf(c).map((k) => (k.type === 'markdown_text' ? `text ${JSON.stringify(k.text?.slice(0, 24))}` : k.type));
      console.log(`${label} +${Math.round(c.at - sent)} ms ${c.method} ${kinds.join(', ')} ${String(c.args.text ?? '').slice(0, 60).replace(/\n/g, ' | ')}`);
    }
  }
  const byMethod = new Map<string, number>();
  for (const c of calls) byMethod.set(c.method, (byMethod.get(c.method) ?? 0) + 1);
  const appends = calls.filter((c) => c.method === 'chat.appendStream').length;

  if (mode === 'streaming') {
    const stream = inChannel.filter((c) => STREAM_METHODS.has(c.method));
    const start = stream.find((c) => c.method === 'chat.startStream');
    const stop = stream.find((c) => c.method === 'chat.stopStream');
    if (!start || !stop) throw new Error(`${label}: no stream (is streaming on?)`);
    return {
      firstReply: after(start)!,
      plan: after(stream.find((c) => chunksOf(c).some((k) => k.type === 'task_update'))),
      words: after(stream.find((c) => chunksOf(c).some((k) => k.type === 'markdown_text' && k.text?.trim()))),
      complete: after(stop)!,
      calls: calls.length,
      appends,
      byMethod,
      synthesis,
      run,
    };
  }
  const placeholder = inChannel.find((c) => c.method === 'chat.postMessage');
  if (!placeholder) throw new Error(`${label}: no placeholder`);
  const ts = slack.messagesIn(channel).find((m) => m.user === slack.botUserId && !m.files?.length)?.ts;
  const edits = inChannel.filter((c) => c.method === 'chat.update' && c.args.ts === ts);
  if (edits.length === 0) throw new Error(`${label}: the placeholder was never edited`);
  return {
    firstReply: after(placeholder)!,
    plan: after(edits.find((c) => shows(c, 'Cost Analyst'))),
    words: after(edits.find((c) => shows(c, FIRST_WORDS))),
    complete: after(edits.at(-1))!,
    calls: calls.length,
    appends,
    byMethod,
    synthesis,
    run,
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const p50 = (xs: Array<number | undefined>) => {
  const seen = xs.filter((x): x is number => x !== undefined);
  return seen.length ? pct(seen, 50) : undefined;
};
const seen = (xs: Array<number | undefined>) => `${xs.filter((x) => x !== undefined).length}/${xs.length}`;
const ms = (x: number | undefined) => (x === undefined ? 'never' : `${Math.round(x)} ms`);
const methods = (samples: Sample[]) => {
  const total = new Map<string, number>();
  for (const s of samples) for (const [m, n] of s.byMethod) total.set(m, (total.get(m) ?? 0) + n);
  return [...total]
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${m} ${(n / samples.length).toFixed(1)}`)
    .join(', ');
};

let exitCode = 0;
try {
  const results: Record<Mode, Sample[]> = { streaming: [], fallback: [] };
  // Streaming first: once a workspace could not stream, the service remembers it (in Redis) for a while.
  await answer('streaming', 'W0'); // warm-up: module loading, JIT, first connections
  for (let i = 1; i <= ANSWERS; i++) results.streaming.push(await answer('streaming', `S${i}`));
  slack.disableStreaming();
  // The first answer after that pays one failed chat.startStream, then the workspace is remembered.
  const switching = await answer('fallback', 'W1');
  for (let i = 1; i <= ANSWERS; i++) results.fallback.push(await answer('fallback', `F${i}`));

  const s = results.streaming;
  const f = results.fallback;
  console.log(
    `${ANSWERS} answers each way, one at a time, a fresh channel and city pair each; fakes: LLM ${LLM_MS} ms per call, ` +
      `synthesis ${CHUNK_CHARS} chars every ${CHUNK_DELAY_MS} ms, Firecrawl ${FIRECRAWL_MS} ms, Brave ${BRAVE_MS} ms, Slack ${SLACK_MS} ms`,
  );
  console.log(`${'p50, from the mention'.padEnd(34)} ${'streaming'.padStart(12)} ${'placeholder+edits'.padStart(18)}`);
  const row = (name: string, a: Array<number | undefined>, b: Array<number | undefined>, fmt = ms) =>
    console.log(`${name.padEnd(34)} ${fmt(p50(a)).padStart(12)} ${fmt(p50(b)).padStart(18)}   (seen in ${seen(a)} / ${seen(b)})`);
  const count = (x: number | undefined) => (x === undefined ? '-' : String(x));
  row('first reply visible', s.map((x) => x.firstReply), f.map((x) => x.firstReply));
  row('first plan update visible', s.map((x) => x.plan), f.map((x) => x.plan));
  row('first words of the answer visible', s.map((x) => x.words), f.map((x) => x.words));
  row('answer complete', s.map((x) => x.complete), f.map((x) => x.complete));
  row('(run: plan known, cities resolved)', s.map((x) => x.run.plan), f.map((x) => x.run.plan));
  row('(model: synthesis asked)', s.map((x) => x.synthesis.asked), f.map((x) => x.synthesis.asked));
  row('(run: first words, content_delta)', s.map((x) => x.run.words), f.map((x) => x.run.words));
  row('(model: synthesis fully written)', s.map((x) => x.synthesis.written), f.map((x) => x.synthesis.written));
  row('Slack Web API calls per answer', s.map((x) => x.calls), f.map((x) => x.calls), count);
  row('chat.appendStream calls per answer', s.map((x) => x.appends), f.map((x) => x.appends), count);
  console.log(`calls per answer, streaming: ${methods(s)}`);
  console.log(`calls per answer, placeholder+edits: ${methods(f)}`);
  console.log(
    `first answer after streaming became unavailable: ${switching.calls} calls (${switching.byMethod.get('chat.startStream') ?? 0} failed chat.startStream)`,
  );

  // The run itself takes as long either way (its timing varies by a few tens of ms between answers), so
  // the figure that belongs to each way of showing it is the delay from the run knowing to Slack showing.
  const lag = (xs: Sample[], key: 'plan' | 'words') =>
    xs.map((x) => (x[key] !== undefined && x.run[key] !== undefined ? x[key]! - x.run[key]! : undefined));
  row('delay: plan known → visible', lag(s, 'plan'), lag(f, 'plan'));
  row('delay: words written → visible', lag(s, 'words'), lag(f, 'words'));
  console.log(
    'goal: streaming shows the plan and the first words no later than placeholder-and-edits (delay after the run knows them; within 10 ms counts as the same)',
  );
  const verdict = (name: string, a?: number, b?: number) => {
    const holds = a !== undefined && (b === undefined || a <= b + 10);
    const by = a !== undefined && b !== undefined ? ` (${Math.round(a)} ms against ${Math.round(b)} ms)` : '';
    console.log(`  ${name}: ${holds ? 'holds' : 'does NOT hold'}${by}`);
  };
  verdict('plan', p50(lag(s, 'plan')), p50(lag(f, 'plan')));
  verdict('first words', p50(lag(s, 'words')), p50(lag(f, 'words')));
  const [sc, fc] = [p50(s.map((x) => x.calls))!, p50(f.map((x) => x.calls))!];
  console.log(`  Web API calls (no goal): streaming ${sc} against ${fc}, ${sc <= fc ? `${fc - sc} fewer` : `${sc - fc} more`}`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  redis.disconnect();
  await system.close();
}
process.exit(exitCode);
