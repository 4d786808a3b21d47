import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventCallbackEnvelope, postSigned } from './fakes/slack-wire.js';
import { isAnswered, shownText, waitForBotReplies } from './helpers/slack-thread.js';
import { SLACK_SIGNING_SECRET, startSystem, type TestSystem } from './helpers/system.js';
import { type ApiHarness, bearer, startApi } from './http-harness.js';

// Issue 12, item 6: safe defaults. Keyless, the API trusts a loopback socket; a reverse proxy on the
// same machine makes every caller on the network a loopback socket, so a request that says it came
// through a proxy is refused. Slack's signed endpoint is not the API and works behind one. Every API
// and console response forbids caching, framing and sniffing.

const KEY = 'proxy-keyless-test-key-0123456789abcdef';

/** One of each header a forwarding proxy adds (nginx, Apache, Caddy, HAProxy, RFC 7239). */
const PROXY_HEADERS: Array<Record<string, string>> = [
  { Forwarded: 'for=203.0.113.9;proto=https' },
  { 'X-Forwarded-For': '203.0.113.9' },
  { 'X-Real-IP': '203.0.113.9' },
  { Via: '1.1 nginx' },
];

/** A request with exactly the headers given (fetch would refuse to send Via or a chosen Host). */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const API_PATHS = ['/teams', '/agents', '/config', '/sessions', '/memories?user_id=a', '/metrics', '/console/api/users', '/console'];

describe('keyless API behind a reverse proxy', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ rateLimit: { burst: 1_000, perSecond: 100 } });
  });
  afterAll(() => api?.close());

  it('refuses every API path and the console with 403 JSON telling the operator to set AGENTOS_API_KEY', async () => {
    for (const headers of PROXY_HEADERS) {
      for (const path of API_PATHS) {
        const res = await raw(api.url, path, { headers });
        const what = `${path} ${Object.keys(headers)[0]}`;
        expect(res.status, what).toBe(403);
        const body = JSON.parse(res.body) as { error: string; message: string; detail: string };
        expect(body.error, what).toBe('forbidden');
        expect(body.detail, what).toContain('Set AGENTOS_API_KEY');
        expect(body.detail, what).toMatch(/proxy/);
        expect(body.message).toBe(body.detail);
      }
    }
    // The same requests without the proxy's headers are answered: only the proxied ones are refused.
    for (const path of API_PATHS) expect((await raw(api.url, path)).status, path).toBe(200);
  });

  it('starts no run for a proxied POST, and leaves /health open', async () => {
    const before = api.fakes.openai.chatRequests.length;
    const run = await raw(api.url, '/teams/move-decision-team/runs', {
      method: 'POST',
      headers: { 'X-Forwarded-For': '203.0.113.9', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ message: 'Should I move from Seattle to Austin?', stream: 'false' }).toString(),
    });
    expect(run.status).toBe(403);
    expect(api.fakes.openai.chatRequests.length).toBe(before);
    const health = await raw(api.url, '/health', { headers: { 'X-Forwarded-For': '203.0.113.9', Via: '1.1 nginx' } });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
  });
});

describe('API with a key behind a reverse proxy', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ apiKey: KEY, rateLimit: { burst: 1_000, perSecond: 100 } });
  });
  afterAll(() => api?.close());

  it('answers proxied requests that carry the key, and only those', async () => {
    for (const headers of PROXY_HEADERS) {
      expect((await raw(api.url, '/sessions', { headers: { ...headers, ...bearer(KEY) } })).status).toBe(200);
      expect((await raw(api.url, '/sessions', { headers })).status).toBe(401);
    }
  });

  it('sends no-store, nosniff and no-framing headers with every response holding personal data', async () => {
    const created = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      headers: bearer(KEY),
      body: new URLSearchParams({ message: 'what do you remember about me?', stream: 'false', user_id: 'hdr' }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { session_id, run_id } = (await created.json()) as { session_id: string; run_id: string };
    const paths = [
      `/sessions?user_id=hdr`,
      `/sessions/${session_id}`,
      `/sessions/${session_id}/runs`,
      `/memories?user_id=hdr`,
      `/teams/move-decision-team/runs/${run_id}`,
      `/teams/move-decision-team/runs/${run_id}/stream`,
      '/console/api/users',
      `/console/api/sessions/${session_id}/runs`,
      '/metrics',
    ];
    for (const path of paths) {
      const res = await fetch(`${api.url}${path}`, { headers: bearer(KEY) });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toMatch(/^no-store\b/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      await res.body?.cancel();
    }
    // Refusals too: a 401 must not be cached by a proxy and served to the next caller.
    const refused = await fetch(`${api.url}/sessions`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves the console page unframeable, with its own script policy', async () => {
    const page = await fetch(`${api.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    await page.body?.cancel();
  });
});

describe("Slack's signed events behind a reverse proxy, keyless", () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ platforms: ['slack'], slackStreaming: false });
  });
  afterAll(() => system?.close());

  it('answers a mention that arrives through the proxy while the API refuses the same proxy', async () => {
    const slack = system.slack!;
    const mention = slack.mentionEvent({ channel: 'CPROXY', user: 'UPROXY', text: 'Should I move from Seattle to Austin?' });
    const envelope = eventCallbackEnvelope(mention, { teamId: slack.teamId, botUserId: slack.botUserId, appId: slack.appId });
    const delivery = await postSigned(system.slackEventsUrl, JSON.stringify(envelope), {
      signingSecret: SLACK_SIGNING_SECRET,
      contentType: 'application/json',
      headers: { 'x-forwarded-for': '54.80.0.1', 'x-real-ip': '54.80.0.1', forwarded: 'for=54.80.0.1' },
    });
    expect(delivery.status).toBe(200);
    const [reply] = await waitForBotReplies(slack, 'CPROXY', mention.ts, (r) => r[0] !== undefined && isAnswered(r[0]));
    expect(shownText(reply)).toContain('Austin');

    // A forged event through the same proxy is still refused by its signature.
    const forged = await postSigned(system.slackEventsUrl, JSON.stringify(envelope), {
      signingSecret: SLACK_SIGNING_SECRET,
      badSignature: true,
      contentType: 'application/json',
      headers: { 'x-forwarded-for': '54.80.0.1' },
    });
    expect(forged.status).toBe(401);

    const base = system.services.url!;
    const sessions = await raw(base, '/sessions', { headers: { 'X-Forwarded-For': '54.80.0.1' } });
    expect(sessions.status).toBe(403);
    expect((await raw(base, '/sessions')).status).toBe(200);
  });
});
