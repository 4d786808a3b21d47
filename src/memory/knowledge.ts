import type { KnowledgeRepository } from '../ports/knowledge-repository.js';
import type { Clock } from '../clock.js';
import { DEFAULTS } from '../constants.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KnowledgeLookup } from '../team/follow-up.js';
import type { ToolCache } from '../tools/tool-cache.js';
import type { Embedder } from './embedder.js';

/**
 * Splits text into chunks of at most `max` characters, on paragraph, then line, then sentence
 * boundaries; only a single sentence longer than `max` is cut mid-way. Nothing is dropped.
 */
export function chunkText(text: string, max = 900): string[] {
  const chunks: string[] = [];
  let current = '';
  const add = (piece: string) => {
    if (current && current.length + piece.length + 2 > max) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${piece}` : piece;
  };
  for (const para of text.split(/\n\s*\n/)) {
    for (const line of para.length > max ? para.split('\n') : [para]) {
      for (const sentence of line.length > max ? line.split(/(?<=[.!?])\s+/) : [line]) {
        const p = sentence.trim();
        for (let i = 0; i < p.length; i += max) add(p.slice(i, i + max));
      }
    }
  }
  if (current) chunks.push(current);
  return chunks;
}

/** The public text inside a tool result: a scraped page excerpt, or search results each with its URL. */
function textsOf(value: unknown, fallbackUrl: string): { content: string; url: string }[] {
  const v = value as { excerpt?: unknown; url?: unknown; results?: unknown };
  if (typeof v?.excerpt === 'string') {
    const url = typeof v.url === 'string' ? v.url : fallbackUrl;
    return chunkText(v.excerpt).map((content) => ({ content, url }));
  }
  if (Array.isArray(v?.results)) {
    return (v.results as { title?: string; url?: string; snippet?: string }[])
      .filter((r) => r.url && (r.snippet || r.title))
      .map((r) => ({ content: `${r.title ?? ''}\n${r.snippet ?? ''}`.trim(), url: r.url! }));
  }
  return [];
}

export interface IndexingCache extends ToolCache {
  /** Resolves when every indexing started so far has finished (tests, graceful shutdown). */
  idle(): Promise<void>;
}

/**
 * Wraps the tools' cache so everything they fetch also lands in the shared knowledge base, chunked
 * and embedded, for follow-up questions answered without a new scrape. Indexing runs after the tool
 * has its answer, off the critical path; a failure costs the index, never the answer.
 */
export function createIndexingCache(deps: {
  cache: ToolCache;
  repo: KnowledgeRepository;
  embedder?: Embedder;
  clock: Clock;
  logger?: Logger;
}): IndexingCache {
  const pending = new Set<Promise<void>>();
  const index = async (key: string, value: unknown, ttlMs: number, kind: string, url: string) => {
    const pieces = textsOf(value, url);
    if (pieces.length === 0) return;
    let vectors: (number[] | null)[] = pieces.map(() => null);
    if (deps.embedder) {
      try {
        vectors = await deps.embedder.embed(pieces.map((p) => p.content));
      } catch (err) {
        deps.logger?.warn({ err: describeError(err) }, 'knowledge embedding failed; indexed for full-text search only');
      }
    }
    await deps.repo.indexDocument({
      cacheKey: key,
      sourceKind: kind,
      sourceUrl: url,
      expiresAt: new Date(deps.clock.now() + ttlMs),
      chunks: pieces.map((p, i) => ({ content: p.content, embedding: vectors[i] ?? null, metadata: { url: p.url } })),
    });
  };
  return {
    get: (key) => deps.cache.get(key),
    async set(key, value, ttlMs, source) {
      await deps.cache.set(key, value, ttlMs, source);
      const job = index(key, value, ttlMs, source.kind, source.url)
        .catch((err) => deps.logger?.warn({ err: describeError(err), key }, 'knowledge indexing failed'))
        .finally(() => pending.delete(job));
      pending.add(job);
    },
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

/** Retrieval for follow-ups: similar chunks by embedding, or full-text matches when embeddings fail. */
export function createKnowledgeLookup(deps: { repo: KnowledgeRepository; embedder?: Embedder; k?: number }): KnowledgeLookup {
  return async (query, options) => {
    let vector: number[] | undefined;
    try {
      vector = deps.embedder ? (await deps.embedder.embed([query]))[0] : undefined;
    } catch {
      vector = undefined;
    }
    const hits = await deps.repo.search(query, vector, deps.k ?? 6, options);
    return hits.filter((h) => h.distance === undefined || h.distance < 0.8).map((h) => ({ content: h.content, url: h.url }));
  };
}

export interface KnowledgePruner {
  /** Deletes what expired more than the grace period ago; resolves to how many documents went. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a prune in flight. */
  stop(): Promise<void>;
}

/**
 * Keeps the shared knowledge base from growing forever: expired documents are never served (cache
 * reads and searches filter them), but they would still fill the table and the HNSW index. Runs at
 * once and then every `everyMs`; several workers doing it at the same time is harmless.
 */
export function startKnowledgePruning(deps: {
  repo: KnowledgeRepository;
  clock: Clock;
  logger?: Logger;
  everyMs?: number;
  /** Kept this long past expiry, so a refresh in progress is not raced. */
  graceMs?: number;
}): KnowledgePruner {
  const graceMs = deps.graceMs ?? DEFAULTS.knowledgePruneGraceMs;
  let inflight: Promise<number> = Promise.resolve(0);
  const runOnce = () => {
    inflight = deps.repo
      .pruneExpired(new Date(deps.clock.now() - graceMs))
      .then((n) => {
        if (n > 0) deps.logger?.info({ documents: n }, 'expired knowledge pruned');
        return n;
      })
      .catch((err) => {
        deps.logger?.warn({ err: describeError(err) }, 'knowledge pruning failed');
        return 0;
      });
    return inflight;
  };
  void runOnce();
  const timer = setInterval(runOnce, deps.everyMs ?? DEFAULTS.knowledgePruneEveryMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await inflight;
    },
  };
}
