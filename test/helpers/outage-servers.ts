import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/*
 * Real PostgreSQL and Redis servers of a drill's own, which it stops, restarts and freezes. The shared
 * test servers (scripts/test-services.sh) cannot be stopped: the test file running beside the drill
 * uses them. Same binaries: TEST_PG_BIN (exported by the script) and redis-server on the PATH.
 */

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A PostgreSQL server (pgvector available) that a drill stops, starts and freezes. */
export interface DrillPostgres {
  /** postgres://… of its `postgres` database, as a base URL for createTestDatabase. */
  url: string;
  /** `pg_ctl stop -m fast`: sessions are terminated (57P01), new connections refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** SIGSTOP to every server process: connections open, nothing answers (a hung server). */
  freeze(): Promise<void>;
  /** SIGCONT: the frozen server answers again. */
  thaw(): Promise<void>;
  /** Stops it for good and deletes its data. */
  close(): Promise<void>;
}

function pgBin(): string {
  if (process.env.TEST_PG_BIN) return process.env.TEST_PG_BIN;
  const majors = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse() : [];
  const found = majors.map((m) => `/usr/lib/postgresql/${m}/bin`).find((dir) => existsSync(join(dir, 'pg_ctl')));
  if (!found) throw new Error('no PostgreSQL binaries: run the drill through scripts/test-services.sh (it sets TEST_PG_BIN)');
  return found;
}

export async function startDrillPostgres(): Promise<DrillPostgres> {
  const bin = pgBin();
  const root = await mkdtemp('/tmp/movebot-drill-pg-');
  await chmod(root, 0o755);
  const data = join(root, 'data');
  await mkdir(data, { mode: 0o700 });
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    // PostgreSQL refuses to run as root: the postgres system user runs it (the script creates it).
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    owner = { uid: Number(uid.stdout), gid: Number(gid.stdout) };
    await chown(data, owner.uid, owner.gid);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: root })
      : run(join(bin, tool), args, { cwd: root });
  await pg('initdb', ['-D', data, '-U', 'movebot', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
  const port = await freePort();
  const options = [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    `-k ${data}`,
    '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    '-c max_connections=100 -c log_min_messages=warning',
  ].join(' ');
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', join(data, 'server.log'), '-w', '-t', '30', 'start', '-o', options]);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  };
  /** The postmaster and its children (backends, background workers). */
  const processes = async (): Promise<number[]> => {
    const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)]);
    return [postmaster, ...stdout.split('\n').map(Number).filter((pid) => pid > 0)];
  };
  let frozen: number[] = [];
  // Should the test process end without close() (a killed worker), the server must not outlive it.
  let postmaster: number | undefined;
  const onExit = () => {
    for (const pid of [...frozen, ...(postmaster ? [postmaster] : [])]) {
      try {
        process.kill(pid, 'SIGCONT');
        if (pid === postmaster) process.kill(pid, 'SIGQUIT'); // immediate shutdown
      } catch {
        // gone already
      }
    }
  };
  process.once('exit', onExit);
  const thaw = async () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    frozen = [];
  };
  const startAndTrack = async () => {
    await start();
    postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  };
  await startAndTrack();
  return {
    url: `postgres://movebot:movebot@127.0.0.1:${port}/postgres`,
    stop: () => stop('fast'),
    start: startAndTrack,
    async freeze() {
      frozen = await processes();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
    async close() {
      process.off('exit', onExit);
      await thaw();
      await stop('immediate').catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A Redis server with an append-only file, so a restart keeps the queue (as a persistent Redis does). */
export interface DrillRedis {
  url: string;
  /** SIGTERM: Redis writes its append-only file and exits; every client sees the connection drop. */
  stop(): Promise<void>;
  /** Starts it again on the same port, from the same file. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startDrillRedis(): Promise<DrillRedis> {
  const dir = await mkdtemp('/tmp/movebot-drill-redis-');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = async () => {
    if (running()) return;
    child = spawn(
      'redis-server',
      [
        '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes',
        '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--logfile', join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      for (let i = 0; ; i += 1) {
        try {
          await probe.connect();
          await probe.ping();
          if (!running()) throw new Error('another server answered on the port');
          return;
        } catch (err) {
          if (i >= 100 || !running()) throw new Error(`redis-server did not start: ${String(err)}`);
          probe.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  };
  const stop = async () => {
    if (!running()) throw new Error('redis-server is not running');
    const c = child!;
    child = undefined;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    start,
    stop,
    async close() {
      process.off('exit', onExit);
      if (running()) await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
