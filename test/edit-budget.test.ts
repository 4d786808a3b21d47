import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createEditBudget, EDIT_BUDGET_REDIS_OPTIONS, type EditBudget } from '../queue/edit-budget.js';
import { type Clock, createManualClock } from '../src/clock.js';

const REDIS_URL = process.env.REDIS_URL!;
const clients: Redis[] = [];
afterAll(() => {
  for (const client of clients) client.disconnect();
});

/** A client as a worker process makes it: each budget below stands for one worker process. */
function connect(url = REDIS_URL): Redis {
  const client = new Redis(url, EDIT_BUDGET_REDIS_OPTIONS);
  client.on('error', () => {}); // the refused connections below are the point of those tests
  clients.push(client);
  return client;
}

/** Budgets on one fresh key prefix, so tests never share a bucket. */
function deployment(perMinute: number) {
  const keyPrefix = `movebot-test:${randomUUID()}:edit-budget:`;
  const worker = (clock: Clock, redis = connect()) =>
    createEditBudget({ redis, perMinute, clock, keyPrefix });
  return { keyPrefix, worker };
}

async function takes(budget: EditBudget, key: string, n: number): Promise<number> {
  let granted = 0;
  for (let i = 0; i < n; i++) if (await budget.tryTake(key)) granted++;
  return granted;
}

describe('edit budget', () => {
  it('is one allowance per workspace across worker processes', async () => {
    const clock = createManualClock();
    const { worker } = deployment(20); // a burst of 5, then one every 3 s
    const [one, two] = [worker(clock), worker(clock)];
    expect(await takes(one, 'slack:T1', 3)).toBe(3);
    expect(await takes(two, 'slack:T1', 3)).toBe(2);
    expect(await takes(one, 'slack:T1', 1)).toBe(0);
  });

  it('grants the last token to only one of two workers taking at once', async () => {
    const clock = createManualClock();
    const { worker } = deployment(20);
    const [one, two] = [worker(clock), worker(clock)];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).tryTake('slack:T1')),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
  });

  it('gives each workspace, and each platform, its own allowance', async () => {
    const clock = createManualClock();
    const { worker } = deployment(20);
    const [one, two] = [worker(clock), worker(clock)];
    expect(await takes(one, 'slack:T1', 6)).toBe(5);
    expect(await takes(two, 'slack:T2', 6)).toBe(5);
    expect(await takes(two, 'discord:T1', 6)).toBe(5);
  });

  it('refills at the rate with the clock, only up to the burst', async () => {
    const clock = createManualClock();
    const { worker, keyPrefix } = deployment(20);
    const [one, two] = [worker(clock), worker(clock)];
    expect(await takes(one, 'slack:T1', 6)).toBe(5);
    clock.advance(2_999);
    expect(await takes(two, 'slack:T1', 1)).toBe(0);
    clock.advance(1); // 20 a minute = one every 3 s
    expect(await takes(two, 'slack:T1', 2)).toBe(1);
    clock.advance(600_000); // a long quiet spell refills only up to the burst
    expect(await takes(one, 'slack:T1', 6)).toBe(5);
    // Redis forgets the bucket once it would be full again (5 tokens at one per 3 s).
    const ttl = await connect().pttl(`${keyPrefix}slack:T1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15_000);
  });

  it('does not refill twice when one worker clock lags behind another', async () => {
    const ahead = createManualClock();
    const behind = createManualClock(ahead.now() - 10_000);
    const { worker } = deployment(20);
    const [one, two] = [worker(ahead), worker(behind)];
    expect(await takes(one, 'slack:T1', 6)).toBe(5);
    expect(await takes(two, 'slack:T1', 1)).toBe(0);
    // Had the lagging worker set the bucket's time back 10 s, this would refill three tokens.
    expect(await takes(one, 'slack:T1', 1)).toBe(0);
  });

  it('skips the edit, without throwing, when Redis refuses connections', async () => {
    const port = await closedPort();
    const errors: unknown[] = [];
    const budget = createEditBudget({
      redis: connect(`redis://127.0.0.1:${port}`),
      perMinute: 20,
      clock: createManualClock(),
      keyPrefix: `movebot-test:${randomUUID()}:`,
      onError: (err) => errors.push(err),
    });
    await expect(budget.tryTake('slack:T1')).resolves.toBe(false);
    expect(errors).toHaveLength(1);
  });

  it('skips the edit when Redis accepts the connection but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    try {
      const budget = createEditBudget({
        redis: connect(`redis://127.0.0.1:${await listen(silent)}`),
        perMinute: 20,
        clock: createManualClock(),
        keyPrefix: `movebot-test:${randomUUID()}:`,
      });
      // Resolves after the command timeout instead of holding the answer behind it.
      await expect(budget.tryTake('slack:T1')).resolves.toBe(false);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}
