/**
 * Plumbing shared by the platform fakes (slack-fake.ts, discord-fake.ts): a node:http server on
 * 127.0.0.1 port 0 that tracks its sockets so `close()` never hangs on keep-alive connections, a
 * WebSocket endpoint per path (via `ws`), and body parsing for JSON, form-encoded and multipart bodies.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

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
  /** JSON object, or form fields (all strings), or the non-file multipart fields. */
  fields: Record<string, unknown>;
  /** Multipart parts (empty for other content types). */
  parts: MultipartPart[];
}

/** A running fake server. */
export interface FakeServer {
  /** The port chosen by the OS. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Terminates WebSocket clients, destroys open sockets and stops listening. */
  close(): Promise<void>;
}

export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: ParsedBody,
) => Promise<void> | void;

/** Starts a fake: `onRequest` for HTTP, and one WebSocket handler per upgrade path (query ignored). */
export async function startFakeServer(
  onRequest: RequestHandler,
  wsPaths: Record<string, (ws: WebSocket, req: IncomingMessage) => void> = {},
): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => onRequest(req, res, body))
      .catch((err: unknown) => {
        // A bug in the fake should fail the test loudly, not hang the SDK.
        if (!res.headersSent) sendJson(res, 500, { message: `fake server error: ${String(err)}` });
        else res.end();
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = wsPaths[path];
    if (!handler) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => handler(ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fake server has no TCP address');
  return {
    port: address.port,
    baseUrl: `http://127.0.0.1:${address.port}`,
    async close() {
      await closeWebSockets(wss);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 1_000);
  });
  await Promise.race([Promise.all(closed), timeout]);
  clearTimeout(timer);
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
    return { raw, fields: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, parts: [] };
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

/** Writes a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

/** Resolves after `ms` (0 resolves on the next macrotask); used only to simulate server latency. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds or `timeoutMs` passes; the bounded wait the house rules ask for. */
export async function waitFor<T>(
  condition: () => T | undefined | false | null,
  { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}
