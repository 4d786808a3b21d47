/**
 * The Socket Mode side of the Slack fake: the WebSocket that `apps.connections.open` points to. Sends
 * `hello`, pings like Slack, wraps events in `events_api` envelopes and interactivity payloads in
 * `interactive` envelopes, and matches the app's `{ envelope_id }` acks.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { waitFor } from './fake-http.js';
import { eventCallbackEnvelope, type SlackEvent } from './slack-wire.js';

/** The app's ack of one envelope. */
export interface SocketAck {
  envelopeId: string;
  /** Time from sending the envelope to the ack. */
  ackMs: number;
  ack: Record<string, unknown>;
}

export function createSlackSocketMode({
  appId,
  teamId,
  botUserId,
}: {
  appId: string;
  teamId: string;
  botUserId: string;
}) {
  const sockets = new Set<WebSocket>();
  const pendingAcks = new Map<string, (payload: Record<string, unknown>) => void>();

  function onSocket(ws: WebSocket): void {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      let ack: Record<string, unknown>;
      try {
        ack = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      pendingAcks.get(String(ack.envelope_id))?.(ack);
    });
    // Slack pings; the client only starts watching for server pings once it has seen one.
    const pinger = setInterval(() => ws.ping(), 10_000);
    pinger.unref();
    ws.on('close', () => clearInterval(pinger));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: appId },
      }),
    );
  }

  async function sendSocketEvent(
    event: SlackEvent,
    opts: { eventId?: string; retryNum?: number; retryReason?: string; timeoutMs?: number } = {},
  ): Promise<SocketAck> {
    const payload = eventCallbackEnvelope(event, {
      teamId,
      botUserId,
      appId,
      ...(opts.eventId !== undefined && { eventId: opts.eventId }),
    });
    return sendEnvelope(
      {
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: opts.retryNum ?? 0,
        retry_reason: opts.retryReason ?? '',
        payload,
      },
      opts.timeoutMs,
    );
  }

  /** Pushes an interactivity payload (e.g. `block_actions`) as Slack's `interactive` envelope. */
  function sendSocketInteraction(
    payload: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<SocketAck> {
    return sendEnvelope({ type: 'interactive', payload, accepts_response_payload: false }, opts.timeoutMs);
  }

  async function sendEnvelope(envelope: Record<string, unknown>, timeoutMs = 10_000): Promise<SocketAck> {
    const ws = [...sockets].find((s) => s.readyState === s.OPEN);
    if (!ws) throw new Error('no Socket Mode connection: await socketConnected() first');
    const envelopeId = randomBytes(8).toString('hex');
    const started = performance.now();
    const acked = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        pendingAcks.delete(envelopeId);
        reject(new Error(`Socket Mode envelope ${envelopeId} was not acked`));
      }, timeoutMs);
      pendingAcks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        pendingAcks.delete(envelopeId);
        resolve(ack);
      });
    });
    ws.send(JSON.stringify({ envelope_id: envelopeId, ...envelope }));
    const ack = await acked;
    return { envelopeId, ackMs: performance.now() - started, ack };
  }

  return {
    onSocket,
    sendSocketEvent,
    sendSocketInteraction,
    /** Resolves once a Socket Mode client has connected and been sent `hello`. */
    connected: (timeoutMs = 10_000) =>
      waitFor(() => sockets.size > 0, { timeoutMs, what: 'a Socket Mode connection' }).then(() => undefined),
    requestReconnect() {
      for (const ws of sockets) ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
    },
  };
}
