import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type Router } from 'express';
import type { Database } from '../../db/database.js';
import { describeError } from '../../src/errors.js';
import { errorBody } from '../http/http-errors.js';
import type { Logger } from '../../src/logger.js';
import { withTimeout } from '../../src/util/timeout.js';

export interface WebAppOptions {
  logger: Logger;
  db?: Pick<Database, 'query'>;
  /** Resolves when Redis answers: the web role asks its queue, a lone worker pings its connection. */
  pingRedis?: () => Promise<unknown>;
  /** Bolt's HTTP receiver for POST /slack/events (verifies signatures itself). */
  slackRouter?: Router;
  /** The AgentOS-compatible HTTP API and console. */
  apiRouter?: Router;
  /**
   * Slack's Events API fast path (adapters/slack/slack-http-ingress.ts): runs before express and takes
   * the requests it returns true for; the rest (interactivity, every other route) reach the app.
   */
  slackIngress?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** The server's request listener: the Slack fast path, if any, in front of the express app. */
export function createWebListener(options: WebAppOptions): RequestListener {
  const app = createWebApp(options);
  const ingress = options.slackIngress;
  if (!ingress) return app;
  return (req, res) => {
    if (!ingress(req, res)) app(req, res);
  };
}

/**
 * A probe that has not answered by then counts as unreachable: a command on a Redis client that is
 * reconnecting can wait indefinitely (BullMQ's worker connection retries every command forever), and
 * the orchestrator's probe (5 s in docker-compose) would time out without learning what is missing.
 */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * The one HTTP app on PORT: health and readiness, Slack's event endpoint and the HTTP API. A lone
 * worker serves it too, with only /health and /ready.
 * Slack's router comes first and reads the raw body itself, because its signature covers the bytes.
 */
export function createWebApp(options: WebAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // Readiness (not liveness): every store this process depends on answers.
  app.get('/ready', async (_req, res) => {
    const probes = {
      database: options.db && (() => options.db!.query('SELECT 1')),
      redis: options.pingRedis,
    };
    const results = await Promise.allSettled(Object.values(probes).map((probe) => (probe ? probeWithin(probe()) : undefined)));
    const checks: Record<string, string> = {};
    Object.entries(probes).forEach(([name, probe], i) => {
      checks[name] = !probe ? 'not used' : results[i]!.status === 'fulfilled' ? 'ok' : 'unreachable';
    });
    const ok = Object.values(checks).every((v) => v !== 'unreachable');
    if (!ok) {
      options.logger.warn(
        { checks, errors: results.filter((r) => r.status === 'rejected').map((r) => describeError((r as PromiseRejectedResult).reason)) },
        'not ready',
      );
    }
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
  });

  if (options.slackRouter) app.use(options.slackRouter);
  // The API answers /health itself (with CORS, which browser clients such as the Agent UI need).
  if (options.apiRouter) app.use(options.apiRouter);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Unknown routes and unexpected errors answer JSON, never an HTML stack trace.
  app.use((_req, res) => {
    res.status(404).json(errorBody('not_found', 'No such endpoint.'));
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    options.logger.error({ err: describeError(err) }, 'unhandled request error');
    if (!res.headersSent) res.status(500).json(errorBody('internal', 'Something went wrong.'));
  });
  return app;
}

const probeWithin = (probe: Promise<unknown>) =>
  withTimeout(probe, PROBE_TIMEOUT_MS, () => new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`));
