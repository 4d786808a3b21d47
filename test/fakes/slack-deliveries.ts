import { randomBytes } from 'node:crypto';
import type { SocketAck } from './slack-socket-mode.js';
import type { SlackFakeMessage } from './slack-web-api.js';
import {
  buildMessageEvent,
  eventCallbackEnvelope,
  postSigned,
  type SendEventOptions,
  type SignOptions,
  type SlackDelivery,
  type SlackEvent,
} from './slack-wire.js';

/** One bot message echoed back to the app as an event. */
export interface EchoRecord {
  channel: string;
  ts: string;
  /** HTTP status from the app, `'acked'` over Socket Mode, `'failed'`, or `'pending'`. */
  outcome: number | 'acked' | 'failed' | 'pending';
}

export interface SlackDeliveriesOptions {
  signingSecret: string;
  teamId: string;
  botUserId: string;
  botId: string;
  appId: string;
  /** Socket Mode's event push (slack-socket-mode.ts), for echoes to `'socket'`. */
  sendSocketEvent: (event: SlackEvent) => Promise<SocketAck>;
  /** Where bot messages are echoed at first: `'socket'`, an events URL, or nowhere. */
  echoTarget?: string;
}

/**
 * What the Slack fake sends to the app over HTTP, signed as Slack signs it: Events API deliveries
 * (with retry headers), interactivity payloads and the url_verification check; and the echo of each
 * bot message back to the app as a `message` event, as Slack does.
 */
export function createSlackDeliveries(o: SlackDeliveriesOptions) {
  let echoTarget = o.echoTarget;
  const echoes = new Set<Promise<unknown>>();
  const echoed: EchoRecord[] = [];

  function post(targetUrl: string, body: string, headers: Record<string, string>, opts: SignOptions) {
    return postSigned(targetUrl, body, { ...opts, signingSecret: o.signingSecret, headers, contentType: 'application/json' });
  }

  async function sendEvent(targetUrl: string, event: SlackEvent, opts: SendEventOptions = {}): Promise<SlackDelivery> {
    const envelope = eventCallbackEnvelope(event, {
      teamId: opts.teamId ?? o.teamId,
      botUserId: o.botUserId,
      appId: o.appId,
      ...(opts.eventId !== undefined && { eventId: opts.eventId }),
    });
    const headers: Record<string, string> = {};
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    return post(targetUrl, JSON.stringify(envelope), headers, opts);
  }

  return {
    sendEvent,
    /** POSTs an interactivity payload signed, as `payload=<JSON>` form data, like Slack does. */
    sendInteraction(targetUrl: string, payload: Record<string, unknown>, opts: SignOptions = {}) {
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const contentType = 'application/x-www-form-urlencoded';
      return postSigned(targetUrl, body, { ...opts, signingSecret: o.signingSecret, contentType });
    },
    /** Slack's one-time URL check; Bolt answers with the challenge. */
    urlVerification(targetUrl: string): Promise<SlackDelivery> {
      const body = JSON.stringify({ token: 'fake-verification-token', challenge: randomBytes(8).toString('hex'), type: 'url_verification' });
      return post(targetUrl, body, {}, {});
    },
    /** Sends a stored bot message back to the app as a `message` event with `bot_id`, when echoing. */
    echo(message: SlackFakeMessage): void {
      const target = echoTarget;
      if (!target) return;
      const { channel, text, ts, threadTs } = message;
      const event = buildMessageEvent({ channel, text, ts, threadTs, botId: o.botId, user: o.botUserId }, o.teamId);
      const record: EchoRecord = { channel, ts, outcome: 'pending' };
      echoed.push(record);
      const delivery = (target === 'socket' ? o.sendSocketEvent(event) : sendEvent(target, event)).then(
        (result) => {
          record.outcome = 'status' in result ? result.status : 'acked';
        },
        () => {
          record.outcome = 'failed';
        },
      );
      echoes.add(delivery);
      void delivery.finally(() => echoes.delete(delivery));
    },
    /** Starts/stops echoing bot messages back as events (`'socket'`, an events URL, or undefined). */
    setEchoTarget(target: string | undefined) {
      echoTarget = target;
    },
    /** Every echo of a bot message: its channel/ts and the app's HTTP status, `'acked'` or `'failed'`. */
    echoed: echoed as readonly EchoRecord[],
    /** Awaits echo deliveries in flight. */
    async flushEchoes() {
      await Promise.all([...echoes]);
    },
  };
}
