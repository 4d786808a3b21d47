import type { Clock } from '../../src/clock.js';
import type { CacheSource, ToolCache } from '../../src/tools/tool-cache.js';
import type { Database } from '../database.js';

/**
 * The tools' cache, kept in the shared knowledge base: one knowledge document per cache key holds the
 * tool's structured result and its expiry. Expiry is compared against the injected clock, not the
 * database's now(), so TTL behaviour is testable and consistent across processes.
 */
export function createKnowledgeCache(db: Database, clock: Clock): ToolCache {
  return {
    async get<T>(key: string) {
      const { rows } = await db.query<{ payload: T }>(
        `SELECT payload FROM knowledge_documents
         WHERE cache_key = $1 AND payload IS NOT NULL AND (expires_at IS NULL OR expires_at > $2)`,
        [key, new Date(clock.now())],
      );
      return rows[0]?.payload;
    },
    async set<T>(key: string, value: T, ttlMs: number, source: CacheSource) {
      const now = clock.now();
      await db.query(
        `INSERT INTO knowledge_documents (cache_key, source_kind, source_url, payload, fetched_at, expires_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (cache_key) DO UPDATE SET source_kind = EXCLUDED.source_kind,
           source_url = EXCLUDED.source_url, payload = EXCLUDED.payload,
           fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
        [key, source.kind, source.url, JSON.stringify(value), new Date(now), new Date(now + ttlMs)],
      );
    },
  };
}
