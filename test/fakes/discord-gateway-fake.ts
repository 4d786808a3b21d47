/**
 * The gateway half of the Discord fake (`/gateway`, JSON encoding). Speaks what @discordjs/ws 1.x
 * does: HELLO → IDENTIFY → READY + one GUILD_CREATE per guild, heartbeats (op 1 → op 11), RESUME
 * (replays missed dispatches, then RESUMED; unknown sessions get op 9), and dispatches filtered by the
 * session's intents. discord.js only asks for `compress=zlib-stream` when the optional `zlib-sync`
 * package is installed (it is not here); the fake supports it anyway with node:zlib.
 */
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { constants as zlibConstants, createDeflate, type Deflate } from 'node:zlib';
import type { WebSocket } from 'ws';
import {
  type DiscordUser,
  type GuildSpec,
  guildCreateObject,
  PRIVILEGED_INTENTS,
  type ThreadRecord,
  userObject,
} from './discord-payloads.js';

/** What a client sent in IDENTIFY. */
export interface IdentifyRecord {
  intents: number;
  shard?: [number, number];
  properties: Record<string, unknown>;
  at: number;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  log: Array<{ s: number; t: string; d: unknown }>;
  connection?: Connection;
}

interface Connection {
  ws: WebSocket;
  send(payload: unknown): void;
  session?: Session;
}

export interface GatewayOptions {
  bot: DiscordUser;
  applicationId: string;
  guilds: () => GuildSpec[];
  threads: () => ThreadRecord[];
  /** The gateway URL (resume_gateway_url in READY). */
  url: () => string;
  /** When set, IDENTIFY with another token is closed with 4004. */
  token?: string;
  /** Privileged intents the app is approved for; asking for others closes with 4014. Default: all. */
  approvedIntents: number;
  heartbeatIntervalMs: number;
}

/** Per session: the payload to send, or undefined to withhold the event from that session. */
export type SessionTransform = (intents: number) => unknown;

export function createDiscordGateway(opts: GatewayOptions) {
  const sessions = new Map<string, Session>();
  const connections = new Set<Connection>();
  const identifies: IdentifyRecord[] = [];

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const compress = new URL(req.url ?? '/', 'http://x').searchParams.get('compress') === 'zlib-stream';
    const connection: Connection = {
      ws,
      send: compress ? zlibSender(ws) : (p) => ws.send(JSON.stringify(p)),
    };
    connections.add(connection);
    ws.on('close', () => {
      connections.delete(connection);
      if (connection.session?.connection === connection) connection.session.connection = undefined;
    });
    ws.on('message', (data) => {
      let payload: { op: number; d: Record<string, unknown> };
      try {
        payload = JSON.parse(String(data));
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      onPayload(connection, payload);
    });
    connection.send({ op: 10, d: { heartbeat_interval: opts.heartbeatIntervalMs }, s: null, t: null });
  }

  function onPayload(connection: Connection, { op, d }: { op: number; d: Record<string, unknown> }): void {
    if (op === 1) connection.send({ op: 11, d: null, s: null, t: null });
    else if (op === 2) identify(connection, d);
    else if (op === 6) resume(connection, d);
    // op 3 (presence), 4 (voice), 8 (request members) are accepted and ignored.
  }

  function identify(connection: Connection, d: Record<string, unknown>): void {
    if (opts.token !== undefined && d.token !== opts.token && d.token !== `Bot ${opts.token}`) {
      connection.ws.close(4004, 'Authentication failed.');
      return;
    }
    const intents = Number(d.intents ?? 0);
    identifies.push({
      intents,
      properties: (d.properties ?? {}) as Record<string, unknown>,
      at: Date.now(),
      ...(Array.isArray(d.shard) && { shard: d.shard as [number, number] }),
    });
    if (intents & PRIVILEGED_INTENTS & ~opts.approvedIntents) {
      connection.ws.close(4014, 'Disallowed intent(s).');
      return;
    }
    const session: Session = { id: randomBytes(16).toString('hex'), intents, seq: 0, log: [], connection };
    sessions.set(session.id, session);
    connection.session = session;
    const guilds = opts.guilds();
    send(session, 'READY', {
      v: 10,
      user: { ...userObject(opts.bot), verified: true, mfa_enabled: false, flags: 0, email: null },
      user_settings: {},
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: opts.url(),
      shard: [0, 1],
      application: { id: opts.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    });
    for (const guild of guilds)
      send(session, 'GUILD_CREATE', guildCreateObject(guild, opts.bot, opts.threads()));
  }

  function resume(connection: Connection, d: Record<string, unknown>): void {
    const session = sessions.get(String(d.session_id));
    if (!session) {
      connection.send({ op: 9, d: false, s: null, t: null });
      return;
    }
    session.connection = connection;
    connection.session = session;
    const since = Number(d.seq ?? 0);
    for (const entry of session.log) if (entry.s > since) connection.send({ op: 0, ...entry });
    send(session, 'RESUMED', {});
  }

  function send(session: Session, t: string, d: unknown): number {
    session.seq += 1;
    const entry = { s: session.seq, t, d };
    session.log.push(entry);
    // Keep enough history to replay after a short disconnect without growing without bound.
    if (session.log.length > 1_000) session.log.shift();
    session.connection?.send({ op: 0, ...entry });
    return session.seq;
  }

  return {
    onConnection,
    identifies: identifies as readonly IdentifyRecord[],
    /** Intents of the latest IDENTIFY (undefined before any). */
    get intents(): number | undefined {
      return identifies.at(-1)?.intents;
    },
    /** Number of open gateway connections. */
    get connectionCount(): number {
      return connections.size;
    },
    /** Number of sessions that identified and are currently attached to a connection. */
    get readySessions(): number {
      return [...sessions.values()].filter((s) => s.connection).length;
    },
    /**
     * Sends a dispatch to every session (buffered for disconnected ones, replayed on RESUME).
     * `d` may be a function of the session's intents returning undefined to skip that session.
     */
    dispatch(t: string, d: unknown | SessionTransform): void {
      for (const session of sessions.values()) {
        const payload = typeof d === 'function' ? (d as SessionTransform)(session.intents) : d;
        if (payload !== undefined) send(session, t, payload);
      }
    },
    /** Closes every gateway connection with `code` (4000 lets discord.js RESUME; 4014 is fatal). */
    disconnectAll(code = 4000, reason = 'fake disconnect'): void {
      for (const connection of connections) connection.ws.close(code, reason);
    },
    /** Forgets sessions so the next RESUME gets op 9 (invalid session) and the client re-identifies. */
    invalidateSessions(): void {
      sessions.clear();
    },
  };
}

/** zlib-stream transport: one deflate context per connection, each payload ends in a sync flush. */
function zlibSender(ws: WebSocket): (payload: unknown) => void {
  const deflate: Deflate = createDeflate();
  let queue = Promise.resolve();
  ws.on('close', () => deflate.close());
  return (payload) => {
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          const chunks: Buffer[] = [];
          const onData = (chunk: Buffer) => chunks.push(chunk);
          deflate.on('data', onData);
          deflate.write(JSON.stringify(payload));
          deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            deflate.off('data', onData);
            if (ws.readyState === ws.OPEN) ws.send(Buffer.concat(chunks));
            resolve();
          });
        }),
    );
  };
}

export type DiscordGateway = ReturnType<typeof createDiscordGateway>;
