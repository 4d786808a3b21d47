import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore, User } from '../src/ports/session-store.js';
import { type ApiHarness, bearer, startApi } from './http-harness.js';

// The console's feedback API (/console/api/feedback, /console/api/sessions/:id/runs) on a real
// Postgres: runs seeded through the SessionStore, votes through the runtime's FeedbackStore.
const KEY = 'feedback-console-key-0123456789abcdef';
const DAY = 86_400_000;

let api: ApiHarness;

interface Votes {
  up: number;
  down: number;
  share_up: number | null;
}
interface FeedbackBody {
  now: string;
  days: number;
  totals: Votes;
  per_day: Array<Votes & { day: string }>;
  recent: Array<Votes & { run_id: string; session_id: string; session_title: string | null; platform: string; input: string; last_vote_at: string }>;
}
interface SessionRunsBody {
  data: Array<Votes & { run_id: string; status: string; input: string; reply_message_id: string | null }>;
}

async function get<T>(path: string, key = KEY) {
  const res = await fetch(`${api.url}${path}`, { headers: key ? bearer(key) : {} });
  return { status: res.status, body: (await res.json()) as T };
}

/** A question, the run that answered it and the stored answer naming the run. */
async function answeredRun(store: SessionStore, sessionId: string, asker: User, question: string) {
  const q = await store.appendMessage(sessionId, { role: 'user', content: question, authorUserId: asker.id, authorName: asker.displayName });
  const run = await store.startRun({ sessionId, userMessageId: q.id, input: question });
  const reply = await store.appendMessage(sessionId, {
    role: 'assistant',
    content: `About: ${question}`,
    replyTo: q.id,
    metadata: { kind: 'answer', runId: run.id },
  });
  await store.finishRun(run.id, { status: 'completed', content: reply.content });
  return { run, reply };
}

beforeAll(async () => {
  api = await startApi({ apiKey: KEY });
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('console feedback API', () => {
  it('needs the API key and reports no votes before any', async () => {
    expect((await get('/console/api/feedback', '')).status).toBe(401);
    const { status, body } = await get<FeedbackBody>('/console/api/feedback?days=5');
    expect(status).toBe(200);
    expect(body.totals).toEqual({ up: 0, down: 0, share_up: null });
    expect(body.days).toBe(5);
    expect(body.per_day).toHaveLength(5);
    expect(body.per_day.every((d) => d.share_up === null && d.up === 0)).toBe(true);
    expect(body.per_day.at(-1)?.day).toBe(String(body.now).slice(0, 10));
    expect(body.recent).toEqual([]);
  });

  it('gives totals, the thumbs-up share per day and the runs voted on last', async () => {
    const { store, feedback, db } = api.runtime;
    const [ann, bob, cat] = await Promise.all(
      ['Ann', 'Bob', 'Cat'].map((name) => store.upsertUser({ platform: 'slack', workspace: 'T9', platformUserId: `U-${name}` }, name)),
    );
    const denver = await store.getOrCreateSession({
      threadKey: 'slack:T9:C9:1.1',
      platform: 'slack',
      ownerUserId: ann!.id,
      title: 'Boston → <b>Denver</b>',
    });
    const voted = await answeredRun(store, denver.id, ann!, 'Move to Denver?');
    const unvoted = await answeredRun(store, denver.id, ann!, 'And rent there?');
    const other = await store.getOrCreateSession({ threadKey: 'slack:T9:C9:2.2', platform: 'slack', ownerUserId: bob!.id, title: 'Austin' });
    const older = await answeredRun(store, other.id, bob!, 'Move to Austin?');

    // Today: 2 up, 1 down on one run (Bob changes his mind: one vote per person).
    await feedback.record({ runId: voted.run.id, userId: ann!.id, rating: 'up' });
    await feedback.record({ runId: voted.run.id, userId: bob!.id, rating: 'down' });
    await feedback.record({ runId: voted.run.id, userId: bob!.id, rating: 'up' });
    await feedback.record({ runId: voted.run.id, userId: cat!.id, rating: 'down' });
    // Yesterday one down, and an up ten days ago (outside the 7-day window but in the totals).
    await feedback.record({ runId: older.run.id, userId: ann!.id, rating: 'down' });
    await feedback.record({ runId: older.run.id, userId: bob!.id, rating: 'up' });
    await db.query(`UPDATE run_feedback SET updated_at = now() - interval '1 day' WHERE run_id = $1 AND user_id = $2`, [older.run.id, ann!.id]);
    await db.query(`UPDATE run_feedback SET updated_at = now() - interval '10 days' WHERE run_id = $1 AND user_id = $2`, [older.run.id, bob!.id]);

    const { body } = await get<FeedbackBody>('/console/api/feedback?days=7');
    expect(body.totals).toEqual({ up: 3, down: 2, share_up: 0.6 });
    const now = Date.parse(body.now);
    const today = new Date(now).toISOString().slice(0, 10);
    const yesterday = new Date(now - DAY).toISOString().slice(0, 10);
    expect(body.per_day.map((d) => d.day)).toEqual(
      Array.from({ length: 7 }, (_, i) => new Date(now - (6 - i) * DAY).toISOString().slice(0, 10)),
    );
    const byDay = new Map(body.per_day.map((d) => [d.day, d]));
    expect(byDay.get(today)).toEqual({ day: today, up: 2, down: 1, share_up: 2 / 3 });
    expect(byDay.get(yesterday)).toEqual({ day: yesterday, up: 0, down: 1, share_up: 0 });
    expect(body.per_day.filter((d) => d.share_up === null)).toHaveLength(5);

    expect(body.recent).toHaveLength(2);
    expect(body.recent[0]).toMatchObject({
      run_id: voted.run.id,
      session_id: denver.id,
      session_title: 'Boston → <b>Denver</b>',
      platform: 'slack',
      input: 'Move to Denver?',
      up: 2,
      down: 1,
      share_up: 2 / 3,
    });
    expect(body.recent[1]).toMatchObject({ run_id: older.run.id, session_title: 'Austin', up: 1, down: 1, share_up: 0.5 });
    expect(Date.parse(body.recent[0]!.last_vote_at)).toBeGreaterThan(Date.parse(body.recent[1]!.last_vote_at));
    expect(body.recent.map((r) => r.run_id)).not.toContain(unvoted.run.id);
    expect((await get<FeedbackBody>('/console/api/feedback?limit=1')).body.recent.map((r) => r.run_id)).toEqual([voted.run.id]);

    // A session's runs, oldest first, with their votes and the answer each wrote.
    const runs = await get<SessionRunsBody>(`/console/api/sessions/${denver.id}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.body.data).toEqual([
      expect.objectContaining({
        run_id: voted.run.id,
        status: 'completed',
        input: 'Move to Denver?',
        reply_message_id: voted.reply.id,
        up: 2,
        down: 1,
        share_up: 2 / 3,
      }),
      expect.objectContaining({ run_id: unvoted.run.id, reply_message_id: unvoted.reply.id, up: 0, down: 0, share_up: null }),
    ]);
    expect((await get('/console/api/sessions/no-such-session/runs')).status).toBe(404);
  });
});
