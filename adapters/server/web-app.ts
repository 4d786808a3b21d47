import express, { type Express, type Router } from 'express';
import type { Database } from '../../db/database.js';
import type { MessageQueue } from '../../queue/message-queue.js';
import { describeError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

export interface WebAppOptions {
  logger: Logger;
  db?: Database;
  queue?: MessageQueue;
  /** Bolt's HTTP receiver for POST /slack/events (verifies signatures itself). */
  slackRouter?: Router;
  /** The AgentOS-compatible HTTP API and console. */
  apiRouter?: Router;
}

/**
 * The one HTTP app on PORT: health and readiness, Slack's event endpoint and the HTTP API.
 * Slack's router comes first and reads the raw body itself, because its signature covers the bytes.
 */
export function createWebApp(options: WebAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // Readiness (not liveness): every store this process depends on answers.
  app.get('/ready', async (_req, res) => {
    const checks: Record<string, string> = {};
    const results = await Promise.allSettled([
      options.db ? options.db.query('SELECT 1') : Promise.resolve(undefined),
      options.queue ? options.queue.counts() : Promise.resolve(undefined),
    ]);
    checks.database = !options.db ? 'not used' : results[0].status === 'fulfilled' ? 'ok' : 'unreachable';
    checks.redis = !options.queue ? 'not used' : results[1].status === 'fulfilled' ? 'ok' : 'unreachable';
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
    res.status(404).json({ error: 'not_found', message: 'No such endpoint.' });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    options.logger.error({ err: describeError(err) }, 'unhandled request error');
    if (!res.headersSent) res.status(500).json({ error: 'internal', message: 'Something went wrong.' });
  });
  return app;
}
