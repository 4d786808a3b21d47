import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';
import { describeError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

/** What the fast path hands on for one verified Events API delivery. */
export interface SlackEventDelivery {
  /** The parsed envelope (`event_callback`). */
  body: Record<string, unknown> & { team_id?: string; event_id?: string; event?: Record<string, unknown> };
  /** `X-Slack-Retry-Num`, when Slack delivers the event again. */
  retryNum?: number;
  retryReason?: string;
}

export interface SlackHttpIngressOptions {
  signingSecret: string;
  logger: Logger;
  /** Messages and mentions: normalise, de-duplicate and enqueue. Resolves once the ack may be sent. */
  onMessage: (delivery: SlackEventDelivery) => Promise<void>;
  /** Every other event (assistant threads, agent sessions…): Bolt's dispatch. Resolves to the ack body. */
  onOtherEvent: (delivery: SlackEventDelivery) => Promise<unknown>;
}

/** Handles the request when it returns true; false leaves it untouched for the next handler. */
export type SlackHttpIngress = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Slack's event payloads are small; anything bigger is not from Slack. */
const MAX_BODY_BYTES = 1_000_000;
const EVENTS_PATH = '/slack/events';

/**
 * The Events API endpoint at the node:http level, in front of express and Bolt's dispatch: the web
 * role pays for one HMAC, one JSON.parse and the enqueue per event, nothing else. Only JSON posts to
 * POST /slack/events are taken; interactivity (form-encoded block actions, shortcuts) and every other
 * route go on to express and Bolt's receiver. The signature is checked on the raw bytes before the
 * body is parsed; a bad, missing or stale one is a bare 401. The ack is sent after the enqueue, so a
 * Redis outage answers 500 and Slack delivers the event again; retries de-duplicate by job id.
 */
export function createSlackHttpIngress(options: SlackHttpIngressOptions): SlackHttpIngress {
  const { signingSecret, logger } = options;
  return (req, res) => {
    if (req.method !== 'POST' || !isEventsPath(req.url)) return false;
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return false;
    readBody(req).then(
      (raw) => {
        if (raw === undefined) return answer(res, 413);
        return handle(raw, req, res);
      },
      () => answer(res, 400),
    );
    return true;
  };

  async function handle(raw: string, req: IncomingMessage, res: ServerResponse) {
    const signature = req.headers['x-slack-signature'];
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    const valid =
      typeof signature === 'string' &&
      isValidSlackRequest({ signingSecret, body: raw, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
    if (!valid) return answer(res, 401);
    let body: SlackEventDelivery['body'];
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(res, 400);
    }
    if (!body || typeof body !== 'object') return answer(res, 400);
    if (body.type === 'url_verification') {
      return answer(res, 200, JSON.stringify({ challenge: body.challenge }), 'application/json');
    }
    const retry = req.headers['x-slack-retry-num'];
    const delivery: SlackEventDelivery = {
      body,
      ...(retry !== undefined && { retryNum: Number(retry) }),
      ...(typeof req.headers['x-slack-retry-reason'] === 'string' && { retryReason: req.headers['x-slack-retry-reason'] }),
    };
    try {
      const type = body.type === 'event_callback' ? body.event?.type : undefined;
      if (type === 'message' || type === 'app_mention') {
        await options.onMessage(delivery);
        return answer(res, 200);
      }
      const ack = await options.onOtherEvent(delivery);
      if (ack === undefined || ack === '') return answer(res, 200);
      if (typeof ack === 'string') return answer(res, 200, ack, 'text/plain; charset=utf-8');
      return answer(res, 200, JSON.stringify(ack), 'application/json');
    } catch (err) {
      // Ours (enqueue, store, auth.test): 500, and Slack delivers the event again.
      logger.warn({ err: describeError(err), eventId: body.event_id }, 'slack event not accepted; Slack will retry');
      return answer(res, 500);
    }
  }
}

function isEventsPath(url: string | undefined): boolean {
  if (!url) return false;
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)) === EVENTS_PATH;
}

/** The raw body as text, or undefined past MAX_BODY_BYTES (the rest is drained, not kept). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body?: string, contentType?: string) {
  if (res.headersSent) return;
  if (contentType) res.setHeader('content-type', contentType);
  res.writeHead(status).end(body);
}
