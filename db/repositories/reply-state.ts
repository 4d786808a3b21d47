import { PlaceholderSchema, type ReplyState, type ReplyStateStore } from '../../src/ports/reply-state.js';
import type { Database } from '../database.js';

export type { ReplyState, ReplyStateStore } from '../../src/ports/reply-state.js';

export function createReplyStateStore(db: Database): ReplyStateStore {
  return {
    async get(jobId) {
      const { rows } = await db.query<{ job_id: string; placeholder: ReplyState['placeholder']; parts: Record<string, string>; status: ReplyState['status'] }>(
        'SELECT job_id, placeholder, parts, status FROM chat_replies WHERE job_id = $1',
        [jobId],
      );
      const r = rows[0];
      return r
        ? { jobId: r.job_id, placeholder: PlaceholderSchema.nullable().parse(r.placeholder), parts: r.parts ?? {}, status: r.status }
        : undefined;
    },
    async savePlaceholder(jobId, platform, channel, ref) {
      await db.query(
        `INSERT INTO chat_replies (job_id, platform, channel, placeholder, status) VALUES ($1, $2, $3, $4::jsonb, 'placeholder')
         ON CONFLICT (job_id) DO UPDATE SET placeholder = EXCLUDED.placeholder, status = 'placeholder', updated_at = now()`,
        [jobId, platform, channel, JSON.stringify(ref)],
      );
    },
    async addPart(jobId, partKey, messageId) {
      await db.query(
        `UPDATE chat_replies SET parts = parts || jsonb_build_object($2::text, $3::text), updated_at = now() WHERE job_id = $1`,
        [jobId, partKey, messageId],
      );
    },
    async markAnswered(jobId, status = 'answered') {
      await db.query('UPDATE chat_replies SET status = $2, updated_at = now() WHERE job_id = $1', [jobId, status]);
    },
    async claimFailureNotice(jobId, platform, channel) {
      const { rows } = await db.query<{ placeholder: ReplyState['placeholder'] }>(
        `INSERT INTO chat_replies (job_id, platform, channel, status) VALUES ($1, $2, $3, 'failed')
         ON CONFLICT (job_id) DO UPDATE SET status = 'failed', updated_at = now()
           WHERE chat_replies.status IN ('pending', 'placeholder')
         RETURNING placeholder`,
        [jobId, platform, channel],
      );
      return rows[0] ? { placeholder: PlaceholderSchema.nullable().parse(rows[0].placeholder) } : undefined;
    },
  };
}
