import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisOptionsFromUrl } from '../queue/redis.js';
import { ConfigError, loadConfig, MIN_API_KEY_LENGTH } from '../src/config.js';
import { createLogger, createLoggerFromConfig } from '../src/logger.js';
import { waitFor } from './fakes/fake-http.js';
import { startSystem } from './helpers/system.js';

// Issue 12, item 6: safe defaults for deployment. Keys too short to be a secret are refused at start,
// database and Redis passwords never reach a log line, docker compose keeps PostgreSQL and Redis on
// loopback behind passwords from .env, and no Redis client of a worker prints its outage past the logger.

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** A pino logger writing into a string, as the processes' loggers write to stdout. */
function capture(make: (sink: Writable) => ReturnType<typeof createLogger>) {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: make(sink), text: () => out };
}

describe('AGENTOS_API_KEY', () => {
  it(`is a config error, naming the variable, when shorter than ${MIN_API_KEY_LENGTH} characters`, () => {
    const short = 'x'.repeat(MIN_API_KEY_LENGTH - 1);
    for (const role of ['web', 'worker', 'all'] as const) {
      const err = problemsOf(() => loadConfig(role, { OPENAI_API_KEY: 'sk-test-123456', AGENTOS_API_KEY: short }));
      expect(err.problems.map((p) => p.variable), role).toEqual(['AGENTOS_API_KEY']);
      expect(err.message).toContain(`AGENTOS_API_KEY: must be at least ${MIN_API_KEY_LENGTH} characters`);
      expect(err.message).not.toContain(short); // the error names the variable, never the value
    }
    // Collected with every other wrong variable into the one message.
    const both = problemsOf(() => loadConfig('web', { AGENTOS_API_KEY: 'changeme', PORT: 'eighty' }));
    expect(both.problems.map((p) => p.variable).sort()).toEqual(['AGENTOS_API_KEY', 'PORT']);
  });

  it(`is accepted from ${MIN_API_KEY_LENGTH} characters, and ignored by the CLI, which serves no API`, () => {
    const key = randomBytes(16).toString('hex');
    expect(key).toHaveLength(MIN_API_KEY_LENGTH);
    expect(loadConfig('web', { AGENTOS_API_KEY: key }).agentosApiKey).toBe(key);
    expect(() => loadConfig('cli', { OPENAI_API_KEY: 'sk-test-123456', AGENTOS_API_KEY: 'short' })).not.toThrow();
  });
});

describe('database and Redis passwords in logs', () => {
  const REDIS_PW = 'SECRET-redis-pw-0006';
  const DB_PW = 'SECRET-db-pw-0007';

  it('never writes the password of REDIS_URL or DATABASE_URL, wherever the URL appears', () => {
    const env = {
      REDIS_URL: `redis://:${REDIS_PW}@127.0.0.1:6380/0`,
      DATABASE_URL: `postgres://movebot:${DB_PW}@127.0.0.1:5532/movebot`,
    };
    const config = loadConfig('web', env);
    const { log, text } = capture((sink) => createLoggerFromConfig(config, sink));
    log.info(`connecting to ${env.REDIS_URL} and ${env.DATABASE_URL}`);
    log.warn({ url: env.REDIS_URL, connection: { redisUrl: env.REDIS_URL } }, 'queue connection error');
    log.error(new Error(`connect ECONNREFUSED ${env.DATABASE_URL}`), 'database unreachable');
    const out = text();
    expect(out.split('\n').filter(Boolean)).toHaveLength(3);
    expect(out).not.toContain(REDIS_PW);
    expect(out).not.toContain(DB_PW);
    // What an operator needs stays: which server, and that a credential was there.
    expect(out).toContain('redis://:[redacted]@127.0.0.1:6380/0');
    expect(out).toContain('postgres://movebot:[redacted]@127.0.0.1:5532/movebot');
  });

  it('scrubs URL passwords it was never told about: another server, percent-escapes, a proxy URL', () => {
    const { log, text } = capture((sink) => createLogger({ destination: sink }));
    log.info({ replica: 'redis://default:other%40pw-0008@10.0.0.5:6379' }, 'replica');
    log.warn('proxy http://user:proxy-pw-0009@proxy.internal:3128 refused; postgresql://u:pg-pw-0010@db/x too');
    log.info('plain https://example.com/a://b and mailto-like a@b.c are left alone');
    const out = text();
    for (const secret of ['other%40pw-0008', 'proxy-pw-0009', 'pg-pw-0010']) expect(out).not.toContain(secret);
    expect(out).toContain('redis://default:[redacted]@10.0.0.5:6379');
    expect(out).toContain('plain https://example.com/a://b and mailto-like a@b.c are left alone');
  });
});

// ---------------------------------------------------------------------------------------------
// docker compose
// ---------------------------------------------------------------------------------------------

const compose = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

/** The lines of one service of docker-compose.yml (two-space indented under `services:`). */
function serviceBlock(name: string): string {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  expect(start, `service ${name}`).toBeGreaterThan(-1);
  const end = lines.findIndex((l, i) => i > start && /^ {0,2}\S/.test(l));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

/** The published ports of a service ("host_ip:host:container" strings). */
function portsOf(name: string): string[] {
  const block = serviceBlock(name);
  const ports = /\n {4}ports:\n((?: {6}- .*\n?)+)/.exec(block)?.[1] ?? '';
  return [...ports.matchAll(/- "([^"]+)"/g)].map((m) => m[1]!);
}

/** Compose's `${VAR}` / `${VAR:?message}` interpolation with the given values. */
const interpolate = (text: string, values: Record<string, string>) =>
  text.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`no value for ${name}`);
    return values[name]!;
  });

