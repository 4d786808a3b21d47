/**
 * The Socket Mode side of the Slack fake: the WebSocket that `apps.connections.open` points to. Sends
 * `hello`, pings like Slack, wraps events in `events_api` envelopes and matches the app's
 * `{ envelope_id }` acks.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { waitFor } from './fake-http.js';
import { eventCallbackEnvelope, type SlackEvent } from './slack-wire.js';

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
  ): Promise<{ envelopeId: string; ackMs: number; ack: Record<string, unknown> }> {
    const ws = [...sockets].find((s) => s.readyState === s.OPEN);
    if (!ws) throw new Error('no Socket Mode connection: await socketConnected() first');
    const envelopeId = randomBytes(8).toString('hex');
    const payload = eventCallbackEnvelope(event, {
      teamId,
      botUserId,
      appId,
      ...(opts.eventId !== undefined && { eventId: opts.eventId }),
    });
    const started = performance.now();
    const acked = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        pendingAcks.delete(envelopeId);
        reject(new Error(`Socket Mode envelope ${envelopeId} was not acked`));
      }, opts.timeoutMs ?? 10_000);
      pendingAcks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        pendingAcks.delete(envelopeId);
        resolve(ack);
      });
    });
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: opts.retryNum ?? 0,
        retry_reason: opts.retryReason ?? '',
        payload,
      }),
    );
    const ack = await acked;
    return { envelopeId, ackMs: performance.now() - started, ack };
  }

  return {
    onSocket,
    sendSocketEvent,
    /** Resolves once a Socket Mode client has connected and been sent `hello`. */
    connected: (timeoutMs = 10_000) =>
      waitFor(() => sockets.size > 0, { timeoutMs, what: 'a Socket Mode connection' }).then(() => undefined),
    requestReconnect() {
      for (const ws of sockets) ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
    },
  };
}
