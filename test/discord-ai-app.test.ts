import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscordCall, DiscordUser, MessageRecord } from './fakes/discord-fake.js';
import { waitFor } from './fakes/fake-http.js';
import { DISCORD_CHANNEL, DISCORD_GUILD, startSystem, type TestSystem } from './helpers/system.js';
import { scriptTeam } from './helpers/team-script.js';

/*
 * Discord as an AI app, end to end through the real web and worker roles, Redis and Postgres, with
 * discord.js talking to the Discord fake: the live plan and the answer written into the deferred
 * reply under a Stop button, feedback and one-click follow-up buttons under the answer, what each
 * click does, Stop, stale buttons, and edits paced by Discord's rate-limit headers.
 */
let system: TestSystem;
beforeAll(async () => {
  system = await startSystem({ platforms: ['discord'] });
  const openai = system.fakes.openai;
  // The synthesis writes a justification of three sentences, so its streaming is seen sentence by
  // sentence (the grounder releases whole sentences) in the progress edits.
  openai.reset();
  openai.route({ system: 'Combine the analysts' }, (req) => ({
    json: {
      recommendation: 'move',
      confidence_level: 'Medium',
      key_supporting_factors: ['Lower housing costs', 'Strong job market'],
      key_concerns: ['Summer heat'],
      detailed_justification: JUSTIFICATION,
      next_steps: ['Visit in August', 'Compare rents in two neighbourhoods', 'Talk to your employer about remote work'],
      memories_used: req.lastUser.includes('Remembered facts about the user') ? [1] : [],
    },
  }));
  scriptTeam(openai);
});
afterAll(async () => {
  await system?.close();
});

const FIRST_SENTENCE = 'The cost savings and the music scene match what you asked for.';
const LAST_SENTENCE = 'Rents differ a lot from one neighbourhood to the next, so look before you sign.';
const JUSTIFICATION = `${FIRST_SENTENCE} Summers are hot there, so visit in August before you decide. ${LAST_SENTENCE}`;
const GUILD = DISCORD_GUILD;
const CHANNEL = DISCORD_CHANNEL;
const alice: DiscordUser = { id: '840000000000000001', username: 'alice' };
const bob: DiscordUser = { id: '840000000000000002', username: 'bob' };
const carol: DiscordUser = { id: '840000000000000003', username: 'carol' };
const dave: DiscordUser = { id: '840000000000000004', username: 'dave' };

type Button = { type: number; style?: number; label?: string; custom_id?: string; emoji?: { name?: string } };
type Body = { content?: string; embeds?: Array<{ description?: string; title?: string }>; components?: unknown[]; flags?: number };

const discord = () => system.discord!;
const buttons = (m: Body | MessageRecord | undefined): Button[] =>
  ((m?.components ?? []) as Array<{ components?: Button[] }>).flatMap((row) => row.components ?? []);
const ids = (m: Body | MessageRecord | undefined) => buttons(m).map((b) => b.custom_id ?? '');
const hasStop = (m: Body | MessageRecord | undefined) => ids(m).some((id) => id.startsWith('mb:stop:'));
const hasFeedback = (m: Body | MessageRecord | undefined) => ids(m).some((id) => id.startsWith('mb:fb:'));
const shown = (m: Body | MessageRecord | undefined) =>
  m ? [m.content ?? '', ...((m.embeds ?? []) as Array<{ description?: string }>).map((e) => e.description ?? '')].join('\n') : '';
const message = (channelId: string, id: string) => discord().messagesIn(channelId).find((m) => m.id === id);
const botMessages = (channelId: string) => discord().messagesIn(channelId).filter((m) => m.author.id === discord().bot.id);
/** The bodies of every edit of an interaction's original response, in order. */
const editsOf = (interactionId: string) =>
  (discord().interaction(interactionId)?.responses ?? []).filter((r) => r.kind === 'edit').map((r) => r.data as Body);
const followUpRequests = () =>
  system.fakes.openai.chatRequests.filter((r) => r.system.includes('answering a follow-up question'));
const metrics = async () => (await fetch(`${system.services.url}/metrics`)).text();

const MESSAGE_ROUTES = new Set(['createMessage', 'editMessage', 'editOriginal', 'followup', 'interactionCallback']);

/**
 * Every message the bot sent or edited stayed within Discord's limits (2,000 characters of content,
 * at most 10 embeds of at most 4,096 characters and 6,000 in all), and Discord took each request
 * (a 429 only where a rate limit is on; discord.js then retries).
 */
