import { randomUUID } from 'node:crypto';
import { MessageMetadataSchema, SessionStateSchema, type SessionStore } from '../../src/ports/session-store.js';
import { MovebotError } from '../../src/errors.js';
import { UserProfileSchema } from '../../src/team/schemas.js';
import { type Database, pgErrorCode } from '../database.js';
import { toMessage, toRun, toSession, toUser } from './rows.js';

/** The PostgreSQL/PGlite implementation of the SessionStore port. All SQL for it lives here. */
export function createSessionStore(db: Database): SessionStore {
  return {
    async upsertUser(key, displayName) {
      const { rows } = await db.query(
        `INSERT INTO users (platform, workspace, platform_user_id, display_name)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, workspace, platform_user_id)
         DO UPDATE SET display_name = COALESCE(EXCLUDED.display_name, users.display_name), updated_at = now()
         RETURNING *`,
        [key.platform, key.workspace, key.platformUserId, displayName ?? null],
      );
      return toUser(rows[0]!);
    },

    async getUser(id) {
      const { rows } = await db.query('SELECT * FROM users WHERE id = $1', [id]);
      return rows[0] ? toUser(rows[0]) : undefined;
    },

    async getOrCreateSession(input) {
      // DO UPDATE (a no-op touch) instead of DO NOTHING so RETURNING yields the row in both cases.
      const { rows } = await db.query(
        `INSERT INTO sessions (id, thread_key, platform, owner_user_id, title, component_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (thread_key) DO UPDATE SET thread_key = EXCLUDED.thread_key
         RETURNING *`,
        [
          input.id ?? randomUUID(),
          input.threadKey,
          input.platform,
          input.ownerUserId ?? null,
          input.title ?? null,
          input.componentId ?? 'move-decision-team',
        ],
      );
      return toSession(rows[0]!);
    },

    async getSession(id) {
      const { rows } = await db.query('SELECT * FROM sessions WHERE id = $1', [id]);
      return rows[0] ? toSession(rows[0]) : undefined;
    },

    async getSessionByThreadKey(threadKey) {
      const { rows } = await db.query('SELECT * FROM sessions WHERE thread_key = $1', [threadKey]);
      return rows[0] ? toSession(rows[0]) : undefined;
    },

    async listSessions(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.ownerUserId) add('owner_user_id = ?', filter.ownerUserId);
      if (filter.platform) add('platform = ?', filter.platform);
      if (filter.componentId) add('component_id = ?', filter.componentId);
      if (filter.componentIds) add('component_id = ANY(?)', filter.componentIds);
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = Number(
        (await db.query<{ n: string }>(`SELECT count(*) AS n FROM sessions ${clause}`, params)).rows[0]?.n ?? 0,
      );
      const { rows } = await db.query(
        `SELECT * FROM sessions ${clause} ORDER BY updated_at DESC, id
         LIMIT ${Math.min(filter.limit ?? 20, 500)} OFFSET ${Math.max(filter.offset ?? 0, 0)}`,
        params,
      );
      return { sessions: rows.map(toSession), total };
    },

    async deleteSession(id) {
      const { rows } = await db.query('DELETE FROM sessions WHERE id = $1 RETURNING id', [id]);
      return rows.length > 0;
    },

    async updateSession(id, patch) {
      await db.query(
        `UPDATE sessions SET state = state || $2::jsonb, title = COALESCE($3, title), updated_at = now()
         WHERE id = $1`,
        [id, JSON.stringify(SessionStateSchema.strict().parse(patch.state ?? {})), patch.title ?? null],
      );
    },

    async forgetUserState(userId) {
      // One statement for every session of theirs. jsonb_set on a missing 'team' would yield NULL, hence
      // the CASE. updated_at stays, so forgetting does not reorder anyone's session list.
      const { rows } = await db.query(
        `UPDATE sessions s
         SET state = CASE
             WHEN s.state ? 'team' THEN jsonb_set(
               s.state,
               '{team}',
               CASE WHEN s.state->'team'->>'lastFor' = $1::text THEN (s.state->'team') - 'last' - 'lastFor' - 'comparison' ELSE s.state->'team' END
                 #- ARRAY['profiles', $1::text]
             )
             ELSE s.state
           END
           || jsonb_build_object('forgotten', COALESCE(s.state->'forgotten', '{}'::jsonb) || jsonb_build_object($1::text, s.last_seq))
         WHERE (s.state->'team'->'profiles') ? $1::text
           OR s.state->'team'->>'lastFor' = $1::text
           OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.author_user_id = $2::bigint)
         RETURNING s.id`,
        [userId, userId],
      );
      // The answers made for them keep no trace of their profile (income included) or memories: the
      // income the tax estimate used goes with the profile, and so does its line in the summary; a
      // several-destination answer loses its comparison (every pair's profile), as it loses its report.
      await db.query(
        `UPDATE messages a
            SET metadata = jsonb_set(
                  jsonb_set(
                    jsonb_set(a.metadata - 'report' - 'comparison', '{recommendation,profile}', $2::jsonb),
                    '{recommendation,memoriesUsed}', '[]'::jsonb),
                  '{recommendation,taxes,data,annualIncome}', 'null'::jsonb, false)
                || jsonb_build_object('usedMemories', false),
                content = regexp_replace(
                  regexp_replace(a.content, '^_You mentioned: .*$', '', 'gm'),
                  ' · est\\. \\$[0-9,]+/yr (more|less) on \\$[0-9,]+ \\(single filer\\)', '', 'g')
          WHERE a.role = 'assistant'
            AND a.reply_to IN (SELECT q.id FROM messages q WHERE q.author_user_id = $1::bigint)
            AND a.metadata ? 'recommendation'`,
        [userId, JSON.stringify(UserProfileSchema.parse({}))],
      );
      await db.query(
        `UPDATE messages a SET metadata = (a.metadata - 'report') || jsonb_build_object('usedMemories', false)
          WHERE a.role = 'assistant' AND (a.metadata->>'usedMemories')::boolean
            AND a.reply_to IN (SELECT q.id FROM messages q WHERE q.author_user_id = $1::bigint)`,
        [userId],
      );
      return rows.length;
    },

    async appendMessage(sessionId, message) {
      const existing = async () => {
        const { rows } = message.externalId
          ? await db.query('SELECT * FROM messages WHERE session_id = $1 AND external_id = $2', [
              sessionId,
              message.externalId,
            ])
          : message.replyTo
            ? await db.query('SELECT * FROM messages WHERE reply_to = $1', [message.replyTo])
            : { rows: [] };
        return rows[0] ? toMessage(rows[0]) : undefined;
      };
      // One statement: taking the next seq and inserting happen atomically (the UPDATE holds the
      // session row's lock), and a duplicate platform message rolls both back with a unique violation.
      try {
        const { rows } = await db.query(
          `WITH next AS (
             UPDATE sessions SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq
           )
           INSERT INTO messages
             (session_id, seq, role, author_user_id, author_name, content, external_id, reply_to, metadata)
           SELECT $1, next.last_seq, $2, $3, $4, $5, $6, $7, $8 FROM next
           RETURNING *`,
          [
            sessionId,
            message.role,
            message.authorUserId ?? null,
            message.authorName ?? null,
            message.content,
            message.externalId ?? null,
            message.replyTo ?? null,
            JSON.stringify(MessageMetadataSchema.strict().parse(message.metadata ?? {})),
          ],
        );
        if (!rows[0]) throw new MovebotError('not_found', `session ${sessionId} does not exist`);
        return toMessage(rows[0]);
      } catch (err) {
        // Redelivered platform messages and re-run jobs must not store a second copy: return the first.
        if (pgErrorCode(err) === '23505') {
          const first = await existing();
          if (first) return first;
        }
        throw err;
      }
    },

    async updateMessage(id, change) {
      const { rows } = await db.query(
        'UPDATE messages SET content = $2, metadata = COALESCE($3::jsonb, metadata) WHERE id = $1 RETURNING *',
        [id, change.content, change.metadata ? JSON.stringify(MessageMetadataSchema.strict().parse(change.metadata)) : null],
      );
      if (!rows[0]) throw new MovebotError('not_found', `message ${id} does not exist`);
      return toMessage(rows[0]);
    },

    async findReply(userMessageId) {
      const { rows } = await db.query('SELECT * FROM messages WHERE reply_to = $1', [userMessageId]);
      return rows[0] ? toMessage(rows[0]) : undefined;
    },

    async listMessages(sessionId, options = {}) {
      const { rows } = options.limit
        ? await db.query(
            `SELECT * FROM (SELECT * FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT $2) m
             ORDER BY seq`,
            [sessionId, options.limit],
          )
        : await db.query('SELECT * FROM messages WHERE session_id = $1 ORDER BY seq', [sessionId]);
      return rows.map(toMessage);
    },

    async startRun(input) {
      const { rows } = await db.query(
        `INSERT INTO runs (id, session_id, user_message_id, status, input) VALUES ($1, $2, $3, 'running', $4)
         ON CONFLICT (id) DO UPDATE SET status = 'running', error = NULL, finished_at = NULL,
           user_message_id = coalesce(EXCLUDED.user_message_id, runs.user_message_id)
         RETURNING *`,
        [input.id ?? randomUUID(), input.sessionId, input.userMessageId ?? null, input.input],
      );
      return toRun(rows[0]!);
    },

    async finishRun(id, result) {
      await db.query(
        `UPDATE runs SET status = $2, content = $3, timings = $4::jsonb, usage = $5::jsonb, cost_usd = $6,
           error = $7, tools = $8::jsonb, finished_at = now()
         WHERE id = $1`,
        [
          id,
          result.status,
          result.content ?? null,
          JSON.stringify(result.timings ?? {}),
          JSON.stringify(result.usage ?? {}),
          result.costUsd ?? 0,
          result.error ?? null,
          JSON.stringify(result.tools ?? []),
        ],
      );
    },

    async getRun(id) {
      const { rows } = await db.query('SELECT * FROM runs WHERE id = $1', [id]);
      return rows[0] ? toRun(rows[0]) : undefined;
    },

    async listRuns(sessionId) {
      const { rows } = await db.query('SELECT * FROM runs WHERE session_id = $1 ORDER BY started_at, id', [
        sessionId,
      ]);
      return rows.map(toRun);
    },
  };
}
