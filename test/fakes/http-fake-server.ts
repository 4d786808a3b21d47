/**
 * Building blocks shared by the local fake servers (openai-fake, firecrawl-fake, brave-fake).
 * Tests normally use those fakes, not this file; reach for it when writing a new fake.
 *
 *   const server = await startHttpFake('my-fake', async ({ req, res, url, body, signal }) => {
 *     sendJson(res, 200, { ok: true });
 *   });
 *   server.url;            // 'http://127.0.0.1:54321'
 *   await server.close();  // destroys open sockets, aborts `signal`: never hangs on keep-alive or SSE
 *
 * - `createRequestLog<T>()`: an append-only list of recorded requests with `waitFor(n)`, which resolves
 *   when n entries exist (event-driven, bounded by a timeout) so tests never sleep to synchronise.
 * - `createFailureQueue()`: `failNext(status | 'reset', body?, count?)` bookkeeping; 'reset' destroys the
 *   socket without a response, which clients see as a network error.
 * - `createInFlight()`: counts concurrent requests and remembers the peak (`maxInFlight`).
 * - `delay(ms, signal)`: waits, but returns early when the client goes away or the server closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Milliseconds since the epoch with sub-millisecond precision, for request timestamps. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface FakeExchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The parsed request URL (path and query). */
  url: URL;
  /** The body parsed as JSON when it is JSON, the raw text otherwise ('' when empty). */
  body: unknown;
  /** Aborted when the client disconnects or the server closes; long waits and streams must stop. */
  signal: AbortSignal;
}

export interface HttpFake {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`. */
  url: string;
  port: number;
  /** Stops listening, destroys every open connection and aborts pending handlers. Idempotent. */
  close(): Promise<void>;
}

/** Starts a plain node:http server on 127.0.0.1, port 0. Handler errors become a 500 naming the fake. */
export async function startHttpFake(
  name: string,
  handle: (ex: FakeExchange) => Promise<void>,
): Promise<HttpFake> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const server = createServer((req, res) => {
    void serve(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientGone = new AbortController();
    // `close` on the response fires both on normal completion and on a client disconnect.
    res.once('close', () => clientGone.abort());
    const signal = AbortSignal.any([clientGone.signal, closing.signal]);
    try {
      const text = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      await handle({ req, res, url, body: parseBody(text), signal });
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: `${name}: handler threw: ${err instanceof Error ? err.message : err}` });
      } else {
        res.destroy();
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

/** Resolves after `ms`, or at once when `signal` aborts (callers check `signal.aborted` afterwards). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RequestLog<T> {
  /** Every recorded entry, oldest first. The array is live: it grows as requests arrive. */
  readonly entries: T[];
  add(entry: T): void;
  /** Resolves with the entries once at least `count` exist; rejects after `timeoutMs` (default 5 s). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  clear(): void;
}

export function createRequestLog<T>(name: string): RequestLog<T> {
  const entries: T[] = [];
  const waiters = new Set<() => void>();
  return {
    entries,
    add(entry) {
      entries.push(entry);
      for (const wake of [...waiters]) wake();
    },
    waitFor(count, timeoutMs = 5_000) {
      if (entries.length >= count) return Promise.resolve(entries);
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (entries.length < count) return;
          cleanup();
          resolve(entries);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: waited ${timeoutMs} ms for ${count} requests, saw ${entries.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    clear() {
      entries.length = 0;
    },
  };
}

/** One injected failure: an HTTP status with a body, or a dropped connection. */
export interface InjectedFailure {
  status: number | 'reset';
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests of this kind consume the failure (e.g. 'chat' vs 'embeddings'); any when absent. */
  only?: string;
}

/** What `failNext` accepts besides the status. */
export interface FailNextOptions {
  /** The JSON error body; each fake has a realistic default per status. */
  body?: unknown;
  /** How many consecutive requests fail (default 1). */
  count?: number;
  headers?: Record<string, string>;
}

export interface FailureQueue {
  /** Queues `count` failures, served to the next requests before any normal reply. */
  push(failure: InjectedFailure, count: number): void;
  /** The next queued failure that applies to `kind`, consumed; undefined when none is queued. */
  take(kind?: string): InjectedFailure | undefined;
  clear(): void;
  readonly pending: number;
}

export function createFailureQueue(): FailureQueue {
  const queue: InjectedFailure[] = [];
  return {
    push(failure, count) {
      for (let i = 0; i < count; i++) queue.push(failure);
    },
    take(kind) {
      const index = queue.findIndex((f) => f.only === undefined || f.only === kind);
      return index < 0 ? undefined : queue.splice(index, 1)[0];
    },
    clear() {
      queue.length = 0;
    },
    get pending() {
      return queue.length;
    },
  };
}

/** Serves an injected failure: JSON body (or `defaultBody(status)`), or a destroyed socket for 'reset'. */
export function serveFailure(
  res: ServerResponse,
  failure: InjectedFailure,
  defaultBody: (status: number) => unknown,
): void {
  if (failure.status === 'reset') {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  sendJson(res, failure.status, failure.body ?? defaultBody(failure.status), failure.headers);
}

export interface InFlight {
  enter(): void;
  leave(): void;
  readonly current: number;
  /** The largest number of requests the fake was handling at once since start (or `resetPeak`). */
  readonly peak: number;
  resetPeak(): void;
}

export function createInFlight(): InFlight {
  let current = 0;
  let peak = 0;
  return {
    enter() {
      current++;
      peak = Math.max(peak, current);
    },
    leave() {
      current--;
    },
    get current() {
      return current;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = current;
    },
  };
}

/** The Bearer token of a request, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1];
}
