import { createAnswerActions } from '../../src/run/answer-actions.js';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createReplyStateStore } from '../../db/repositories/reply-state.js';
import { createMessageQueue } from '../../queue/producer.js';
import { workspaceSpendQuery } from '../../queue/quotas.js';
import { createRedisRunCancellation, createRedisRunEventLog } from '../../queue/run-event-stream.js';
import { type ChatWorker, type ChatWorkerOptions, createChatWorker } from '../../queue/worker.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { DEFAULTS } from '../../src/constants.js';
import type { Logger } from '../../src/logger.js';
import { startKnowledgePruning } from '../../src/memory/knowledge.js';
import { createRuntime, type Runtime } from './runtime.js';
import type { ChatAdapter } from '../../src/ports/chat-adapter.js';
import type { MessageQueue } from '../../src/ports/message-queue.js';
import type { RunCancellation, RunEventLog } from '../../src/ports/run-events.js';
import { createTurnRunner } from '../../src/run/turn-runner.js';
import { createDiscordChatAdapter } from '../discord/chat-adapter.js';
import { createDiscordReceiver, type DiscordReceiver } from '../discord/receiver.js';
import { apiListenPolicy, createApiRouter } from '../http/api-router.js';
import { createMetrics, type Metrics } from '../http/metrics.js';
import { createSlackChatAdapter } from '../slack/slack-chat-adapter.js';
import { createSlackReceiver, type SlackReceiver } from '../slack/slack-receiver.js';
import { createWebApp, createWebListener } from './web-app.js';

export type ServerRole = 'all' | 'web' | 'worker';

export interface Services {
  runtime: Runtime;
  /** Base URL (http://host:port) of this process's HTTP server: the web role's, or a lone worker's /health and /ready. */
  url?: string;
  server?: Server;
  queue?: MessageQueue;
  /** The run event log (Redis Streams) and stop requests, shared by every process through Redis. */
  events: RunEventLog;
  cancellation: RunCancellation;
  worker?: ChatWorker;
  slack?: SlackReceiver;
  discord?: DiscordReceiver;
  /** The web role's Prometheus metrics (runs are read from the database, so a worker needs none). */
  metrics?: Metrics;
  /** Stops ingress first, then lets the worker finish (up to the shutdown deadline), then closes stores. */
  stop(): Promise<void>;
}

export interface StartOptions {
  role: ServerRole;
  logger: Logger;
  clock?: Clock;
  /** Overrides for tests: a random queue name, short stall intervals. */
  queueName?: string;
  worker?: Partial<Pick<ChatWorkerOptions, 'threadRetryMs' | 'lockDurationMs' | 'stalledIntervalMs' | 'threadLockMs' | 'progressEditsPerMinute' | 'concurrency' | 'onTurn'>>;
  shutdownDeadlineMs?: number;
}

/**
 * The composition root of the server roles: what `npm start` (web + worker), `start:web` and
 * `start:worker` run, and what end-to-end tests boot. Web and worker share nothing but Redis and
 * Postgres, so they scale apart: the web role verifies, enqueues and relays run events; only workers
 * run turns (the CLI's root is adapters/cli/ask.ts).
 */
export async function startServices(config: Config, options: StartOptions): Promise<Services> {
  const { logger, role } = options;
  const runtime = await createRuntime(config, { logger, clock: options.clock });
  const stops: Array<() => Promise<void>> = [];
  const events = createRedisRunEventLog({ redisUrl: config.redisUrl, logger });
  const cancellation = createRedisRunCancellation({ redisUrl: config.redisUrl, logger });
  const services: Services = {
    runtime,
    events,
    cancellation,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err: String(err) }, 'stop failed'));
      await Promise.all([events.close(), cancellation.close()]);
      await runtime.close();
    },
  };
  try {
    if (role !== 'worker') await startWeb(config, options, services, stops);
    if (role !== 'web') startWorker(config, options, services, stops);
    // A lone worker still answers probes; in --role all the web role's server does.
    if (role === 'worker') await startWorkerProbes(config, options, services, stops);
  } catch (err) {
    await services.stop();
    throw err;
  }
  return services;
}

