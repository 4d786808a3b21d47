/**
 * The `fetch` our outbound API clients use (the OpenAI SDK and Brave Search): undici's `request`
 * over a keep-alive pool, answered as a standard `Response`.
 *
 * Why not the global fetch: its WHATWG stream plumbing made it the largest single CPU cost of a turn
 * (~16 calls). Through the real OpenAI SDK a chat completion costs 2.6 ms of client CPU on the global
 * fetch and 1.3 ms on this one (`npm run bench:http`). Bodies are read whole before the `Response` is
 * built, which is what the callers do anyway; event streams (a streamed completion) stay streams so
 * tokens arrive as sent.
 * Anything this does not handle (a `Request` object, multipart or stream uploads) goes to the
 * global fetch unchanged.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { type Dispatcher, EnvHttpProxyAgent, interceptors, request } from 'undici';

export interface HttpFetchOptions {
  /** The connection pool; by default one shared `createHttpDispatcher()` for the process. */
  dispatcher?: Dispatcher;
}

/**
 * A keep-alive pool that follows up to 3 redirects (as the global fetch does; an OpenAI-compatible
 * server behind a gateway may send one) and honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY, so a
 * deployment behind a corporate proxy needs no code. Loopback is never proxied.
 */
export function createHttpDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const noProxy = [env.no_proxy ?? env.NO_PROXY, 'localhost', '127.0.0.1', '[::1]'].filter(Boolean).join(',');
  // undici's default idle timeout (4 s, as the global fetch): longer invites reusing a socket that a
  // server closed on its own idle timer, which fails a POST.
  return new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
    noProxy,
    // Like curl: http:// URLs go to the proxy as absolute-form requests, https:// ones through CONNECT.
    proxyTunnel: false,
  }).compose(interceptors.redirect({ maxRedirections: 3 }));
}

let sharedDispatcher: Dispatcher | undefined;
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= createHttpDispatcher();
  return sharedDispatcher;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  const dispatcher = options.dispatcher ?? defaultDispatcher();

  return async function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const body = init.body;
    const simpleBody = body == null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !simpleBody) return fetch(input, init);

    const url = String(input);
    const res = await request(url, {
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: plainHeaders(init.headers),
      body: body ?? undefined,
      signal: init.signal ?? undefined,
      dispatcher,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    if (NULL_BODY_STATUS.has(res.statusCode)) {
      res.body.resume();
      return withUrl(new Response(null, { status: res.statusCode, headers }), url);
    }
    const encoding = headers.get('content-encoding')?.trim().toLowerCase();
    const decode = encoding ? decoders[encoding] : undefined;
    if (decode) headers.delete('content-encoding');
    if (headers.get('content-type')?.includes('text/event-stream')) {
      const stream = decode ? res.body.pipe(streamDecoder(encoding!)) : res.body;
      return withUrl(
        new Response(Readable.toWeb(stream) as ReadableStream, { status: res.statusCode, headers }),
        url,
      );
    }
    let bytes: Buffer = Buffer.from(await res.body.arrayBuffer());
    if (decode) bytes = await decode(bytes);
    return withUrl(new Response(bytes as Uint8Array<ArrayBuffer>, { status: res.statusCode, headers }), url);
  };
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const pairs = headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of pairs as Iterable<[string, string | readonly string[]]>) {
    out[name.toLowerCase()] = typeof value === 'string' ? value : value.join(', ');
  }
  return out;
}

function streamDecoder(encoding: string) {
  if (encoding === 'br') return zlib.createBrotliDecompress();
  return encoding === 'deflate' ? zlib.createInflate() : zlib.createGunzip();
}

/** `Response.url` is read-only and empty for constructed responses; callers may log it. */
function withUrl(response: Response, url: string): Response {
  Object.defineProperty(response, 'url', { value: url });
  return response;
}
