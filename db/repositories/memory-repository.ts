import type { Memory, MemoryStore, Place } from '../../src/ports/memory-store.js';
import type { Database } from '../database.js';

const toMemory = (r: Record<string, unknown>): Memory => ({
  id: String(r.id),
  userId: String(r.user_id),
  content: String(r.content),
  topic: String(r.topic),
  sourceMessageId: r.source_message_id == null ? null : String(r.source_message_id),
  learnedPlatform: r.learned_platform == null ? null : String(r.learned_platform),
  learnedPlace: (r.learned_place ?? 'dm') as Place,
  createdAt: new Date(r.created_at as string),
  updatedAt: new Date(r.updated_at as string),
});

const COLUMNS = 'id, user_id, content, topic, source_message_id, learned_platform, learned_place, created_at, updated_at';

/** `AND learned_place = ANY($n)` when the caller names places (the parameter is pushed onto `params`). */
function placeFilter(params: unknown[], places: readonly Place[] | undefined): string {
  if (!places) return '';
  params.push([...places]);
  return ` AND learned_place = ANY($${params.length}::text[])`;
}

/**
 * User memories in Postgres. Every statement filters on user_id first: there is no query that can
 * read or change another user's rows.
 */
export function createMemoryStore(db: Database): MemoryStore {
  const vec = (e: number[] | null | undefined) => (e ? db.vector(e) : null);
  return {
    async add(userId, m) {
      // The user's row is read FOR SHARE: a forget in flight (it updates that row first) is waited for,
      // and its watermark is then seen, so a fact from before the forget is never stored after it.
      const { rows } = await db.query(
        `WITH owner AS (SELECT forgotten_at FROM users WHERE id = $1 FOR SHARE)
         INSERT INTO memories (user_id, content, topic, embedding, source_message_id, learned_platform, learned_place)
         SELECT $1, $2, $3, $4::vector, $5, $6, $7
          WHERE NOT EXISTS (
            SELECT 1 FROM owner, messages src
             WHERE src.id = $5::bigint AND owner.forgotten_at IS NOT NULL AND src.created_at <= owner.forgotten_at)
         RETURNING ${COLUMNS}`,
        [userId, m.content, m.topic, vec(m.embedding), m.sourceMessageId ?? null, m.learnedPlatform ?? null, m.learnedPlace ?? 'dm'],
      );
      return rows[0] ? toMemory(rows[0]) : undefined;
    },

    async update(userId, memoryId, change) {
      const { rows } = await db.query(
        `UPDATE memories SET content = $3, topic = COALESCE($4, topic),
           embedding = CASE WHEN $6 THEN $5::vector ELSE embedding END,
           source_message_id = CASE WHEN $8 THEN $7::bigint ELSE source_message_id END,
           learned_platform = CASE WHEN $10 THEN $9 ELSE learned_platform END,
           learned_place = COALESCE($11, learned_place), updated_at = now()
         WHERE id = $2 AND user_id = $1 RETURNING id`,
        [
          userId,
          memoryId,
          change.content,
          change.topic ?? null,
          vec(change.embedding),
          change.embedding !== undefined,
          change.sourceMessageId ?? null,
          change.sourceMessageId !== undefined,
          change.learnedPlatform ?? null,
          change.learnedPlatform !== undefined,
          change.learnedPlace ?? null,
        ],
      );
      return rows.length > 0;
    },

    async list(userId, options = {}) {
      const params: unknown[] = [userId];
      let where = 'user_id = $1';
      if (options.topic) {
        params.push(options.topic);
        where += ` AND topic = $${params.length}`;
      }
      where += placeFilter(params, options.places);
      const offset = Math.max(options.offset ?? 0, 0);
      // The window count is taken before LIMIT, so one round trip gives the page and the total (every
      // turn lists the user's memories); only a page past the end needs a count of its own.
      const { rows } = await db.query<Record<string, unknown> & { total: string }>(
        `SELECT ${COLUMNS}, count(*) OVER () AS total FROM memories WHERE ${where} ORDER BY updated_at DESC, id DESC
         LIMIT ${Math.min(options.limit ?? 100, 1000)} OFFSET ${offset}`,
        params,
      );
      let total = Number(rows[0]?.total ?? 0);
      if (rows.length === 0 && offset > 0) {
        const counted = await db.query<{ n: string }>(`SELECT count(*) AS n FROM memories WHERE ${where}`, params);
        total = Number(counted.rows[0]?.n ?? 0);
      }
      return { memories: rows.map(toMemory), total };
    },

    async get(userId, memoryId) {
      const { rows } = await db.query(`SELECT ${COLUMNS} FROM memories WHERE id = $2 AND user_id = $1`, [
        userId,
        memoryId,
      ]);
      return rows[0] ? toMemory(rows[0]) : undefined;
    },

    async nearest(userId, embedding, k, options = {}) {
      // An exact scan over this user's rows (found through the user_id index). The shared HNSW index
      // would filter after the scan and can return fewer than k rows for a user who is a needle among
      // millions; one user's memories are few, so exact is both correct and fast. MATERIALIZED keeps
      // the planner from pushing the ORDER BY into the HNSW index.
      const params: unknown[] = [userId, db.vector(embedding), k];
      const places = placeFilter(params, options.places);
      const { rows } = await db.query(
        `WITH mine AS MATERIALIZED (
           SELECT ${COLUMNS}, embedding FROM memories WHERE user_id = $1 AND embedding IS NOT NULL${places}
         )
         SELECT ${COLUMNS}, embedding <=> $2::vector AS distance FROM mine ORDER BY distance LIMIT $3`,
        params,
      );
      return rows.map((r) => ({ ...toMemory(r), distance: Number(r.distance) }));
    },

    async searchText(userId, query, k, options = {}) {
      const words = query
        .toLowerCase()
        .match(/[a-z0-9]{3,}/g)
        ?.slice(0, 20);
      if (!words?.length) return [];
      // Recall joins the words with OR, ranked: a plain-language question rarely contains every word
      // of the fact it needs. Forget joins them with AND: a deletion must not fire on one shared word
      // ("forget that I live in Seattle" is no reason to delete "You live near a park"). Stop words
      // drop out of either query inside to_tsquery.
      const tsquery = words.join(options.match === 'all' ? ' & ' : ' | ');
      const params: unknown[] = [userId, tsquery, k];
      const places = placeFilter(params, options.places);
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM memories
         WHERE user_id = $1 AND tsv @@ to_tsquery('english', $2) ${options.withoutEmbedding ? 'AND embedding IS NULL' : ''}${places}
         ORDER BY ts_rank(tsv, to_tsquery('english', $2)) DESC, updated_at DESC LIMIT $3`,
        params,
      );
      return rows.map(toMemory);
    },

    async remove(userId, memoryIds) {
      if (memoryIds.length === 0) return 0;
      const { rows } = await db.query('DELETE FROM memories WHERE user_id = $1 AND id = ANY($2::bigint[]) RETURNING id', [
        userId,
        memoryIds,
      ]);
      return rows.length;
    },

    async removeAll(userId) {
      // Two statements in one transaction: the watermark first (waiting for inserts that hold the user's
      // row), then the delete, whose fresh snapshot sees whatever those inserts committed.
      return db.transaction(async (tx) => {
        await tx.query('UPDATE users SET forgotten_at = clock_timestamp() WHERE id = $1', [userId]);
        const { rows } = await tx.query('DELETE FROM memories WHERE user_id = $1 RETURNING id', [userId]);
        return rows.length;
      });
    },
  };
}
