import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore } from '../db/repositories/session-repository.js';
import type { SessionStore } from '../src/ports/session-store.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './helpers/test-db.js';

// SessionStore.forgetUserState: "forget everything" for thread state, one statement over all sessions.
describe.each<DbKind>(['postgres', 'pglite'])('forgetUserState on %s', (kind) => {
  let t: TestDatabase;
  let store: SessionStore;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    store = createSessionStore(t.db);
  });
  afterAll(() => t.cleanup());

  it("drops the user's profile and the recommendation made for them, in every session, and nothing of anyone else's", async () => {
    const ann = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'ann' });
    const bob = await store.upsertUser({ platform: 'slack', workspace: 'T1', platformUserId: 'bob' });
    const session = async (key: string, team?: Record<string, unknown>) => {
      const s = await store.getOrCreateSession({ threadKey: key, platform: 'slack' });
      if (team) await store.updateSession(s.id, { state: { team } });
      return s;
    };
    const profile = (income: number) => ({ annual_income: income, city_preferences: ['parks'] });
    const cities = { current_city: 'Seattle', desired_city: 'Austin' };
    // Made for Ann; Bob's own later recommendation; Ann only chatted (no team state); Bob alone.
    const mine = await session('t:1', {
      cities,
      profiles: { [ann.id]: profile(150_000), [bob.id]: profile(90_000) },
      last: { x: 1 },
      lastFor: ann.id,
    });
    const theirs = await session('t:2', {
      cities,
      profiles: { [ann.id]: profile(150_000), [bob.id]: profile(90_000) },
      last: { x: 2 },
      lastFor: bob.id,
    });
    const chatted = await session('t:3');
    await store.appendMessage(chatted.id, { role: 'user', content: 'hi', authorUserId: ann.id });
    await store.appendMessage(chatted.id, { role: 'user', content: 'hello', authorUserId: bob.id });
    const untouched = await session('t:4', { profiles: { [bob.id]: profile(90_000) } });
    const before = (await store.getSession(untouched.id))!;

    expect(await store.forgetUserState(ann.id)).toBe(3);

    const state = async (id: string) => (await store.getSession(id))!.state;
    expect(await state(mine.id)).toEqual({
      team: { cities, profiles: { [bob.id]: profile(90_000) } },
      forgotten: { [ann.id]: 0 },
    });
    expect(await state(theirs.id)).toEqual({
      team: { cities, profiles: { [bob.id]: profile(90_000) }, last: { x: 2 }, lastFor: bob.id },
      forgotten: { [ann.id]: 0 },
    });
    expect(await state(chatted.id)).toEqual({ forgotten: { [ann.id]: 2 } });
    expect(await store.getSession(untouched.id)).toEqual(before);

    // Forgetting again moves the mark on and keeps the others'.
    await store.forgetUserState(bob.id);
    expect(await state(chatted.id)).toEqual({ forgotten: { [ann.id]: 2, [bob.id]: 2 } });
  });
});
