import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { describeError, isMovebotError, type MovebotError } from '../src/errors.js';
import { createBraveSearch, toPlainText } from '../src/tools/brave-search.js';
import { type BraveFake, createBraveFake } from './fakes/brave-fake.js';

const KEY = 'brave-secret-key-123456';

let fake: BraveFake;

beforeEach(async () => {
  fake = await createBraveFake({ apiKey: KEY });
});

afterEach(async () => {
  await fake.close();
});

function client(overrides: Partial<Parameters<typeof createBraveSearch>[0]> = {}) {
  return createBraveSearch({
    apiKey: KEY,
    apiUrl: fake.apiUrl,
    clock: systemClock,
    minIntervalMs: 0,
    ...overrides,
  });
}

async function searchError(promise: Promise<unknown>): Promise<MovebotError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMovebotError(error)) throw new Error(`expected a MovebotError, got ${inspect(error)}`);
  // Whatever went wrong, the key must not travel with the error (messages and causes end up in logs).
  expect(inspect(error, { depth: 10 })).not.toContain(KEY);
  expect(describeError(error)).not.toContain(KEY);
  return error;
}

describe('brave search client', () => {
  it('sends the query, count and key, and returns plain-text results', async () => {
    fake.setResults(() => [
      {
        title: 'Moving from <strong>Boston</strong> to Austin &amp; regrets',
        url: 'https://www.reddit.com/r/Austin/comments/abc123/moving/',
        description: 'I <strong>moved</strong> last year &#8212; rent is &quot;way&quot; lower &#x2764;',
        extra_snippets: ['Summers are <em>hot</em>.', 'Summers are <em>hot</em>.', 'Traffic&nbsp;is bad.'],
      },
      { title: 'bad', url: 'javascript:alert(1)', description: 'dropped' },
    ]);

    const results = await client().search('  site:reddit.com Boston to Austin ', { count: 5 });

    expect(results).toEqual([
      {
        title: 'Moving from Boston to Austin & regrets',
        url: 'https://www.reddit.com/r/Austin/comments/abc123/moving/',
        snippet: 'I moved last year — rent is "way" lower ❤ Summers are hot. Traffic is bad.',
      },
    ]);
    const [request] = fake.requests;
    expect(request?.q).toBe('site:reddit.com Boston to Austin');
    expect(request?.count).toBe(5);
    expect(request?.token).toBe(KEY);
    expect(request?.headers.accept).toBe('application/json');
  });

  it('caps counts to what Brave accepts and trims long snippets', async () => {
    fake.setResults(() => [{ title: 't', url: 'https://example.com/a', description: 'word '.repeat(400) }]);
    const [result] = await client().search('long', { count: 50 });
    expect(fake.requests[0]?.count).toBe(20);
    expect(result?.snippet.length).toBeLessThanOrEqual(600);
    expect(result?.snippet.endsWith('…')).toBe(true);
  });

  it('builds a search URL without the key', () => {
    const url = client().searchUrl('site:reddit.com a b', { count: 10 });
    expect(url).toBe(`${fake.apiUrl}/web/search?q=site%3Areddit.com+a+b&count=10`);
    expect(url).not.toContain(KEY);
  });

  it('spaces requests at least minIntervalMs apart across concurrent callers', async () => {
    const interval = 60;
    // The fake also enforces a (smaller) interval, as Brave does: a throttle failure would show as 429s.
    await fake.close();
    fake = await createBraveFake({ apiKey: KEY, minIntervalMs: 40 });
    const search = client({ minIntervalMs: interval });

    const all = await Promise.all(['a', 'b', 'c', 'd'].map((q) => search.search(q)));

    expect(all.every((results) => results.length > 0)).toBe(true);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const arrivals = fake.requests.map((r) => r.receivedAt).sort((x, y) => x - y);
    for (let i = 1; i < arrivals.length; i++) {
      // A few ms of slack for timer and loopback jitter; unthrottled requests arrive ~1 ms apart.
      expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(interval - 5);
    }
  });

  it('maps 429 to a transient rate_limited error', async () => {
    fake.rateLimitAfter(0);
    const error = await searchError(client().search('q'));
    expect(error.code).toBe('rate_limited');
    expect(error.transient).toBe(true);
  });

  it('maps 5xx to a transient search_failed error', async () => {
    fake.failNext(503);
    const error = await searchError(client().search('q'));
    expect(error.code).toBe('search_failed');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('503');
  });

  it('maps a rejected key to a permanent search_failed error without echoing the key', async () => {
    const error = await searchError(client({ apiKey: 'wrong-key-abcdef' }).search('q'));
    expect(error.code).toBe('search_failed');
    expect(error.transient).toBe(false);
    expect(inspect(error, { depth: 10 })).not.toContain('wrong-key-abcdef');
  });

  it('scrubs the key even when the upstream error echoes it', async () => {
    fake.failNext(400, {
      body: { type: 'ErrorResponse', error: { code: 'BAD', detail: `token ${KEY} rejected` } },
    });
    const error = await searchError(client().search('q'));
    expect(error.transient).toBe(false);
    expect(String((error.cause as Error).message)).toContain('[redacted]');
  });

  it('maps a dropped connection to a transient search_failed error', async () => {
    fake.failNext('reset');
    const error = await searchError(client().search('q'));
    expect(error.code).toBe('search_failed');
    expect(error.transient).toBe(true);
  });

  it('gives up after timeoutMs with a transient search_failed error', async () => {
    fake.setLatency(30_000);
    const error = await searchError(client({ timeoutMs: 100 }).search('q'));
    expect(error.code).toBe('search_failed');
    expect(error.message).toContain('timed out');
    expect(error.transient).toBe(true);
  });

  it('treats a response without web results as no results', async () => {
    fake.setResults(() => []);
    expect(await client().search('nothing')).toEqual([]);
  });

  it('rejects an empty query without a request', async () => {
    const error = await searchError(client().search('   '));
    expect(error.code).toBe('bad_request');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('toPlainText', () => {
  it('strips tags, decodes entities and collapses whitespace', () => {
    expect(toPlainText('<b>Rent</b>&nbsp;is\n <i>high</i> &lt;3 &amp;&amp; &unknown; &#0;')).toBe(
      'Rent is high <3 && &unknown; &#0;',
    );
  });
});
