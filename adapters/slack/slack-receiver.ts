import { App, type AuthorizeResult, ExpressReceiver, type Receiver, webApi } from '@slack/bolt';
import type { Router } from 'express';
import { type LimitHit, limitReplyText, type MessageQueue } from '../../src/ports/message-queue.js';
import type { ChatJob } from '../../src/ports/turn-job.js';
import { withTimeout } from '../../src/util/timeout.js';
import { type Clock, systemClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { describeError, MovebotError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { MemoryStore } from '../../src/ports/memory-store.js';
import type { SessionStore } from '../../src/ports/session-store.js';
import type { AnswerActions } from '../../src/run/answer-actions.js';
import { toSlackLogger } from './slack-logger.js';
import { type BotIdentity, normalizeSlackEvent } from './slack-normalize.js';
import { DeferredAckSocketModeReceiver } from './slack-socket-receiver.js';
import { registerSlackInteractions } from './slack-interactions.js';
import { slackClientOptions } from './slack-web-client.js';
import { createSlackHttpIngress, type SlackEventDelivery, type SlackHttpIngress } from './slack-http-ingress.js';

export interface SlackReceiverOptions {
  config: { slack: Config['slack'] };
  queue: MessageQueue;
  /** To recognise threads that hold a conversation, so follow-ups there need no mention. */
  store: Pick<SessionStore, 'getSessionByThreadKey' | 'upsertUser' | 'listRuns'>;
  /** What the buttons under answers do (Stop, feedback, follow-ups); without it clicks are ignored. */
  actions?: AnswerActions;
  /** For assistant threads' suggested prompts, made from what the user told us. */
  memories?: Pick<MemoryStore, 'list'>;
  logger: Logger;
  clock?: Clock;
  /** Web API retries (tests pass `{ retries: 0 }`). */
  retryConfig?: webApi.WebClientOptions['retryConfig'];
}

export interface SlackReceiver {
  /** HTTP mode: Bolt's express receiver for what `ingress` leaves (interactivity); undefined in Socket Mode. */
  readonly router: Router | undefined;
  /**
   * HTTP mode: the node:http-level fast path for Events API posts to `/slack/events` (verify, enqueue,
   * ack), to run in front of the web app; what it leaves (interactivity) goes on to `router`.
   */
  readonly ingress: SlackHttpIngress | undefined;
  readonly mode: 'http' | 'socket';
  /** Checks the bot token (auth.test) and, in Socket Mode, connects. */
  start(): Promise<void>;
  /** Disconnects Socket Mode; the HTTP router needs no stopping (the web server owns the socket). */
  stop(): Promise<void>;
  /** The bot's user id once auth.test answered. */
  readonly botUserId: string | undefined;
}

/**
 * The web role's Slack side: Bolt verifies each request, we turn mentions, DMs and follow-ups in the
 * bot's threads into ChatJobs and enqueue them. The HTTP answer (or Socket Mode ack) is sent only
 * after the enqueue succeeded, so when Redis is down Slack gets a 5xx and delivers the event again.
 * Retries and the message + app_mention pair of one mention de-duplicate by job id.
 */
export async function createSlackReceiver(options: SlackReceiverOptions): Promise<SlackReceiver> {
  const { config, queue, store, logger } = options;
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  if (!botToken)
    throw new MovebotError('config_invalid', 'SLACK_BOT_TOKEN is required for the Slack receiver');
  const clock = options.clock ?? systemClock;
  const clientOptions = slackClientOptions({ apiUrl, retryConfig: options.retryConfig });
  const slackLogger = toSlackLogger(logger);
  const authClient = new webApi.WebClient(botToken, { ...clientOptions, logger: slackLogger });

  let receiver: Receiver;
  let router: Router | undefined;
  if (appToken) {
    receiver = new DeferredAckSocketModeReceiver({ appToken, clientOptions, logger });
  } else {
    if (!signingSecret)
      throw new MovebotError('config_invalid', 'SLACK_SIGNING_SECRET is required in HTTP mode');
    const express = new ExpressReceiver({
      signingSecret,
      logger: slackLogger,
      endpoints: '/slack/events',
      processBeforeResponse: true,
      // Any failure after the signature check (enqueue, store, auth.test) is ours: 500, Slack retries.
      processEventErrorHandler: async ({ error, response }) => {
        logger.warn({ err: describeError(error) }, 'slack event not accepted; Slack will retry');
        if (!response.headersSent) {
          response.writeHead(500);
          response.end();
        }
        return false;
      },
    });
    receiver = express;
    router = express.router;
  }

  // auth.test once; a failure is not cached, so a Slack hiccup at boot does not break every event.
  let identity: Promise<BotIdentity> | undefined;
  const whoAmI = () => {
    identity ??= authClient.auth.test().then(
      (r) => ({ userId: String(r.user_id), ...(r.bot_id && { botId: String(r.bot_id) }) }),
      (err: unknown) => {
        identity = undefined;
        throw err;
      },
    );
    return identity;
  };
  let botUserId: string | undefined;

  const app = new App({
    receiver,
    logger: slackLogger,
    clientOptions,
    authorize: async (): Promise<AuthorizeResult> => {
      const me = await whoAmI();
      return { botToken, botUserId: me.userId, ...(me.botId && { botId: me.botId }) };
    },
  });
  // Rethrow so the receiver answers 5xx (HTTP) or withholds the ack (Socket Mode).
  app.error(async (error) => {
    throw error;
  });

  const onEvent = async ({ event, body, context }: ListenerArgs) => {
    const bot: BotIdentity = {
      userId: String(context.botUserId),
      ...(context.botId && { botId: context.botId }),
    };
    const teamId = String(body.team_id ?? context.teamId ?? event.team ?? '');
    await accept(event, body, bot, teamId, context.retryNum);
  };
  /** Normalise, check the thread, enqueue: shared by Bolt's listeners (Socket Mode) and the HTTP fast path. */
  const accept = async (
    event: Record<string, unknown>,
    body: ListenerArgs['body'],
    bot: BotIdentity,
    teamId: string,
    retryNum: number | undefined,
  ) => {
    const decision = normalizeSlackEvent({ event, teamId, bot, receivedAt: new Date(clock.now()) });
    if (decision.action === 'ignore') {
      logger.debug({ reason: decision.reason, eventId: body.event_id }, 'slack event ignored');
      return;
    }
    const { job } = decision;
    // A thread is ours once its session exists, or while its first message still waits in the queue
    // (the worker creates the session), so a quick follow-up is not lost to that gap.
    const known = async () =>
      (await queue.hasPending(job.threadKey)) || (await store.getSessionByThreadKey(job.threadKey)) !== undefined;
    if (decision.needsKnownThread && !(await known())) {
      logger.debug({ eventId: body.event_id }, 'slack thread reply outside our conversations ignored');
      return;
    }
    const result = await queue.enqueue(job);
    if (result.limited) {
      await replyLimited(job, result.limited, body.event_id);
      return;
    }
    logger.info(
      { eventId: body.event_id, jobId: result.jobId, enqueued: result.enqueued, retryNum },
      result.enqueued ? 'slack message queued' : 'slack message already queued',
    );
  };
  /**
   * A message over a limit is told so in its thread: never silence. The event is still acknowledged
   * (200): a Slack retry would be a duplicate of the refused message anyway. The post may take at most
   * LIMIT_REPLY_WAIT_MS of the ack's 3 s; past that it goes on in the background.
   */
  const replyLimited = async (job: ChatJob, hit: LimitHit, eventId: string | undefined) => {
    logger.info({ eventId, limit: hit.limit, retryAfterMs: hit.retryAfterMs }, 'slack message refused by a limit');
    const post = authClient.chat
      .postMessage({ channel: job.channel, thread_ts: job.thread ?? job.messageId, text: limitReplyText(hit) })
      .catch((err: unknown) => logger.warn({ err: describeError(err), eventId }, 'could not post the limit reply'));
    await withTimeout(post, LIMIT_REPLY_WAIT_MS, () => new Error('slow limit reply')).catch(() => undefined);
  };
  app.event('app_mention', (args) => onEvent(args as unknown as ListenerArgs));
  app.event('message', (args) => onEvent(args as unknown as ListenerArgs));
  if (options.actions) {
    registerSlackInteractions(app, { actions: options.actions, memories: options.memories, store, clock, logger });
  }

  // HTTP: messages and mentions skip Bolt's dispatch (its middleware, context and listener chain);
  // other events still go through it, acknowledged with what it acks.
  const ingress =
    router && signingSecret
      ? createSlackHttpIngress({
          signingSecret,
          logger,
          onMessage: async ({ body, retryNum }: SlackEventDelivery) => {
            const event = (body.event ?? {}) as Record<string, unknown>;
            const me = await whoAmI();
            await accept(event, body, me, String(body.team_id ?? event.team ?? ''), retryNum);
          },
          onOtherEvent: async ({ body, retryNum, retryReason }: SlackEventDelivery) => {
            let acked: unknown;
            await app.processEvent({
              body,
              ...(retryNum !== undefined && { retryNum }),
              ...(retryReason !== undefined && { retryReason }),
              customProperties: {},
              ack: async (response?: unknown) => {
                acked = response;
              },
            });
            return acked;
          },
        })
      : undefined;

  return {
    router,
    ingress,
    mode: appToken ? 'socket' : 'http',
    get botUserId() {
      return botUserId;
    },
    async start() {
      try {
        botUserId = (await whoAmI()).userId;
      } catch (err) {
        const code = (err as { data?: { error?: string } }).data?.error;
        if (code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive') {
          throw new MovebotError('config_invalid', `SLACK_BOT_TOKEN was rejected by Slack (${code})`, {
            cause: code,
          });
        }
        // Slack unreachable: events will try auth.test again; better than refusing to boot.
        logger.warn({ err: describeError(err) }, 'slack auth.test failed; will retry on the first event');
      }
      if (appToken) await app.start();
    },
    async stop() {
      if (appToken) await app.stop();
    },
  };
}

/** How long the ack waits for a limit reply to be posted. */
const LIMIT_REPLY_WAIT_MS = 1_500;

/** The parts of Bolt's event listener arguments we read (typed loosely: events are untrusted input). */
interface ListenerArgs {
  event: Record<string, unknown>;
  body: Record<string, unknown> & { team_id?: string; event_id?: string };
  context: { botUserId?: string; botId?: string; teamId?: string; retryNum?: number };
}