function expectMessagesWithinLimits(calls: readonly DiscordCall[], { allow429 = false } = {}) {
  const sent = calls.filter((c) => MESSAGE_ROUTES.has(c.route));
  expect(sent.length).toBeGreaterThan(0);
  for (const call of sent) {
    const raw = (call.body ?? {}) as Body & { data?: Body };
    const body = call.route === 'interactionCallback' ? (raw.data ?? {}) : raw;
    const embeds = body.embeds ?? [];
    const where = `${call.route} ${call.path.replace(/webhooks\/\d+\/[^/]+/, 'webhooks/…')}`;
    expect(body.content?.length ?? 0, where).toBeLessThanOrEqual(2_000);
    expect(embeds.length, where).toBeLessThanOrEqual(10);
    for (const e of embeds) expect(e.description?.length ?? 0, where).toBeLessThanOrEqual(4_096);
    const embedChars = embeds.reduce((n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0), 0);
    expect(embedChars, where).toBeLessThanOrEqual(6_000);
    expect(call.status, where).toBeDefined();
    if (call.status === 429 && allow429) continue;
    expect(call.status, `${where} was refused`).toBeLessThan(300);
  }
}

/**
 * How many of these requests (times in ms) fell in each window of the fake's edit rate limit: a
 * window opens at the first request after the previous one closed.
 */
function editsPerWindow(times: number[], windowMs: number): number[] {
  const counts: number[] = [];
  let start = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t >= start + windowMs) {
      start = t;
      counts.push(0);
    }
    counts[counts.length - 1]! += 1;
  }
  return counts;
}

/** Runs `/move from:Seattle to:Austin` as `user`; resolves with the interaction and its reply's id. */
async function move(user: DiscordUser) {
  const d = discord();
  const { id, callback } = d.dispatchInteraction({
    channelId: CHANNEL,
    user,
    commandName: 'move',
    options: { from: 'Seattle', to: 'Austin' },
  });
  expect(await callback).toMatchObject({ kind: 'callback', type: 5 });
  const rootId = await waitFor(() => d.interaction(id)?.originalMessageId, { what: 'the deferred reply' });
  return { id, rootId };
}

