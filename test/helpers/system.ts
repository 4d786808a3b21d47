import { randomUUID } from 'node:crypto';
import { type Services, type ServerRole, startServices } from '../../adapters/server/services.js';
import { type Config, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { createDiscordFake } from '../fakes/discord-fake.js';
import { createSlackFake } from '../fakes/slack-fake.js';
import { startTeamFakes, type TeamFakes } from './team-env.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export const SLACK_SIGNING_SECRET = 'test-signing-secret-123';
export const DISCORD_GUILD = '3000000000000000001';
export const DISCORD_CHANNEL = '3000000000000000002';

type SlackFake = Awaited<ReturnType<typeof createSlackFake>>;
type DiscordFake = Awaited<ReturnType<typeof createDiscordFake>>;

export interface TestSystem {
  fakes: TeamFakes;
  slack?: SlackFake;
  discord?: DiscordFake;
  db: TestDatabase;
  config: Config;
  /** The environment the config was read from, for starting the same services in a child process. */
  env: Record<string, string>;
  queueName: string;
  /** The running services (web + worker unless `role` said otherwise). */
  services: Services;
  /** POST /slack/events of the web role. */
  slackEventsUrl: string;
  /** Starts another set of services on the same database, Redis queue and fakes (a second process's worth). */
  startMore(role: ServerRole): Promise<Services>;
  close(): Promise<void>;
}

export interface SystemOptions {
  platforms?: Array<'slack' | 'discord'>;
  role?: ServerRole;
  env?: Record<string, string>;
  /** Short lock/stall settings so a killed worker's job is re-run quickly. */
  fastStalls?: boolean;
  /**
   * false: the Slack fake answers the streaming methods `unknown_method`, as for an app that cannot
   * stream, so answers take the post-and-edit way (placeholder, progress edits, final edit).
   */
  slackStreaming?: boolean;
  /** PostgreSQL and Redis other than DATABASE_URL's and REDIS_URL's: servers an outage drill stops. */
  databaseUrl?: string;
  redisUrl?: string;
}

/**
 * The whole product on one machine: the real composition root (adapters/server/services.ts) with a
 * fresh Postgres database, a random BullMQ queue on the real Redis, and every outside service faked.
 */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const platforms = options.platforms ?? ['slack'];
  const fakes = await startTeamFakes();
  const db = await createTestDatabase('postgres', { baseUrl: options.databaseUrl });
  const slack = platforms.includes('slack') ? await createSlackFake({ signingSecret: SLACK_SIGNING_SECRET }) : undefined;
  if (options.slackStreaming === false) slack?.disableStreaming();
  const discord = platforms.includes('discord')
    ? await createDiscordFake({
        guilds: [{ id: DISCORD_GUILD, name: 'movers', channels: [{ id: DISCORD_CHANNEL, name: 'general', type: 0 }] }],
      })
    : undefined;
  const queueName = `movebot-test-${randomUUID()}`;
  const env: Record<string, string> = {
    ...fakes.env,
    DATABASE_URL: db.url!,
    REDIS_URL: options.redisUrl ?? process.env.REDIS_URL!,
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_CONCURRENCY: '8',
    ...(slack && {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    }),
    ...(discord && {
      DISCORD_TOKEN: 'discord-test-token',
      DISCORD_APPLICATION_ID: '1000000000000000001',
      DISCORD_API_URL: discord.restUrl,
      DISCORD_MESSAGE_CONTENT: 'true',
    }),
    ...options.env,
  };
  const config = loadConfig(options.role ?? 'all', env);
  const start = (role: ServerRole) =>
    startServices(
      { ...config, role },
      {
        role,
        logger: silentLogger,
        queueName,
        shutdownDeadlineMs: 10_000,
        worker: options.fastStalls ? { lockDurationMs: 1_000, stalledIntervalMs: 500, threadRetryMs: 50 } : { threadRetryMs: 50 },
      },
    );
  const services = await start(options.role ?? 'all');
  const extra: Services[] = [];
  return {
    fakes,
    slack,
    discord,
    db,
    config,
    env,
    queueName,
    services,
    slackEventsUrl: `${services.url}/slack/events`,
    async startMore(role) {
      const more = await start(role);
      extra.push(more);
      return more;
    },
    async close() {
      for (const s of [...extra, services]) await s.stop().catch(() => {});
      await Promise.all([fakes.close(), slack?.close(), discord?.close()]);
      await db.cleanup();
    },
  };
}
