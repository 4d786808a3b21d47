import type { Clock } from '../clock.js';

/** What a cached entry came from; the knowledge base keeps it alongside the content. */
export interface CacheSource {
  /** e.g. 'nerdwallet', 'brave-search'. */
  kind: string;
  /** The public URL (or a search URL) the content came from. */
  url: string;
}

/**
 * The tools' read-through cache of public data. Production backs it with the knowledge table
 * (shared across users, with expiry); unit tests use the in-memory one below.
 */
export interface ToolCache {
  /** The stored value for `key`, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` under `key` until `ttlMs` from now. */
  set<T>(key: string, value: T, ttlMs: number, source: CacheSource): Promise<void>;
}

export function createMemoryCache(clock: Clock): ToolCache {
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  return {
    async get<T>(key: string) {
      const hit = entries.get(key);
      if (!hit || hit.expiresAt <= clock.now()) return undefined;
      return hit.value as T;
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: clock.now() + ttlMs });
    },
  };
}
