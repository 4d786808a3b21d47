/**
 * The one HTTP server every local fake is built on (openai, firecrawl, brave, slack, discord).
 * Tests normally use those fakes, not this file; reach for it when writing a new fake.
 *
 *   const server = await startHttpFake('my-fake', async ({ req, res, url, body, fields, signal }) => {
 *     sendJson(res, 200, { ok: true });
 *   }, { webSockets: { '/socket': (ws, req) => ws.send('hello') } });
 *   server.url;            // 'http://127.0.0.1:54321'
 *   await server.close();  // closes WebSockets, destroys open sockets, aborts `signal`: never hangs
 *
 * Bodies arrive decoded both ways a fake may want them: `body` (JSON when it parses, else the text) for
 * JSON APIs, and `raw`/`fields`/`parts` (JSON object, form fields or multipart parts) for Slack's
 * form-encoded Web API and discord.js's multipart uploads. Request logs, injected failures and the
 * in-flight peak live in fake-bookkeeping.ts; `waitFor` here is the bounded polling helper for tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** Milliseconds since the epoch with sub-millisecond precision, for request timestamps. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One part of a multipart/form-data body. */
export interface MultipartPart {
  /** The form field name, e.g. `files[0]` or `payload_json`. */
  name: string;
  /** Present for file parts. */
  filename?: string;
  /** The part's own Content-Type, when it has one. */
  contentType?: string;
  /** Raw bytes of the part. */
  data: Buffer;
}

/** A request body decoded according to its Content-Type. */
export interface ParsedBody {
  /** Raw bytes as received. */
  raw: Buffer;
  /** JSON object, or form fields (all strings), or the non-file multipart fields; {} otherwise. */
  fields: Record<string, unknown>;
  /** Multipart parts (empty for other content types). */
  parts: MultipartPart[];
}

/** One request as a fake's handler sees it. */
export interface FakeExchange extends ParsedBody {
  /** The incoming request (method, headers). */
  req: IncomingMessage;
  /** The response to write. */
  res: ServerResponse;
  /** The parsed request URL (path and query). */
  url: URL;
  /** The body parsed as JSON when it is JSON, the raw text otherwise ('' when empty). */
  body: unknown;
  /** Aborted when the client disconnects or the server closes; long waits and streams must stop. */
  signal: AbortSignal;
}

/** A running fake server. */
export interface HttpFake {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** The port chosen by the OS. */
  port: number;
  /** Closes WebSocket clients, destroys every open connection and aborts pending handlers. Idempotent. */
  close(): Promise<void>;
}

/** Handles a WebSocket connection upgraded on one path. */
export type WebSocketHandler = (ws: WebSocket, req: IncomingMessage) => void;

/** Options for `startHttpFake`. */
export interface HttpFakeOptions {
  /** One WebSocket handler per upgrade path (query ignored); other upgrades are refused. */
  webSockets?: Record<string, WebSocketHandler>;
}

/** Starts a node:http server on 127.0.0.1, port 0. Handler errors become a 500 naming the fake. */
export async function startHttpFake(
  name: string,
  handle: (ex: FakeExchange) => Promise<void> | void,
  options: HttpFakeOptions = {},
): Promise<HttpFake> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    void serve(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    const handler = options.webSockets?.[new URL(req.url ?? '/', 'http://x').pathname];
    if (!handler) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => handler(ws, req));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientGone = new AbortController();
    // `close` on the response fires both on normal completion and on a client disconnect.
    res.once('close', () => clientGone.abort());
    const signal = AbortSignal.any([clientGone.signal, closing.signal]);
    try {
      const parsed = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      await handle({ req, res, url, body: parseText(parsed.raw.toString('utf8')), ...parsed, signal });
    } catch (err) {
      // A bug in the fake should fail the test loudly, not hang the SDK. `error` is what the OpenAI,
      // Firecrawl, Brave and Slack clients report; `message` is what discord.js reports.
      const text = `${name}: handler threw: ${err instanceof Error ? err.message : err}`;
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: text, message: text });
      else res.destroy();
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
      closed ??= (async () => {
        closing.abort();
        await closeWebSockets(wss);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await stopped;
      })();
      return closed;
    },
  };
}

/** Closes WebSocket clients with a handshake so SDKs see a clean close; terminates stragglers. */
async function closeWebSockets(wss: WebSocketServer): Promise<void> {
  const clients = [...wss.clients];
  const closed = clients.map(
    (client) => new Promise<void>((resolve) => client.once('close', () => resolve())),
  );
  for (const client of clients) client.close(1001, 'fake server shutting down');
  await Promise.race([Promise.all(closed), delay(1_000)]);
  for (const client of wss.clients) client.terminate();
  wss.close();
}

async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { raw, fields: {}, parts: [] };
  if (type.startsWith('application/json')) {
    const json = parseText(raw.toString('utf8'));
    return {
      raw,
      fields: json && typeof json === 'object' ? (json as Record<string, unknown>) : {},
      parts: [],
    };
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { raw, fields: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))), parts: [] };
  }
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
  if (type.startsWith('multipart/form-data') && boundary) {
    const parts = parseMultipart(raw, boundary[1] ?? boundary[2] ?? '');
    const fields: Record<string, unknown> = {};
    for (const part of parts) if (part.filename === undefined) fields[part.name] = part.data.toString('utf8');
    return { raw, fields, parts };
  }
  return { raw, fields: {}, parts: [] };
}

function parseText(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Splits a multipart body on its boundary; enough for what undici's FormData produces. */
export function parseMultipart(raw: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const afterDelimiter = start + delimiter.length;
    if (raw.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, afterDelimiter);
    if (next === -1) break;
    // Each part is "\r\n<headers>\r\n\r\n<data>\r\n" between two delimiters.
    const section = raw.subarray(afterDelimiter + 2, next - 2);
    const headerEnd = section.indexOf('\r\n\r\n');
    const headers = section.subarray(0, headerEnd).toString('utf8');
    const data = section.subarray(headerEnd + 4);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim();
    parts.push({
      name,
      data: Buffer.from(data),
      ...(filename !== undefined && { filename }),
      ...(contentType && { contentType }),
    });
    start = next;
  }
  return parts;
}

/** Writes a JSON response (nothing when the client has already gone). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

/** The Bearer token of a request, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (callers check `signal.aborted` afterwards).
 * Used to simulate server latency, never to synchronise a test.
 */
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

type Maybe<T> = T | undefined | false | null;

/**
 * Polls `condition` (synchronous or async) until it returns a truthy value, which it resolves with, or
 * rejects once `timeoutMs` has passed; the bounded wait the house rules ask for.
 */
export async function waitFor<T>(
  condition: () => Maybe<T> | Promise<Maybe<T>>,
  { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}
