import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { MessageQueue } from '../../queue/message-queue.js';
import { createMessageQueue } from '../../queue/producer.js';
import { type ChatWorker, type ChatWorkerOptions, createChatWorker, type TurnInfo } from '../../queue/worker.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { DEFAULTS } from '../../src/constants.js';
import type { Logger } from '../../src/logger.js';
import { startKnowledgePruning } from '../../src/memory/knowledge.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { ChatAdapter } from '../chat-adapter.js';
import { createDiscordChatAdapter } from '../discord/chat-adapter.js';
import { createDiscordReceiver, type DiscordReceiver } from '../discord/receiver.js';
import { apiListenPolicy, createApiRouter } from '../http/api-router.js';
import { createMetrics, type Metrics } from '../http/metrics.js';
import { createSlackChatAdapter } from '../slack/slack-chat-adapter.js';
import { createSlackReceiver, type SlackReceiver } from '../slack/slack-receiver.js';
import { createWebApp } from './web-app.js';

export type ServerRole = 'all' | 'web' | 'worker';

export interface Services {
  runtime: Runtime;
  /** The web role's base URL (http://host:port), when it serves HTTP. */
  url?: string;
  server?: Server;
  queue?: MessageQueue;
  worker?: ChatWorker;
  slack?: SlackReceiver;
  discord?: DiscordReceiver;
  /** Prometheus metrics; shared by the API and the worker in one process. */
  metrics: Metrics;
  /** Stops ingress first, then lets the worker finish (up to the shutdown deadline), then closes stores. */
  stop(): Promise<void>;
}

export interface StartOptions {
  role: ServerRole;
  logger: Logger;
  clock?: Clock;
  /** Overrides for tests: a random queue name, short stall intervals. */
  queueName?: string;
  worker?: Partial<Omit<ChatWorkerOptions, 'runtime' | 'adapters' | 'redisUrl' | 'logger'>>;
  shutdownDeadlineMs?: number;
}

/**
 * The composition root: what `npm start` (web + worker), `start:web` and `start:worker` run, and what
 * end-to-end tests boot. Web and worker share nothing but Redis and Postgres, so they scale apart.
 */
export async function startServices(config: Config, options: StartOptions): Promise<Services> {
  const { logger, role } = options;
  const runtime = await createRuntime(config, { logger, clock: options.clock });
  const stops: Array<() => Promise<void>> = [];
  const services: Services = {
    runtime,
    metrics: createMetrics(),
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err: String(err) }, 'stop failed'));
      await runtime.close();
    },
  };
  try {
    if (role !== 'worker') await startWeb(config, options, services, stops);
    if (role !== 'web') startWorker(config, options, services, stops);
  } catch (err) {
    await services.stop();
    throw err;
  }
  return services;
}

async function startWeb(config: Config, options: StartOptions, services: Services, stops: Array<() => Promise<void>>) {
  const { logger } = options;
  const queue = createMessageQueue({ redisUrl: config.redisUrl, queueName: options.queueName, logger });
  services.queue = queue;
  services.metrics = createMetrics({ queue });
  stops.push(() => queue.close());

  if (config.slack.botToken) {
    services.slack = await createSlackReceiver({ config, queue, store: services.runtime.store, logger });
  }
  const policy = apiListenPolicy(config);
  if (policy.warning) logger.warn(policy.warning);
  const app = createWebApp({
    logger,
    db: services.runtime.db,
    queue,
    slackRouter: services.slack?.router,
    apiRouter: createApiRouter({ runtime: services.runtime, queue, config, logger, metrics: services.metrics }),
  });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, policy.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  services.server = server;
  services.url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url: services.url }, 'web role listening');
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
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
    adapters.discord = createDiscordChatAdapter({
      token: config.discord.token,
      applicationId: config.discord.applicationId,
      apiUrl: config.discord.apiUrl,
      redis: discordRedis,
      logger,
    });
  }
  const worker = createChatWorker({
    runtime: services.runtime,
    adapters,
    redisUrl: config.redisUrl,
    queueName: options.queueName,
    concurrency: config.workerConcurrency,
    logger,
    // Chat turns count in /metrics like API runs (in --role all; a lone worker keeps its own registry).
    onTurn: (turn) => recordTurn(services, turn),
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

function recordTurn(services: Services, turn: TurnInfo): void {
  services.metrics.recordRun({
    status: turn.ok ? 'completed' : 'failed',
    ms: turn.ms,
    usage: turn.usage,
    costUsd: turn.costUsd,
    source: turn.platform,
    errorCode: turn.errorCode,
  });
}
