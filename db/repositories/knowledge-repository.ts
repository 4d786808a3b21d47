import pgvector from 'pgvector';
import type { Clock } from '../../src/clock.js';
import type { Database } from '../database.js';

export interface KnowledgeChunk {
  content: string;
  embedding: number[] | null;
  metadata?: Record<string, unknown>;
}

export interface KnowledgeHit {
  content: string;
  url: string;
  sourceKind: string;
  /** Cosine distance, or undefined for a full-text hit. */
  distance?: number;
}

/** The shared knowledge base's chunks: public data only, never anything about a user. */
export interface KnowledgeRepository {
  /** Replaces the chunks of the document under `cacheKey`, creating the document if needed. */
  indexDocument(doc: {
    cacheKey: string;
    sourceKind: string;
    sourceUrl: string;
    title?: string;
    expiresAt?: Date | null;
    chunks: KnowledgeChunk[];
  }): Promise<void>;
  /** Nearest unexpired chunks to `embedding`, or full-text matches for `query` without one. */
  search(query: string, embedding: number[] | undefined, k: number): Promise<KnowledgeHit[]>;
  /** Deletes documents (and their chunks) that expired before `before`; returns how many. */
  pruneExpired(before: Date): Promise<number>;
}

export function createKnowledgeRepository(db: Database, clock: Clock): KnowledgeRepository {
  return {
    async indexDocument(doc) {
      // One statement: upsert the document and its chunks, and drop the chunks a shorter new version no
      // longer has (their indexes never overlap the inserted ones, so the CTEs cannot conflict).
      // Indexing runs after every fetch, so round trips count.
      await db.query(
        `WITH doc AS (
           INSERT INTO knowledge_documents (cache_key, source_kind, source_url, title, fetched_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (cache_key) DO UPDATE SET title = COALESCE(EXCLUDED.title, knowledge_documents.title),
             source_url = EXCLUDED.source_url, expires_at = EXCLUDED.expires_at
           RETURNING id
         ), chunks AS (
           INSERT INTO knowledge_chunks (document_id, chunk_index, content, embedding, metadata)
           SELECT doc.id, c.ord - 1, c.content, c.embedding::vector, c.metadata::jsonb
           FROM doc, unnest($7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS c(content, embedding, metadata, ord)
           ON CONFLICT (document_id, chunk_index) DO UPDATE SET content = EXCLUDED.content,
             embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata
           -- A refresh that brings the same chunk back leaves it alone: a rewrite is a new HNSW insert.
           WHERE knowledge_chunks.content IS DISTINCT FROM EXCLUDED.content
              OR knowledge_chunks.metadata IS DISTINCT FROM EXCLUDED.metadata
              OR (knowledge_chunks.embedding IS NULL AND EXCLUDED.embedding IS NOT NULL)
         ), stale AS (
           DELETE FROM knowledge_chunks WHERE document_id = (SELECT id FROM doc) AND chunk_index >= $10
         )
         SELECT id FROM doc`,
        [
          doc.cacheKey,
          doc.sourceKind,
          doc.sourceUrl,
          doc.title ?? null,
          new Date(clock.now()),
          doc.expiresAt ?? null,
          doc.chunks.map((c) => c.content),
          doc.chunks.map((c) => (c.embedding ? pgvector.toSql(c.embedding) : null)),
          doc.chunks.map((c) => JSON.stringify(c.metadata ?? {})),
          doc.chunks.length,
        ],
      );
    },

    async pruneExpired(before) {
      // Documents without an expiry (guides loaded with knowledge:add) are kept; chunks go by cascade.
      const { rows } = await db.query<{ n: number }>(
        `WITH gone AS (DELETE FROM knowledge_documents WHERE expires_at < $1 RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [before],
      );
      return rows[0]?.n ?? 0;
    },

    async search(query, embedding, k) {
      const now = new Date(clock.now());
      if (embedding) {
        // The expiry filter applies after the HNSW scan, so expired chunks near the query could crowd
        // out fresh ones; an iterative scan keeps reading the index until k fresh chunks are found
        // (relaxed order, hence the final sort).
        const rows = await db.transaction(async (tx) => {
          await tx.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
          const result = await tx.query<{ content: string; source_url: string; source_kind: string; distance: number }>(
            `WITH nearest AS MATERIALIZED (
               SELECT c.content, COALESCE(c.metadata->>'url', d.source_url) AS source_url, d.source_kind,
                 c.embedding <=> $1::vector AS distance
               FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
               WHERE c.embedding IS NOT NULL AND (d.expires_at IS NULL OR d.expires_at > $2)
               ORDER BY c.embedding <=> $1::vector LIMIT $3
             )
             SELECT * FROM nearest ORDER BY distance`,
            [pgvector.toSql(embedding), now, k],
          );
          return result.rows;
        });
        return rows.map((r) => ({ content: r.content, url: r.source_url, sourceKind: r.source_kind, distance: Number(r.distance) }));
      }
      const words = query.toLowerCase().match(/[a-z0-9]{3,}/g)?.slice(0, 20);
      if (!words?.length) return [];
      const { rows } = await db.query<{ content: string; source_url: string; source_kind: string }>(
        `SELECT c.content, COALESCE(c.metadata->>'url', d.source_url) AS source_url, d.source_kind
         FROM knowledge_chunks c
         JOIN knowledge_documents d ON d.id = c.document_id
         WHERE c.tsv @@ to_tsquery('english', $1) AND (d.expires_at IS NULL OR d.expires_at > $2)
         ORDER BY ts_rank(c.tsv, to_tsquery('english', $1)) DESC LIMIT $3`,
        [words.join(' | '), now, k],
      );
      return rows.map((r) => ({ content: r.content, url: r.source_url, sourceKind: r.source_kind }));
    },
  };
}
