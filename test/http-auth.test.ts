import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import express from 'express';
import { apiListenPolicy, createApiRouter } from '../adapters/http/api-router.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../adapters/http/auth.js';
import { type ApiHarness, bearer, startApi } from './http-harness.js';

const KEY = 'test-agentos-key-0123456789abcdef012345';

/** A GET with headers fetch() will not send (such as Host). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An address of this machine that is not loopback, to reach a server as a "remote" client would. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('with AGENTOS_API_KEY', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ apiKey: KEY, rateLimit: { burst: 1_000, perSecond: 100 } });
  });
  afterAll(() => api?.close());

  it('answers 401 with a JSON error without a key or with a wrong one, on every API path', async () => {
    for (const path of ['/teams', '/agents', '/config', '/sessions', '/memories?user_id=a', '/metrics', '/console/api/stats']) {
      const none = await fetch(`${api.url}${path}`);
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(await none.json()).toEqual({ error: 'unauthorized', message: 'Send Authorization: Bearer <AGENTOS_API_KEY>.', detail: 'Send Authorization: Bearer <AGENTOS_API_KEY>.' });
      for (const wrong of [`${KEY}x`, KEY.slice(0, -1), 'x', '']) {
        expect((await fetch(`${api.url}${path}`, { headers: bearer(wrong) })).status, `${path} ${wrong}`).toBe(401);
      }
      expect((await fetch(`${api.url}${path}`, { headers: { Authorization: KEY } })).status).toBe(401);
    }
    const run = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      body: new URLSearchParams({ message: 'Should I move from Seattle to Austin?' }),
    });
    expect(run.status).toBe(401);
    expect(api.fakes.openai.chatRequests).toHaveLength(0);
  });

  it('lets the right key through and leaves /health and CORS preflights open', async () => {
    expect((await fetch(`${api.url}/teams`, { headers: bearer(KEY) })).status).toBe(200);
    expect((await fetch(`${api.url}/teams`, { headers: { authorization: `bearer ${KEY}` } })).status).toBe(200);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const pre = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
  });

  it('serves the console page (no data in it) but its data only with the key', async () => {
    const page = await fetch(`${api.url}/console`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>movebot console</title>');
    expect((await fetch(`${api.url}/console/api/users`)).status).toBe(401);
    expect((await fetch(`${api.url}/console/api/users`, { headers: bearer(KEY) })).status).toBe(200);
  });

  it('answers /health with CORS headers when the router serves it (the Agent UI checks it from the browser)', async () => {
    // Mounted alone: the web app must mount the router before its own /health for this to hold there.
    const app = express().use(createApiRouter({ runtime: api.runtime, events: api.events, cancellation: api.cancellation, memoryStore: null }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, {
        headers: { Origin: 'http://localhost:3000', 'Content-Type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      expect(await res.json()).toEqual({ status: 'ok' });
    } finally {
      server.close();
    }
  });

  it('guards the API however a request spells its path (routing ignores case, slashes, escapes)', async () => {
    const created = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      headers: bearer(KEY),
      body: new URLSearchParams({ message: 'what do you remember about me?', stream: 'false', user_id: 'u1' }),
    });
    const { session_id } = (await created.json()) as { session_id: string };
    const spellings = ['/CONFIG', '/Teams', '/SESSIONS', '/config/', '//config', '/%63onfig', '/Memories?user_id=u1', '/METRICS', '/Console/api/stats'];
    for (const path of spellings) {
      const res = await fetch(`${api.url}${path}`);
      expect([401, 404], path).toContain(res.status);
    }
    for (const path of [`/Sessions/${session_id}`, `/SESSIONS/${session_id}`, `//sessions/${session_id}`]) {
      expect([401, 404], path).toContain((await fetch(`${api.url}${path}`, { method: 'DELETE' })).status);
    }
    expect((await fetch(`${api.url}/sessions/${session_id}`, { headers: bearer(KEY) })).status).toBe(200);
    const run = await fetch(`${api.url}/TEAMS/move-decision-team/runs`, {
      method: 'POST',
      body: new URLSearchParams({ message: 'Should I move from Seattle to Austin?' }),
    });
    expect([401, 404]).toContain(run.status);
    expect(api.fakes.openai.chatRequests).toHaveLength(0);
  });

  it('does not guard paths that are not the API’s (they fall through to the app’s 404)', async () => {
    const res = await fetch(`${api.url}/slack/other`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'No such endpoint.', detail: 'No such endpoint.' });
  });
});

describe('rate limiting', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ apiKey: KEY, rateLimit: { burst: 3, perSecond: 0.001 } });
  });
  afterAll(() => api?.close());

  it('answers 429 with Retry-After once a key has spent its burst', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${api.url}/agents`, { headers: bearer(KEY) })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const res = await fetch(`${api.url}/agents`, { headers: bearer(KEY) });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: string }).error).toBe('rate_limited');
    // Wrong keys spend from their address's own bucket, not the key's: guessing is limited too.
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) guesses.push((await fetch(`${api.url}/agents`, { headers: bearer(`nope${i}`) })).status);
    expect(guesses).toEqual([401, 401, 401, 429]);
  });
});

describe('without a key', () => {
  it('binds to loopback and warns; an explicit HOST is kept but the API stays loopback-only', () => {
    const keyless = apiListenPolicy({ agentosApiKey: undefined, host: undefined });
    expect(keyless.host).toBe('127.0.0.1');
    expect(keyless.warning).toMatch(/AGENTOS_API_KEY is not set.*only requests from this machine/);
    const explicit = apiListenPolicy({ agentosApiKey: undefined, host: '0.0.0.0' });
    expect(explicit.host).toBe('0.0.0.0');
    expect(explicit.warning).toMatch(/HOST=0\.0\.0\.0 exposes \/health and platform endpoints only/);
    expect(apiListenPolicy({ agentosApiKey: 'k', host: undefined })).toEqual({ host: '0.0.0.0' });
    expect(apiListenPolicy({ agentosApiKey: 'k', host: '10.0.0.5' })).toEqual({ host: '10.0.0.5' });
  });

  it('recognises loopback addresses only', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['192.0.2.2', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::2', '1127.0.0.1', '', undefined]) {
      expect(isLoopback(a), String(a)).toBe(false);
    }
  });

  describe('on a server listening on every interface', () => {
    let api: ApiHarness;
    const external = externalAddress();
    beforeAll(async () => {
      api = await startApi({ host: '0.0.0.0' });
    });
    afterAll(() => api?.close());

    it('answers requests from this machine', async () => {
      expect((await fetch(`${api.url}/teams`)).status).toBe(200);
      expect((await fetch(`${api.url}/teams`, { headers: { Origin: 'http://localhost:3000' } })).status).toBe(200);
    });

    it('refuses web pages of other sites, even through loopback or a rebound DNS name', async () => {
      const fromPage = await fetch(`${api.url}/sessions`, { headers: { Origin: 'https://evil.example' } });
      expect(fromPage.status).toBe(403);
      expect(((await fromPage.json()) as { error: string }).error).toBe('forbidden');
      const rebound = await rawGet(api.url, '/sessions', { Host: `evil.example:${new URL(api.url).port}` });
      expect(rebound.status).toBe(403);
      expect(rebound.body).not.toContain('"data"');
    });

    it('refuses a request arriving from a non-loopback address with 403 JSON', async () => {
      expect(external, 'this test needs a non-loopback IPv4 interface on the machine').toBeDefined();
      const port = new URL(api.url).port;
      for (const path of ['/teams', '/sessions', '/console', '/console/api/users']) {
        const res = await fetch(`http://${external}:${port}${path}`);
        expect(res.status, path).toBe(403);
        expect(((await res.json()) as { error: string }).error).toBe('forbidden');
      }
      // Health checks still work from a load balancer.
      expect((await fetch(`http://${external}:${port}/health`)).status).toBe(200);
    });
  });
});