describe('Discord AI app: the plan and the answer written into the reply, then feedback and follow-ups', () => {
  let rootId: string;
  let runId: string;

  it('edits the deferred /move reply into the live plan with a Stop button, then the answer as it is written, then the answer with its buttons', async () => {
    const d = discord();
    const callsBefore = d.calls.length;
    // The model writes at a visible pace, so the answer is seen being written, edit by edit.
    system.fakes.openai.setStreamPacing(8, 40);
    let interactionId: string;
    try {
      ({ id: interactionId, rootId } = await move(alice));
      await waitFor(() => hasFeedback(message(CHANNEL, rootId)), { timeoutMs: 30_000, what: 'the answer in the reply' });
    } finally {
      system.fakes.openai.setStreamPacing(8, 0);
    }

    const edits = editsOf(interactionId);
    const final = edits.findIndex(hasFeedback);
    expect(final).toBeGreaterThan(0);
    // The answer is the last edit: no late progress edit overwrote it.
    expect(final).toBe(edits.length - 1);
    const progress = edits.slice(0, final);
    // Every progress edit carries exactly one Stop button, naming this run.
    for (const edit of progress) {
      expect(buttons(edit)).toEqual([expect.objectContaining({ type: 2, label: 'Stop', custom_id: expect.stringMatching(/^mb:stop:/) })]);
    }
    runId = ids(progress[0])[0]!.slice('mb:stop:'.length);
    expect(runId).not.toBe('');
    expect(new Set(progress.flatMap(ids))).toEqual(new Set([`mb:stop:${runId}`]));
    // First the placeholder, then the plan: a line per analyst.
    expect(progress[0]!.content).toBe('Looking into Seattle → Austin…');
    const plan = progress.find((e) => /• Cost Analyst: /.test(e.content ?? ''));
    expect(plan?.content).toMatch(/^Looking into Seattle, WA → Austin, TX…\n/);
    expect(plan?.content).toMatch(/^• Sentiment Analyst: /m);
    expect(plan?.content).toMatch(/^• Migration Researcher: /m);
    expect(progress.some((e) => /^• Cost Analyst: done \(\d+\.\ds/m.test(e.content ?? ''))).toBe(true);
    expect(progress.some((e) => (e.content ?? '').includes('• Team Coordinator: writing the recommendation…'))).toBe(true);
    // Then the answer as it is written: the first sentence alone before the rest, all before the final edit.
    const writing = progress
      .map((e) => e.content ?? '')
      .filter((c) => c.startsWith('Writing the answer…\n\n'))
      .map((c) => c.slice('Writing the answer…\n\n'.length));
    expect(writing.length).toBeGreaterThanOrEqual(2);
    for (const text of writing) expect(JUSTIFICATION.startsWith(text)).toBe(true);
    expect(writing).toContain(FIRST_SENTENCE);
    expect(writing.at(-1)).toBe(JUSTIFICATION);
    expect(progress.length).toBeGreaterThanOrEqual(5);

    // The answer: the recommendation, thumbs up / down and three follow-ups (taxes first), no Stop.
    const answer = message(CHANNEL, rootId)!;
    expect(shown(answer)).toMatch(/^\*\*Move\*\* for Seattle, WA → Austin, TX/);
    expect(shown(answer)).toContain(JUSTIFICATION);
    expect(answer.components).toEqual(edits[final]!.components);
    expect(hasStop(answer)).toBe(false);
    const rows = answer.components as Array<{ type: number; components: Button[] }>;
    expect(rows.map((r) => r.type)).toEqual([1, 1]);
    expect(rows[0]!.components.map((b) => [b.custom_id, b.emoji?.name])).toEqual([
      [`mb:fb:${runId}:up`, '👍'],
      [`mb:fb:${runId}:down`, '👎'],
    ]);
    expect(rows[1]!.components.map((b) => [b.label, b.custom_id])).toEqual([
      ['What about taxes?', `mb:fu:${runId}:taxes`],
      ['What about housing?', `mb:fu:${runId}:housing`],
      ['What do movers regret?', `mb:fu:${runId}:regrets`],
    ]);
    // The conversation continues in the thread opened on the answer, with the report, then the cost chart.
    await waitFor(() => d.attachments.some((a) => a.channelId === rootId && a.filename.endsWith('_analysis.md')), {
      what: 'the report in the thread',
    });
    await waitFor(() => d.attachments.some((a) => a.channelId === rootId && a.filename.endsWith('_cost_chart.png')), {
      what: 'the cost chart in the thread',
    });
    expect(d.threads.find((t) => t.id === rootId)).toMatchObject({ parentId: CHANNEL, name: 'Seattle, WA → Austin, TX' });
    // The run is the one the buttons name.
    const { rows: runs } = await system.db.db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId]);
    expect(runs).toEqual([{ status: 'completed' }]);
    for (const m of [...d.messagesIn(CHANNEL), ...d.messagesIn(rootId)]) {
      expect(m.content.length).toBeLessThanOrEqual(2_000);
    }
    expectMessagesWithinLimits(d.calls.slice(callsBefore));
  });

  it('records a thumbs up from another user: deferred update within the deadline, a private thanks, nothing in the channel, counted in /metrics', async () => {
    const d = discord();
    const inChannel = d.messagesIn(CHANNEL).length;
    const inThread = d.messagesIn(rootId).length;
    const before = structuredClone(message(CHANNEL, rootId));
    const { id, callback } = d.clickButton({ channelId: CHANNEL, messageId: rootId, customId: `mb:fb:${runId}:up`, user: bob });
    const response = await callback;
    expect(response).toMatchObject({ kind: 'callback', type: 6 });
    expect(response!.atMs).toBeLessThan(3_000);

    const thanks = await waitFor(() => d.ephemerals.find((e) => e.interactionId === id), { what: 'the thanks' });
    expect(thanks).toMatchObject({ userId: bob.id, channelId: CHANNEL, content: 'Thanks for the feedback! 👍' });
    expect(thanks.flags & 64).toBe(64);
    const { rows } = await system.db.db.query<{ run_id: string; rating: string; platform_user_id: string; workspace: string }>(
      'SELECT f.run_id, f.rating, u.platform_user_id, u.workspace FROM run_feedback f JOIN users u ON u.id = f.user_id',
    );
    expect(rows).toEqual([{ run_id: runId, rating: 'up', platform_user_id: bob.id, workspace: GUILD }]);
    expect(await metrics()).toContain('movebot_feedback_total{rating="up"} 1');
    // Nobody else sees anything: no new message, the answer as it was.
    expect(d.messagesIn(CHANNEL)).toHaveLength(inChannel);
    expect(d.messagesIn(rootId)).toHaveLength(inThread);
    expect(message(CHANNEL, rootId)).toEqual(before);
  });

  it('asks a one-click follow-up once when double-clicked, as the clicking user, answered in the thread opened on the answer', async () => {
    const d = discord();
    const callsBefore = d.calls.length;
    const requestsBefore = followUpRequests().length;
    const click = () => d.clickButton({ channelId: CHANNEL, messageId: rootId, customId: `mb:fu:${runId}:taxes`, user: carol });
    // A double click: both clicks arrive before either is carried out.
    const clicks = [click(), click()];
    for (const { callback } of clicks) {
      const response = await callback;
      expect(response).toMatchObject({ kind: 'callback', type: 6 });
      expect(response!.atMs).toBeLessThan(3_000);
    }

    const followUp = await waitFor(
      () => botMessages(rootId).find((m) => /^Follow-up answer/.test(shown(m)) && hasFeedback(m)),
      { timeoutMs: 30_000, what: 'the follow-up answer in the thread' },
    );
    // One more click, once the question is on its way: not asked again, and its clicker is told so privately.
    const again = click();
    expect(await again.callback).toMatchObject({ kind: 'callback', type: 6 });
    const note = await waitFor(() => d.ephemerals.find((e) => e.interactionId === again.id), { what: 'the note on the repeated click' });
    expect(note).toMatchObject({ userId: carol.id, content: 'That question is already on its way.' });
    expect(followUpRequests().length - requestsBefore).toBe(1);
    expect(followUpRequests().at(-1)!.lastUser).toContain('What about taxes?');
    expect(botMessages(rootId).filter((m) => /^Follow-up answer/.test(shown(m)))).toEqual([followUp]);
    // The follow-up answer has buttons of its own run, no Stop; nothing of it went to the channel.
    const followUpRun = ids(followUp).find((i) => i.startsWith('mb:fb:'))!.split(':')[2];
    expect(followUpRun).not.toBe(runId);
    expect(hasStop(followUp)).toBe(false);
    expect(d.messagesIn(CHANNEL).filter((m) => /^Follow-up answer/.test(shown(m)))).toEqual([]);

    const session = await system.services.runtime.store.getSessionByThreadKey(`discord:${GUILD}:${rootId}`);
    const messages = await system.services.runtime.store.listMessages(session!.id);
    expect(messages.map((m) => [m.role, m.authorName, m.content.split('\n')[0]])).toEqual([
      ['user', 'alice', 'Should I move from Seattle to Austin?'],
      ['assistant', null, expect.stringMatching(/^\*\*Move\*\* for Seattle, WA → Austin, TX/)],
      ['user', 'carol', 'What about taxes?'],
      ['assistant', null, expect.stringMatching(/^Follow-up answer/)],
    ]);
    expectMessagesWithinLimits(d.calls.slice(callsBefore));
  });

  it('tells the clicker privately that a button it no longer knows does nothing', async () => {
    const d = discord();
    // A message from an older version of the bot, with a button id in a format no longer issued.
    const res = await fetch(`${d.restUrl}/v10/channels/${CHANNEL}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${system.env.DISCORD_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        content: 'An answer from last year',
        components: [{ type: 1, components: [{ type: 2, style: 2, label: 'Rate', custom_id: 'v0:old' }] }],
      }),
    });
    expect(res.status).toBe(200);
    const old = (await res.json()) as { id: string };
    const inChannel = d.messagesIn(CHANNEL).length;

    const { id, callback } = d.clickButton({ channelId: CHANNEL, messageId: old.id, customId: 'v0:old', user: dave });
    const response = await callback;
    expect(response).toMatchObject({ kind: 'callback', type: 4 });
    expect(response!.atMs).toBeLessThan(3_000);
    const note = await waitFor(() => d.ephemerals.find((e) => e.interactionId === id), { what: 'the stale-button note' });
    expect(note).toMatchObject({ userId: dave.id, channelId: CHANNEL });
    expect(note.content).toMatch(/no longer works/);
    expect(note.flags & 64).toBe(64);
    expect(d.messagesIn(CHANNEL)).toHaveLength(inChannel);
    expect(message(CHANNEL, old.id)?.content).toBe('An answer from last year');
  });
});

describe('Discord AI app: edits under a rate limit', () => {
  it('paces the edits of a mention answered in its thread on the rate-limit headers: all succeed, (nearly) no 429s, the answer is there', async () => {
    const d = discord();
    const limited = d.rateLimited.length;
    const callsBefore = d.calls.length;
    d.setEditRateLimit({ limit: 2, windowMs: 400 });
    system.fakes.openai.setStreamPacing(8, 10);
    let threadId: string;
    try {
      const asked = d.dispatchMessage({
        channelId: CHANNEL,
        author: dave,
        content: `<@${d.bot.id}> Should I move from Seattle to Austin?`,
      });
      threadId = asked.id;
      await waitFor(() => botMessages(threadId).some((m) => hasFeedback(m)), { timeoutMs: 30_000, what: 'the answer in the thread' });
    } finally {
      system.fakes.openai.setStreamPacing(8, 0);
      d.setEditRateLimit(undefined);
    }

    const [answer, ...others] = botMessages(threadId).filter((m) => m.attachments.length === 0);
    expect(others).toEqual([]);
    expect(shown(answer)).toMatch(/^\*\*Move\*\* for Seattle, WA → Austin, TX/);
    expect(shown(answer)).toContain(JUSTIFICATION);
    expect(hasStop(answer)).toBe(false);
    const edits = d.calls.slice(callsBefore).filter((c) => c.route === 'editMessage' && c.path.includes(`/channels/${threadId}/`));
    const done = edits.filter((c) => c.status === 200);
    // More edits than one window allows, so discord.js had to wait for the limit to reset…
    expect(done.length).toBeGreaterThan(2);
    expect(done.some((c) => (c.body as Body).content?.startsWith('Writing the answer…'))).toBe(true);
    // …and it waited instead of being refused: at most one 429 (a bucket discord.js had not learned yet).
    expect(edits.every((c) => c.status === 200 || c.status === 429)).toBe(true);
    expect(d.rateLimited.length - limited).toBeLessThanOrEqual(1);
    // Each edit took effect in order: the last one is the answer.
    expect(hasFeedback(done.at(-1)!.body as Body)).toBe(true);
    // The limit was reached (a window took its 2 edits, so discord.js was told `remaining: 0`), never exceeded.
    const windows = editsPerWindow(done.map((c) => c.at), 400);
    expect(Math.max(...windows)).toBe(2);
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expectMessagesWithinLimits(d.calls.slice(callsBefore), { allow429: true });
  });
});

describe('Discord AI app: Stop', () => {
  it('stops the run when Stop is clicked: no further model call, the reply keeps what was written and says it stopped, without buttons', async () => {
    const d = discord();
    const openai = system.fakes.openai;
    const callsBefore = d.calls.length;
    openai.setStreamPacing(4, 60); // the synthesis takes seconds to write: time to click
    try {
      const { id, rootId } = await move(alice);
      // Once some of the answer is in the reply, the user clicks Stop.
      const writing = await waitFor(
        () => {
          const m = message(CHANNEL, rootId);
          return m && hasStop(m) && m.content.includes(FIRST_SENTENCE) ? m : undefined;
        },
        { timeoutMs: 30_000, what: 'the answer being written' },
      );
      expect(writing.content).not.toContain(LAST_SENTENCE);
      const stop = ids(writing).find((i) => i.startsWith('mb:stop:'))!;
      const runId = stop.slice('mb:stop:'.length);
      const requestsAtClick = openai.chatRequests.length;
      const click = d.clickButton({ channelId: CHANNEL, messageId: rootId, customId: stop, user: alice });
      const response = await click.callback;
      expect(response).toMatchObject({ kind: 'callback', type: 6 });
      expect(response!.atMs).toBeLessThan(3_000);

      const stopped = await waitFor(
        () => {
          const m = message(CHANNEL, rootId);
          return m?.content.includes('⏹ Stopped') ? m : undefined;
        },
        { timeoutMs: 30_000, what: 'the reply saying it stopped' },
      );
      expect(stopped.content).toMatch(/^The cost savings and the music scene match what you asked for\.[\s\S]*\n\n_⏹ Stopped\._$/);
      expect(stopped.content).not.toContain(LAST_SENTENCE);
      expect(stopped.components).toEqual([]);
      await waitFor(
        async () => {
          const { rows } = await system.db.db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId]);
          return rows[0]?.status === 'cancelled';
        },
        { what: 'the run cancelled' },
      );
      expect(openai.chatRequests.length).toBe(requestsAtClick);
      // The stopped reply is the last edit, and nothing else was said about it, nor a private note.
      expect(editsOf(id).at(-1)?.content).toBe(stopped.content);
      expect(d.ephemerals.filter((e) => e.interactionId === click.id)).toEqual([]);
      expect(botMessages(rootId).filter((m) => m.attachments.length === 0)).toEqual([]);
      expectMessagesWithinLimits(d.calls.slice(callsBefore));
    } finally {
      openai.setStreamPacing(8, 0);
    }
  });
});
