import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Database } from '../db/database.js';
import { createApiRouter } from '../adapters/http/api-router.js';
import { createMetrics, type Metrics } from '../adapters/http/metrics.js';
import { createWebApp } from '../adapters/server/web-app.js';
import { createMessageQueue } from '../queue/producer.js';
import type { MessageQueue } from '../queue/message-queue.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import type { Memory, MemoryStore } from '../src/ports/memory-store.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { startTeamFakes, type TeamFakes } from './helpers/team-env.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The HTTP API as the web role serves it: the lead's web app (adapters/server/web-app.ts) with our
 * router mounted, a real runtime on a fresh Postgres database, the team's outside services faked,
 * and optionally a BullMQ queue on the real Redis.
 */
export interface ApiHarness {
  url: string;
  runtime: Runtime;
  fakes: TeamFakes;
  db: TestDatabase;
  metrics: Metrics;
  queue?: MessageQueue & { queue: Queue };
  memoryStore?: MemoryStore;
  close(): Promise<void>;
}

export async function startApi(
  options: {
    apiKey?: string;
    host?: string;
    memory?: boolean;
    queue?: boolean;
    rateLimit?: { burst: number; perSecond: number };
  } = {},
): Promise<ApiHarness> {
  const fakes = await startTeamFakes();
  const db = await createTestDatabase('postgres');
  const config = {
    ...loadConfig('cli', { ...fakes.env, DATABASE_URL: db.url!, REDIS_URL: process.env.REDIS_URL! }),
    agentosApiKey: options.apiKey,
  };
  const runtime = await createRuntime(config, { logger: silentLogger });
  const queue = options.queue
    ? createMessageQueue({ redisUrl: process.env.REDIS_URL!, queueName: `movebot-http-${randomUUID()}` })
    : undefined;
  const memoryStore = options.memory === false ? undefined : await memoryStoreFor(runtime.db);
  const metrics = createMetrics({ queue });
  const app = createWebApp({
    logger: silentLogger,
    db: runtime.db,
    queue,
    apiRouter: createApiRouter({ runtime, memoryStore, queue, metrics, rateLimit: options.rateLimit }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, options.host ?? '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    runtime,
    fakes,
    db,
    metrics,
    queue,
    memoryStore,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue?.queue.obliterate({ force: true }).catch(() => {});
      await queue?.close();
      await runtime.close();
      await fakes.close();
      await db.cleanup();
    },
  };
}

/**
 * The Postgres MemoryStore when its module exists (another helper is writing it), else a small SQL
 * stand-in over the same `memories` table, so the routes are tested against real rows either way.
 */
async function memoryStoreFor(db: Database): Promise<MemoryStore> {
  const modulePath = '../db/repositories/memory-repository.js';
  const mod = (await import(modulePath).catch(() => undefined)) as
    | Record<string, ((db: Database, ...rest: unknown[]) => MemoryStore) | undefined>
    | undefined;
  const factory = mod?.createMemoryStore ?? mod?.createMemoryRepository;
  if (factory) return factory(db);
  const toMemory = (r: Record<string, unknown>): Memory => ({
    id: String(r.id),
    userId: String(r.user_id),
    content: String(r.content),
    topic: String(r.topic),
    sourceMessageId: r.source_message_id == null ? null : String(r.source_message_id),
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
  });
  return {
    async add(userId, m) {
      const { rows } = await db.query('INSERT INTO memories (user_id, content, topic) VALUES ($1, $2, $3) RETURNING *', [
        userId,
        m.content,
        m.topic,
      ]);
      return toMemory(rows[0]!);
    },
    async update(userId, id, change) {
      const { rows } = await db.query(
        'UPDATE memories SET content = $3, topic = COALESCE($4, topic), updated_at = now() WHERE user_id = $1 AND id = $2 RETURNING id',
        [userId, id, change.content, change.topic ?? null],
      );
      return rows.length > 0;
    },
    async list(userId, o = {}) {
      const { rows } = await db.query(
        'SELECT * FROM memories WHERE user_id = $1 AND ($2::text IS NULL OR topic = $2) ORDER BY updated_at DESC, id DESC LIMIT $3 OFFSET $4',
        [userId, o.topic ?? null, o.limit ?? 20, o.offset ?? 0],
      );
      const n = await db.query<{ n: string }>('SELECT count(*) AS n FROM memories WHERE user_id = $1', [userId]);
      return { memories: rows.map(toMemory), total: Number(n.rows[0]?.n ?? 0) };
    },
    async get(userId, id) {
      const { rows } = await db.query('SELECT * FROM memories WHERE user_id = $1 AND id = $2', [userId, id]);
      return rows[0] ? toMemory(rows[0]) : undefined;
    },
    async nearest() {
      return [];
    },
    async searchText() {
      return [];
    },
    async remove(userId, ids) {
      const { rows } = await db.query('DELETE FROM memories WHERE user_id = $1 AND id = ANY($2::bigint[]) RETURNING id', [
        userId,
        ids,
      ]);
      return rows.length;
    },
    async removeAll(userId) {
      const { rows } = await db.query('DELETE FROM memories WHERE user_id = $1 RETURNING id', [userId]);
      return rows.length;
    },
  };
}

/** POSTs a run and parses the response with eventsource-parser (a real SSE parser) as it arrives. */
export async function streamRun(
  url: string,
  form: Record<string, string>,
  options: { headers?: Record<string, string>; onEvent?: (e: ParsedEvent) => void | Promise<void> } = {},
): Promise<{ status: number; contentType: string | null; events: ParsedEvent[] }> {
  const body = new FormData();
  for (const [k, v] of Object.entries(form)) body.append(k, v);
  const res = await fetch(url, { method: 'POST', body, headers: options.headers });
  const events: ParsedEvent[] = [];
  const pending: Array<void | Promise<void>> = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      const event = { name: message.event ?? 'message', data: JSON.parse(message.data) as Record<string, unknown> };
      events.push(event);
      pending.push(options.onEvent?.(event));
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
  }
  await Promise.all(pending);
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

export interface ParsedEvent {
  name: string;
  data: Record<string, unknown>;
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
