import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpDispatcher, createHttpFetch } from '../src/net/http-fetch.js';
import { type FakeExchange, type HttpFake, sendJson, startHttpFake } from './fakes/fake-http.js';

const httpFetch = createHttpFetch();
const seen: FakeExchange[] = [];
let releaseStream: () => void = () => {};
let server: HttpFake;

beforeAll(async () => {
  server = await startHttpFake('http-fetch-test', async (ex) => {
    seen.push(ex);
    const { res, url } = ex;
    switch (url.pathname) {
      case '/json':
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        return sendJson(res, 201, { echo: ex.body, method: ex.req.method });
      case '/empty':
        res.writeHead(204).end();
        return;
      case '/gzip':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(JSON.stringify({ compressed: true })));
        return;
      case '/redirect':
        res.writeHead(302, { location: '/json' }).end();
        return;
      case '/slow':
        await new Promise<void>((resolve) => ex.signal.addEventListener('abort', () => resolve()));
        return;
      case '/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        await new Promise<void>((resolve) => (releaseStream = resolve));
        res.end('data: second\n\n');
        return;
      }
      default:
        return sendJson(res, 404, { error: 'no such path' });
    }
  });
});
afterAll(() => server.close());

describe('http fetch', () => {
  it('sends method, headers and body, and answers a standard Response', async () => {
    for (const headers of [
      new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer k1' }),
      { 'Content-Type': 'application/json', Authorization: 'Bearer k1' },
      [
        ['Content-Type', 'application/json'],
        ['Authorization', 'Bearer k1'],
      ] as [string, string][],
    ]) {
      const res = await httpFetch(`${server.url}/json`, { method: 'post', headers, body: '{"q":1}' });
      expect(res.status).toBe(201);
      expect(res.ok).toBe(true);
      expect(res.url).toBe(`${server.url}/json`);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      expect(await res.json()).toEqual({ echo: { q: 1 }, method: 'POST' });
      expect(seen.at(-1)!.req.headers.authorization).toBe('Bearer k1');
    }
  });

  it('gives a 204 a null body, decodes gzip and follows a redirect', async () => {
    const empty = await httpFetch(`${server.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();

    const gzip = await httpFetch(`${server.url}/gzip`);
    expect(await gzip.json()).toEqual({ compressed: true });
    expect(gzip.headers.get('content-encoding')).toBeNull();

    const redirected = await httpFetch(`${server.url}/redirect`);
    expect(redirected.status).toBe(201);
    expect(await redirected.json()).toMatchObject({ method: 'GET' });
  });

  it('hands an event stream over as it arrives', async () => {
    const res = await httpFetch(`${server.url}/events`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // The server holds the second event back until the first one has been read here.
    expect(decoder.decode((await reader.read()).value)).toBe('data: first\n\n');
    releaseStream();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(rest).toBe('data: second\n\n');
  });

  it('fails like fetch: AbortError, TimeoutError, and a network error', async () => {
    const controller = new AbortController();
    const pending = httpFetch(`${server.url}/slow`, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(httpFetch(`${server.url}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await expect(httpFetch('http://127.0.0.1:1/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('leaves multipart uploads to the global fetch', async () => {
    const form = new FormData();
    form.set('field', 'value');
    const res = await httpFetch(`${server.url}/json`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    expect(seen.at(-1)!.parts.map((p) => [p.name, p.data.toString()])).toEqual([['field', 'value']]);
  });

  it('goes through HTTP_PROXY when one is set, except to loopback and NO_PROXY hosts', async () => {
    const proxied: string[] = [];
    const proxy = await startHttpFake('proxy', ({ req, res }) => {
      proxied.push(req.url!);
      sendJson(res, 200, { via: 'proxy' });
    });
    try {
      const viaProxy = createHttpFetch({
        dispatcher: createHttpDispatcher({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.2' }),
      });
      const res = await viaProxy('http://api.example.test/v1/models');
      expect(await res.json()).toEqual({ via: 'proxy' });
      // A forward proxy is sent the absolute URL.
      expect(proxied).toEqual(['http://api.example.test/v1/models']);

      const direct = await viaProxy(`${server.url}/json`);
      expect(direct.status).toBe(201);
      // NO_PROXY goes direct (nothing listens on 127.0.0.2 here, so it is refused), not to the proxy.
      await expect(viaProxy(`http://127.0.0.2:${server.port}/json`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(proxied).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
