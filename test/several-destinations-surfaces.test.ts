import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { expectChartPng } from './helpers/png.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { DISCORD_CHANNEL, startSystem, type TestSystem } from './helpers/system.js';

// A several-destination answer as each surface shows it: Slack blocks, Discord embeds, the API's content.
let system: TestSystem;
const QUESTION = 'Compare Austin, Denver and Raleigh for me, I live in Seattle';

beforeAll(async () => {
  system = await startSystem({ platforms: ['slack', 'discord'], slackStreaming: false });
});
afterAll(async () => {
  await system?.close();
});

type Field = { text: string };
type Embed = { title?: string; fields?: Array<{ name: string; value: string }> };

describe('several destinations on every surface', () => {
  it('Slack: the ranking and each destination with its figures as section fields, and the report', async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({ channel: 'CM1', user: 'U1', text: QUESTION });
    expect((await slack.sendEvent(system.slackEventsUrl, mention)).status).toBe(200);
    const [answer] = await waitForBotReplies(slack, 'CM1', mention.ts, (r) => r[0] !== undefined && isAnswered(r[0]));
    const shown = shownText(answer);
    expect(shown).toContain('Seattle, WA → Austin, TX, Denver, CO, Raleigh, NC');
    expect(shown).toMatch(/1\. \*Raleigh, NC\*: Move\. Housing 44% lower than Seattle\.\n2\. \*Austin, TX\*/);
    // Each destination's section has its figures as fields, in the same order for all three.
    const fieldSets = (answer!.blocks as Array<{ fields?: Field[] }>).flatMap((b) => (b.fields ? [b.fields.map((f) => f.text)] : []));
    expect(fieldSets).toHaveLength(3);
    expect(fieldSets.map((f) => f.find((t) => t.startsWith('*Housing*')))).toEqual([
      '*Housing*\n44% lower',
      '*Housing*\n38% lower',
      '*Housing*\n22% lower',
    ]);
    const [report, chart] = await waitFor(() => {
      const files = slack.filesInThread('CM1', mention.ts);
      return files.length > 1 && files;
    });
    expect(report?.name).toMatch(/^seattle_to_austin_denver_raleigh_\d{8}_\d{6}_comparison\.md$/);
    expect(report?.content.toString()).toContain('| Housing | 44% lower | 38% lower | 22% lower |');
    // One chart for the whole comparison: every destination's bars, linked under the side-by-side table.
    expect(chart?.name).toBe(report?.name.replace(/_comparison\.md$/, '_comparison_cost_chart.png'));
    expectChartPng(chart!.content);
    expect(chart?.altText).toMatch(/Austin, TX: .*Denver, CO: .*Raleigh, NC: /s);
    const markdown = report!.content.toString();
    const link = markdown.indexOf(`](${chart?.name})`);
    expect(link).toBeGreaterThan(markdown.indexOf('## Side by Side'));
    expect(link).toBeLessThan(markdown.indexOf('## Why This Order'));
  });

  it('Discord: the ranking as text and one embed per destination with its figures as fields', async () => {
    const discord = system.discord!;
    const alice = { id: '840000000000000001', username: 'alice' };
    discord.dispatchMessage({ channelId: DISCORD_CHANNEL, author: alice, content: `<@${discord.bot.id}> ${QUESTION}` });
    const withEmbeds = (m: MessageRecord) => (m.embeds as Embed[]).some((e) => e.fields?.length);
    // The answer goes in the channel or in a thread the bot opens for it.
    const everywhere = () => [DISCORD_CHANNEL, ...discord.threads.map((t) => t.id)].flatMap((id) => discord.messagesIn(id));
    const answer = await waitFor(() => everywhere().find(withEmbeds), { timeoutMs: 30_000, what: 'the comparison answer' });
    expect(answer.content).toMatch(/1\. \*\*Raleigh, NC\*\*: Move/);
    const embeds = answer.embeds as Embed[];
    expect(embeds.map((e) => e.title)).toEqual(['1. Raleigh, NC', '2. Austin, TX', '3. Denver, CO']);
    expect(embeds.map((e) => e.fields?.find((f) => f.name === 'Housing')?.value)).toEqual(['44% lower', '38% lower', '22% lower']);
  });

  it('HTTP API: the comparison report as the run content', async () => {
    const res = await fetch(`${system.services.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: QUESTION, stream: false, user_id: 'carol' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { content: string; kind: string; images?: Array<{ content: string; alt_text: string }> };
    expect(body.kind).toBe('recommendation');
    expect(body.content).toMatch(/^# Where Should You Move from Seattle, WA\?/);
    expect(body.content).toContain('1. **Raleigh, NC** (Move): Housing 44% lower than Seattle.');
    expect(body.content).toContain('| Housing | 44% lower | 38% lower | 22% lower |');
    // Each destination state's taxes from its Tax Foundation page, in ranked order (Raleigh, Austin, Denver).
    expect(body.content).toContain('| State income tax | flat 4.25% | none | flat 4.4% |');
    expect(body.content).toContain('| Sales tax (state + avg. local) | 7% | 8.2% | 7.81% |');
    expect(body.content).toContain('## 2. Should You Move from Seattle, WA to Austin, TX?');
    // One cost chart for the comparison, every destination in it.
    expect(body.images).toHaveLength(1);
    expect(body.images![0]!.alt_text).toMatch(/Austin, TX: .*Denver, CO: .*Raleigh, NC: /s);
    expectChartPng(Buffer.from(body.images![0]!.content, 'base64'));
  });
});
