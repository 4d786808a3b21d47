import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// These prove the test services are the real thing: native pgvector and a Redis configured the way
// BullMQ needs it.
describe('test services', () => {
  describe('PostgreSQL', () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    beforeAll(() => client.connect());
    afterAll(() => client.end());

    it('has the pgvector extension and computes cosine distance', async () => {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      const result = await client.query<{ distance: number }>(
        "SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector AS distance",
      );
      const distance = result.rows[0]?.distance;
      expect(typeof distance).toBe('number');
      // 1 - cos([1,2,3], [1,2,4]) = 1 - 17 / (sqrt(14) * sqrt(21))
      expect(distance).toBeCloseTo(1 - 17 / Math.sqrt(14 * 21), 6);
    });
  });

  describe('Redis', () => {
    const redis = new Redis(process.env.REDIS_URL ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
    beforeAll(() => redis.connect());
    afterAll(() => redis.quit());

    it('answers PING', async () => {
      expect(await redis.ping()).toBe('PONG');
    });

    it('never evicts keys (BullMQ requires maxmemory-policy noeviction)', async () => {
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    });
  });
});
