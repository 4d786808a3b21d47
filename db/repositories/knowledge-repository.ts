import type { Clock } from '../../src/clock.js';
import type { KnowledgeRepository } from '../../src/ports/knowledge-repository.js';
import type { Database } from '../database.js';

export type { KnowledgeChunk, KnowledgeHit, KnowledgeRepository } from '../../src/ports/knowledge-repository.js';

export function createKnowledgeRepository(db: Database, clock: Clock): KnowledgeRepository {
  return {
    async indexDocument(doc) {
      // One statement: upsert the document and its chunks, and drop the chunks a shorter new version no
      // longer has (their indexes never overlap the inserted ones, so the CTEs cannot conflict).
      // Indexing runs after every fetch, so round trips count.
      const params: unknown[] = [
        doc.cacheKey,
        doc.sourceKind,
        doc.sourceUrl,
        doc.title ?? null,
        new Date(clock.now()),
        doc.expiresAt ?? null,
        doc.chunks.length,
      ];
      // One VALUES row per chunk, so each embedding is a parameter of its own, sent in binary
      // (db.vector); an array of vectors would go as text.
      const rows = doc.chunks.map((c, i) => {
        params.push(i, c.content, c.embedding ? db.vector(c.embedding) : null, JSON.stringify(c.metadata ?? {}));
        const n = params.length;
        return `($${n - 3}::int, $${n - 2}::text, $${n - 1}::vector, $${n}::jsonb)`;
      });
      const chunks = rows.length
        ? `(VALUES ${rows.join(', ')})`
        : '(SELECT NULL::int, NULL::text, NULL::vector, NULL::jsonb WHERE false)';
      await db.query(
        `WITH doc AS (
           INSERT INTO knowledge_documents (cache_key, source_kind, source_url, title, fetched_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (cache_key) DO UPDATE SET title = COALESCE(EXCLUDED.title, knowledge_documents.title),
             source_url = EXCLUDED.source_url, expires_at = EXCLUDED.expires_at
           RETURNING id
         ), chunks AS (
           INSERT INTO knowledge_chunks (document_id, chunk_index, content, embedding, metadata)
           SELECT doc.id, c.chunk_index, c.content, c.embedding, c.metadata
           FROM doc, ${chunks} AS c(chunk_index, content, embedding, metadata)
           ON CONFLICT (document_id, chunk_index) DO UPDATE SET content = EXCLUDED.content,
             embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata
           -- A refresh that brings the same chunk back leaves it alone: a rewrite is a new HNSW insert.
           WHERE knowledge_chunks.content IS DISTINCT FROM EXCLUDED.content
              OR knowledge_chunks.metadata IS DISTINCT FROM EXCLUDED.metadata
              OR (knowledge_chunks.embedding IS NULL AND EXCLUDED.embedding IS NOT NULL)
         ), stale AS (
           DELETE FROM knowledge_chunks WHERE document_id = (SELECT id FROM doc) AND chunk_index >= $7
         )
         SELECT id FROM doc`,
        params,
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

    async search(query, embedding, k, options = {}) {
      const now = new Date(clock.now());
      // Cities as space-padded words, matched against the cache key in the same form, so "austin"
      // finds "city-research:v1:austin tx" and ".../seattle-wa-vs-austin-tx" but not "austinburg".
      const about = options.about?.map((c) => ` ${c.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `).filter((c) => c.trim());
      const aboutClause = `($4::text[] IS NULL OR d.source_kind = 'document' OR EXISTS (
           SELECT 1 FROM unnest($4::text[]) AS city(words)
            WHERE ' ' || trim(regexp_replace(lower(d.cache_key), '[^a-z0-9]+', ' ', 'g')) || ' ' LIKE '%' || city.words || '%'))`;
      const aboutParam = about?.length ? about : null;
      if (embedding) {
        // Exact distances over the candidate documents' chunks (no approximate index: see migration 30).
        // With cities given that is a few hundred rows, found through the document id index.
        const { rows } = await db.query<{ content: string; source_url: string; source_kind: string; distance: number }>(
          `SELECT c.content, COALESCE(c.metadata->>'url', d.source_url) AS source_url, d.source_kind,
             c.embedding <=> $1::vector AS distance
           FROM knowledge_documents d JOIN knowledge_chunks c ON c.document_id = d.id
           WHERE c.embedding IS NOT NULL AND (d.expires_at IS NULL OR d.expires_at > $2) AND ${aboutClause}
           ORDER BY distance LIMIT $3`,
          [db.vector(embedding), now, k, aboutParam],
        );
        return rows.map((r) => ({ content: r.content, url: r.source_url, sourceKind: r.source_kind, distance: Number(r.distance) }));
      }
      const words = query.toLowerCase().match(/[a-z0-9]{3,}/g)?.slice(0, 20);
      if (!words?.length) return [];
      const { rows } = await db.query<{ content: string; source_url: string; source_kind: string }>(
        `SELECT c.content, COALESCE(c.metadata->>'url', d.source_url) AS source_url, d.source_kind
         FROM knowledge_chunks c
         JOIN knowledge_documents d ON d.id = c.document_id
         WHERE c.tsv @@ to_tsquery('english', $1) AND (d.expires_at IS NULL OR d.expires_at > $2) AND ${aboutClause}
         ORDER BY ts_rank(c.tsv, to_tsquery('english', $1)) DESC LIMIT $3`,
        [words.join(' | '), now, k, aboutParam],
      );
      return rows.map((r) => ({ content: r.content, url: r.source_url, sourceKind: r.source_kind }));
    },
  };
}