async function startWeb(config: Config, options: StartOptions, services: Services, stops: Array<() => Promise<void>>) {
  const { logger } = options;
  const queue = createMessageQueue({
    redisUrl: config.redisUrl,
    queueName: options.queueName,
    logger,
    // The ingress limits; a workspace's daily spend is read from the runs table (queue/quotas.ts).
    limits: { ...config.limits, spentToday: workspaceSpendQuery(services.runtime.db) },
    onLimited: (hit, job) => services.metrics?.recordLimit(hit.limit, job.platform),
  });
  services.queue = queue;
  services.metrics = createMetrics({ db: services.runtime.db, queue, feedback: services.runtime.feedback, logger });
  stops.push(() => queue.close());

  // What the buttons under answers do, for every surface: stop through the run's cancellation,
  // feedback into the store, follow-ups into the queue like any message.
  const actions = createAnswerActions({
    cancellation: services.cancellation,
    feedback: services.runtime.feedback,
    queue,
    store: services.runtime.store,
  });
  if (config.slack.botToken) {
    const { store, memoryStore: memories } = services.runtime;
    services.slack = await createSlackReceiver({ config, queue, store, logger, actions, memories });
  }
  const surfaces = ['api', services.slack && 'slack', config.discord.token && 'discord'].filter(Boolean);
  const policy = apiListenPolicy(config);
  if (policy.warning) logger.warn(policy.warning);
  const app = createWebListener({
    logger,
    db: services.runtime.db,
    pingRedis: () => queue.counts(),
    slackRouter: services.slack?.router,
    slackIngress: services.slack?.ingress,
    apiRouter: createApiRouter({
      runtime: services.runtime,
      queue,
      events: services.events,
      cancellation: services.cancellation,
      config,
      logger,
      metrics: services.metrics,
    }),
  });
  await listen(app, config.port, policy.host, services, stops);
  logger.info({ url: services.url, surfaces }, `web role listening; surfaces: ${surfaces.join(', ')}`);
  // Socket Mode and the Discord gateway are ingress too; they start after the server is up.
  if (services.slack) {
    await services.slack.start();
    stops.push(() => services.slack!.stop());
  }
  if (config.discord.token) {
    services.discord = createDiscordReceiver({
      config,
      queue,
      store: services.runtime.store,
      logger,
      messageContent: config.discord.messageContent,
      actions,
    });
    await services.discord.start();
    stops.push(() => services.discord!.stop());
  }
}

function startWorker(config: Config, options: StartOptions, services: Services, stops: Array<() => Promise<void>>) {
  const { logger } = options;
  const adapters: Partial<Record<'slack' | 'discord', ChatAdapter>> = {};
  let discordRedis: Redis | undefined;
  if (config.slack.botToken) {
    adapters.slack = createSlackChatAdapter({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, logger });
  }
  if (config.discord.token && config.discord.applicationId) {
    discordRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
    // Without a listener ioredis prints every reconnect failure to stderr, past the logger and its scrubbing.
    discordRedis.on('error', (err) => logger.warn({ err: err.message }, 'discord adapter redis error'));
    adapters.discord = createDiscordChatAdapter({
      token: config.discord.token,
      applicationId: config.discord.applicationId,
      apiUrl: config.discord.apiUrl,
      redis: discordRedis,
      logger,
    });
  }
  const worker = createChatWorker({
    ...workerDeps(services.runtime, services.events, services.cancellation),
    adapters,
    redisUrl: config.redisUrl,
    queueName: options.queueName,
    concurrency: config.workerConcurrency,
    dbOutageWaitMs: config.dbOutageWaitMs,
    logger,
    ...options.worker,
  });
  services.worker = worker;
  // Stops run in reverse order; putting the worker first makes it drain last, after ingress stopped.
  // The answers it finishes still need the Discord adapter's Redis (interaction tokens): closed after.
  stops.unshift(async () => {
    await worker.close(options.shutdownDeadlineMs ?? DEFAULTS.shutdownDeadlineMs);
    discordRedis?.disconnect();
  });
  const pruner = startKnowledgePruning({ repo: services.runtime.knowledge, clock: services.runtime.clock, logger });
  stops.push(() => pruner.stop());
}

/** What a worker needs from the core: the turn runner (over the shared event log), reply state, the clock. */
export function workerDeps(
  runtime: Runtime,
  events: RunEventLog,
  cancellation: RunCancellation,
): Pick<ChatWorkerOptions, 'runner' | 'conversation' | 'replies' | 'events' | 'clock'> {
  const { conversation, logger } = runtime;
  return {
    runner: createTurnRunner({ conversation, events, cancellation, logger, deadlineMs: runtime.config.turnDeadlineMs }),
    conversation,
    replies: createReplyStateStore(runtime.db),
    events,
    clock: runtime.clock,
  };
}

/** /health and /ready of a worker that runs without the web role: its probes need an HTTP port. */
async function startWorkerProbes(config: Config, options: StartOptions, services: Services, stops: Array<() => Promise<void>>) {
  // Its own connection: BullMQ's retry every command forever, so a ping through them would hang, not fail.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {}); // a failed ping says it; the worker's own connection logs the outage
  stops.push(async () => redis.disconnect());
  const app = createWebApp({ logger: options.logger, db: services.runtime.db, pingRedis: () => redis.ping() });
  // The same bind rule as the web role's: loopback unless a key or HOST opens it (Dockerfile sets HOST).
  await listen(app, config.port, apiListenPolicy(config).host, services, stops).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    throw new Error(`PORT ${config.port} is taken (by the web role on this machine?): start the worker with its own PORT`);
  });
  options.logger.info({ url: services.url }, 'worker probes listening (/health, /ready)');
}

/** Listens on port and host, records the URL, and registers closing the server as a stop. */
async function listen(app: RequestListener, port: number, host: string, services: Services, stops: Array<() => Promise<void>>) {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  services.server = server;
  services.url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
}
