import type { FeedbackCounts, FeedbackStore, Rating } from '../../src/ports/feedback-store.js';
import { type Database, pgErrorCode } from '../database.js';

const counts = (r: Record<string, unknown>): FeedbackCounts => ({ up: Number(r.up ?? 0), down: Number(r.down ?? 0) });

export function createFeedbackStore(db: Database): FeedbackStore {
  return {
    async record({ runId, userId, rating }) {
      try {
        // The previous rating comes from the row as it was before this statement (a CTE sees the snapshot).
        const { rows } = await db.query(
          `WITH before AS (SELECT rating FROM run_feedback WHERE run_id = $1 AND user_id = $2)
           INSERT INTO run_feedback (run_id, user_id, rating) VALUES ($1, $2, $3)
           ON CONFLICT (run_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, updated_at = now()
           RETURNING (SELECT rating FROM before) AS previous`,
          [runId, userId, rating],
        );
        return { previous: (rows[0]?.previous as Rating | null) ?? null };
      } catch (err) {
        if (pgErrorCode(err) === '23503') return undefined; // no such run
        throw err;
      }
    },

    async totals() {
      const { rows } = await db.query(
        `SELECT count(*) FILTER (WHERE rating = 'up') AS up, count(*) FILTER (WHERE rating = 'down') AS down FROM run_feedback`,
      );
      return counts(rows[0] ?? {});
    },

    async daily(days) {
      const { rows } = await db.query(
        `SELECT to_char(date_trunc('day', updated_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
                count(*) FILTER (WHERE rating = 'up') AS up, count(*) FILTER (WHERE rating = 'down') AS down
           FROM run_feedback
          WHERE updated_at > now() - make_interval(days => $1::int)
          GROUP BY 1 ORDER BY 1`,
        [days],
      );
      return rows.map((r) => ({ day: String(r.day), ...counts(r) }));
    },

    async forRuns(runIds) {
      if (runIds.length === 0) return {};
      const { rows } = await db.query(
        `SELECT run_id, count(*) FILTER (WHERE rating = 'up') AS up, count(*) FILTER (WHERE rating = 'down') AS down
           FROM run_feedback WHERE run_id = ANY($1::text[]) GROUP BY run_id`,
        [runIds],
      );
      return Object.fromEntries(rows.map((r) => [String(r.run_id), counts(r)]));
    },
  };
}
