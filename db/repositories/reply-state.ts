import type { Database } from '../database.js';

/** Where the bot's reply to one platform message stands. */
export interface ReplyState {
  jobId: string;
  /** The placeholder message that becomes the answer (a PostedRef). */
  placeholder: { id: string; channel: string; thread?: string } | null;
  /** Parts already posted after the placeholder, by part key → platform message id. */
  parts: Record<string, string>;
  /** `failed`: a failure notice was delivered; an operator's retry answers over it. */
  status: 'pending' | 'placeholder' | 'answered' | 'failed';
}

/** Reply bookkeeping in Postgres: it outlives a killed worker, unlike anything in its memory. */
export interface ReplyStateStore {
  /** The state for a job, or undefined before anything was posted. */
  get(jobId: string): Promise<ReplyState | undefined>;
  /** Records the placeholder just posted. */
  savePlaceholder(jobId: string, platform: string, channel: string, ref: ReplyState['placeholder']): Promise<void>;
  /** Records one more posted part. */
  addPart(jobId: string, partKey: string, messageId: string): Promise<void>;
  /** Marks the answer fully delivered (`failed`: what was delivered is a failure notice). */
  markAnswered(jobId: string, status?: 'answered' | 'failed'): Promise<void>;
  /**
   * Claims the one final failure notice of a job: marks it `failed` at once and returns the placeholder
   * to edit (null when none was posted), or undefined when an answer or a notice is already delivered
   * or claimed, so two callers (the run's own fallback, the worker's failed event) never both post.
   */
  claimFailureNotice(
    jobId: string,
    platform: string,
    channel: string,
  ): Promise<{ placeholder: ReplyState['placeholder'] } | undefined>;
}

export function createReplyStateStore(db: Database): ReplyStateStore {
  return {
    async get(jobId) {
      const { rows } = await db.query<{ job_id: string; placeholder: ReplyState['placeholder']; parts: Record<string, string>; status: ReplyState['status'] }>(
        'SELECT job_id, placeholder, parts, status FROM chat_replies WHERE job_id = $1',
        [jobId],
      );
      const r = rows[0];
      return r ? { jobId: r.job_id, placeholder: r.placeholder, parts: r.parts ?? {}, status: r.status } : undefined;
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
      return rows[0] ? { placeholder: rows[0].placeholder } : undefined;
    },
  };
}
