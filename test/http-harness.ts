import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { createApiRouter } from '../adapters/http/api-router.js';
import { createMetrics, type Metrics } from '../adapters/http/metrics.js';
import { createWebApp } from '../adapters/server/web-app.js';
import { workerDeps } from '../adapters/server/services.js';
import { createMessageQueue } from '../queue/producer.js';
import { createRedisRunCancellation, createRedisRunEventLog } from '../queue/run-event-stream.js';
import { createChatWorker } from '../queue/worker.js';
import type { RunCancellation, RunEventLog } from '../src/ports/run-events.js';
import type { MessageQueue } from '../src/ports/message-queue.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import type { MemoryStore } from '../src/ports/memory-store.js';
import { createRuntime, type Runtime } from '../adapters/server/runtime.js';
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
  queue: MessageQueue & { queue: Queue };
  events: RunEventLog;
  cancellation: RunCancellation;
  memoryStore?: MemoryStore;
  /** Stops the worker that answers API runs (tests that then own the queue). */
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startApi(
  options: {
    apiKey?: string;
    host?: string;
    memory?: boolean;
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
  // API runs are answered by a worker, as in production: the queue, the run event log and one worker.
  const redisUrl = process.env.REDIS_URL!;
  const queueName = `movebot-http-${randomUUID()}`;
  const queue = createMessageQueue({ redisUrl, queueName });
  const events = createRedisRunEventLog({ redisUrl, logger: silentLogger });
  const cancellation = createRedisRunCancellation({ redisUrl, logger: silentLogger });
  const worker = createChatWorker({
    ...workerDeps(runtime, events, cancellation),
    adapters: {},
    redisUrl,
    queueName,
    logger: silentLogger,
    threadRetryMs: 20,
  });
  const memoryStore = options.memory === false ? undefined : runtime.memoryStore;
  const metrics = createMetrics({ db: runtime.db, queue, feedback: runtime.feedback });
  const app = createWebApp({
    logger: silentLogger,
    db: runtime.db,
    pingRedis: () => queue.counts(),
    apiRouter: createApiRouter({
      runtime,
      events,
      cancellation,
      memoryStore: memoryStore ?? null,
      queue,
      metrics,
      rateLimit: options.rateLimit,
    }),
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
    events,
    cancellation,
    memoryStore,
    stopWorker: () => worker.close(5_000),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await worker.close(5_000);
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await Promise.all([events.close(), cancellation.close()]);
      await runtime.close();
      await fakes.close();
      await db.cleanup();
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
  for await (const event of sseEvents(res)) {
    events.push(event);
    pending.push(options.onEvent?.(event));
  }
  await Promise.all(pending);
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

export interface ParsedEvent {
  name: string;
  /** The SSE `id:` (resume with `Last-Event-ID`). */
  id?: string;
  data: Record<string, unknown>;
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** The SSE events of a response as they arrive; leaving the loop early drops the connection. */
export async function* sseEvents(res: Response): AsyncGenerator<ParsedEvent> {
  const queue: ParsedEvent[] = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      queue.push({ name: message.event ?? 'message', id: message.id, data: JSON.parse(message.data) as Record<string, unknown> });
    },
  });
  const decoder = new TextDecoder();
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    while (queue.length) yield queue.shift()!;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