describe('docker-compose.yml', () => {
  it('publishes PostgreSQL and Redis on 127.0.0.1 only, with passwords from .env and no fixed one', () => {
    expect(portsOf('postgres')).toEqual(['127.0.0.1:5532:5432']);
    expect(portsOf('redis')).toEqual(['127.0.0.1:6380:6379']);
    expect(serviceBlock('postgres')).toContain('POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?');
    expect(serviceBlock('redis')).toMatch(/"--requirepass", "\$\{REDIS_PASSWORD:\?[^}]*\}"/);
    for (const app of ['web', 'worker']) {
      const block = serviceBlock(app);
      expect(block, app).toMatch(/DATABASE_URL: postgres:\/\/movebot:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/movebot/);
      expect(block, app).toMatch(/REDIS_URL: redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/);
    }
    expect(compose).not.toMatch(/movebot:movebot@|POSTGRES_PASSWORD: movebot/);
    // Documented where operators copy their configuration from.
    expect(envExample).toMatch(/^POSTGRES_PASSWORD=$/m);
    expect(envExample).toMatch(/^REDIS_PASSWORD=$/m);
    expect(envExample).toContain('redis://:<REDIS_PASSWORD>@127.0.0.1:6380');
  });
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Redis started with the arguments docker-compose.yml gives it (password included), on a free loopback
 * port, so the app connects to it the way the compose services do.
 */
async function startComposeRedis(password: string, port: number, dir: string): Promise<ChildProcess> {
  const command = JSON.parse(/^ {4}command: (\[.*\])$/m.exec(serviceBlock('redis'))![1]!) as string[];
  const args = command.slice(1).map((arg) => interpolate(arg, { REDIS_PASSWORD: password }));
  const child = spawn(command[0]!, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  const probe = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await waitFor(async () => (await probe.connect().then(() => probe.ping(), () => undefined)) === 'PONG', {
      timeoutMs: 10_000,
      what: 'redis-server to start',
    });
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('the app on Redis started as docker compose starts it', () => {
  const password = randomBytes(24).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'movebot-compose-redis-'));
  let port: number;
  let redis: ChildProcess | undefined;
  /** REDIS_URL exactly as compose gives it to web and worker, pointed at this machine's port. */
  let redisUrl: string;

  beforeAll(async () => {
    port = await freePort();
    redis = await startComposeRedis(password, port, dir);
    const template = /REDIS_URL: (.+)$/m.exec(serviceBlock('web'))![1]!;
    redisUrl = interpolate(template, { REDIS_PASSWORD: password }).replace('@redis:6379', `@127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await stopRedis(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses clients without the password', async () => {
    // The wire itself: a PING with no AUTH first.
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.write('PING\r\n');
    const [reply] = (await once(socket, 'data')) as [string];
    socket.destroy();
    expect(reply).toMatch(/^-NOAUTH/);
  });

  it('serves the web and worker roles through the URL compose gives them: ready, and a run answered', async () => {
    const system = await startSystem({ platforms: [], env: { REDIS_URL: redisUrl } });
    try {
      const ready = await fetch(`${system.services.url}/ready`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
      const run = await fetch(`${system.services.url}/teams/move-decision-team/runs`, {
        method: 'POST',
        body: new URLSearchParams({ message: 'what do you remember about me?', stream: 'false', user_id: 'compose' }),
      });
      expect(run.status).toBe(200);
      expect(await run.json()).toMatchObject({ status: 'COMPLETED', content: expect.stringContaining("I don't remember anything") });
    } finally {
      await system.close();
    }
  });

  it('a worker with Discord keeps every Redis outage message in its logger (no "[ioredis] Unhandled error event")', async () => {
    const system = await startSystem({ platforms: ['discord'], role: 'worker', env: { REDIS_URL: redisUrl } });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    // A client of our own, to know when the reconnect attempts have begun failing.
    const witness = new Redis(redisUrl);
    let witnessErrors = 0;
    witness.on('error', () => {
      witnessErrors++;
    });
    try {
      await witness.ping();
      await stopRedis(redis);
      await waitFor(() => witnessErrors >= 4, { timeoutMs: 15_000, what: 'reconnect attempts to fail' });
      const printed = consoleError.mock.calls.map((args) => args.map(String).join(' '));
      expect(printed.filter((line) => line.includes('[ioredis] Unhandled error event'))).toEqual([]);
      expect(printed.join('\n')).not.toContain(password);
    } finally {
      consoleError.mockRestore();
      // Back before stopping, so the worker can close its connections cleanly.
      redis = await startComposeRedis(password, port, dir);
      witness.disconnect();
      // BullMQ's Worker.close() never resolves while its blocking connection is still reconnecting
      // (taskforcesh/bullmq#4656): close only once the worker is registered on Redis again.
      const queue = new Queue(system.queueName, { connection: redisOptionsFromUrl(redisUrl) });
      queue.on('error', () => {});
      await waitFor(async () => (await queue.getWorkers().catch(() => [])).length > 0, {
        timeoutMs: 20_000,
        what: 'the worker to reconnect',
      });
      await queue.close();
      await system.close();
    }
  }, 60_000);
});
