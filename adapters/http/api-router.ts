import { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { MessageQueue } from '../../src/ports/message-queue.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { MemoryStore } from '../../src/ports/memory-store.js';
import type { RunCancellation, RunEventLog } from '../../src/ports/run-events.js';
import type { Runtime } from '../server/runtime.js';
import { createApiGuard, cors, isLoopback, PROXIED_KEYLESS, proxiedRequest } from './auth.js';
import { catalogRoutes } from './catalog.js';
import { consoleRoutes } from './console-routes.js';
import { jsonErrorHandler, sendError } from './http-errors.js';
import { memoryRoutes } from './memories.js';
import { createMetrics, type Metrics } from './metrics.js';
import { runRoutes } from './runs.js';
import { setSecurityHeaders } from './security-headers.js';
import { sessionRoutes } from './sessions.js';

export { apiListenPolicy, type ListenPolicy } from './auth.js';
export { createMetrics, type Metrics } from './metrics.js';

export interface ApiDeps {
  /** The stores (sessions, memories, database) and the config; the web role never runs a turn. */
  runtime: Runtime;
  /** The run event log and stop requests, shared with the workers through Redis. */
  events: RunEventLog;
  cancellation: RunCancellation;
  /** Defaults to runtime.config; `agentosApiKey` is the bearer key (absent: loopback only). */
  config?: Config;
  logger?: Logger;
  clock?: Clock;
  /** User memories; defaults to runtime.memoryStore, `null` disables /memories (503). */
  memoryStore?: MemoryStore | null;
  /** Where API turns go (and queue counts for /metrics and the console). */
  queue?: MessageQueue;
  /** BullMQ queue for the console's failed-job list and retry; taken from `queue.queue` when absent. */
  bullQueue?: Queue;
  /** Prometheus metrics (runs come from the database); created when absent. */
  metrics?: Metrics;
  /** Token bucket per API key: burst and sustained requests per second (default 120 and 2). */
  rateLimit?: { burst: number; perSecond: number };
}

/** Paths that need the key (and the loopback rule when keyless). Everything else passes untouched. */
const API_PREFIXES = ['/config', '/agents', '/teams', '/sessions', '/memories', '/metrics', '/console/api'];
const isApiPath = (p: string) => API_PREFIXES.some((x) => p === x || p.startsWith(`${x}/`));
const isConsolePage = (p: string) => p === '/console' || p.startsWith('/console/assets/');

/**
 * The path as routing reads it. Express matches routes case-insensitively, ignores a trailing slash
 * and decodes percent-escapes in parameters, so the guard classifies the same form: `/CONFIG` or
 * `//teams` must not slip past it to a handler.
 */
function routedPath(path: string): string {
  let p = path;
  try {
    p = decodeURIComponent(p);
  } catch {
    // Malformed escapes: keep the raw form; no route decodes it either.
  }
  return p.toLowerCase().replace(/\/{2,}/g, '/');
}

/**
 * The AgentOS-compatible HTTP API and the operator console, as one router for the shared express 5
 * app (mount at '/'). It touches only its own paths, so Slack's raw-body endpoint is unaffected.
 */
export function createApiRouter(deps: ApiDeps): Router {
  const { runtime } = deps;
  const config = deps.config ?? runtime.config;
  const logger = deps.logger ?? runtime.logger;
  const clock = deps.clock ?? runtime.clock;
  const bullQueue = deps.bullQueue ?? bullQueueOf(deps.queue);
  const metrics = deps.metrics ?? createMetrics({ db: runtime.db, queue: deps.queue, feedback: runtime.feedback, logger });
  const guard = createApiGuard({ apiKey: config.agentosApiKey, clock, rateLimit: deps.rateLimit });

  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    const path = routedPath(req.path);
    if (path === '/health') return cors(req, res, next);
    if (isApiPath(path)) {
      setSecurityHeaders(res, 'api');
      res.on('finish', () => metrics.recordRequest(`${req.method} ${req.route?.path ?? 'unmatched'}`, res.statusCode));
      return cors(req, res, () => guard(req, res, next));
    }
    // The console's page holds no data (its calls carry the key) but still obeys the loopback rule.
    if (isConsolePage(path)) setSecurityHeaders(res, 'console-page');
    if (isConsolePage(path) && !config.agentosApiKey && proxiedRequest(req)) return sendError(res, 403, 'forbidden', PROXIED_KEYLESS);
    if (isConsolePage(path) && !config.agentosApiKey && !isLoopback(req.socket.remoteAddress)) {
      return sendError(res, 403, 'forbidden', 'The console answers only on this machine until AGENTOS_API_KEY is set.');
    }
    next();
  });

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.contentType);
    res.send(await metrics.render());
  });
  router.use(catalogRoutes(config));
  router.use(
    runRoutes({ store: runtime.store, queue: deps.queue, events: deps.events, cancellation: deps.cancellation, clock, logger }),
  );
  router.use(sessionRoutes({ runtime, events: deps.events }));
  const memoryStore = deps.memoryStore === null ? undefined : (deps.memoryStore ?? runtime.memoryStore);
  router.use(memoryRoutes({ runtime, memoryStore, embedder: runtime.embedder }));
  router.use(consoleRoutes({ runtime, queue: deps.queue, bullQueue }));

  const onError = jsonErrorHandler(logger);
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const path = routedPath(req.path);
    if (!isApiPath(path) && !isConsolePage(path)) return next(err);
    onError(err, req, res, next);
  });
  return router;
}

function bullQueueOf(queue: MessageQueue | undefined): Queue | undefined {
  const inner = (queue as { queue?: unknown } | undefined)?.queue;
  return inner instanceof Queue ? inner : undefined;
}
