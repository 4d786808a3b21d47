/**
 * Ordered schema migrations. Each is applied once, in order, inside one transaction that holds an
 * advisory lock, so two processes starting together cannot both apply it. Never edit an applied
 * migration: add a new one.
 *
 * Vector columns take their size from EMBEDDING_DIMENSIONS; changing it later needs a new migration
 * that re-embeds (the dimension is recorded in `schema_settings` and checked at start).
 */
import { RUN_DURATION_BUCKETS } from './repositories/run-stats.js';

export interface Migration {
  id: number;
  name: string;
  sql: (opts: { dimensions: number }) => string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'core schema',
    sql: ({ dimensions }) => `
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE schema_settings (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO schema_settings (key, value) VALUES ('embedding_dimensions', '${dimensions}');

-- One row per person per platform workspace: memories hang off this id, never off a bare user name.
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  platform text NOT NULL,
  workspace text NOT NULL,
  platform_user_id text NOT NULL,
  display_name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (platform, workspace, platform_user_id)
);

-- A chat thread (or CLI/API conversation) is a session, keyed by a platform-neutral thread key.
CREATE TABLE sessions (
  id text PRIMARY KEY,
  thread_key text NOT NULL UNIQUE,
  platform text NOT NULL,
  component_id text NOT NULL DEFAULT 'move-decision-team',
  owner_user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  title text,
  last_seq integer NOT NULL DEFAULT 0,
  state jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_owner_idx ON sessions (owner_user_id, updated_at DESC);
CREATE INDEX sessions_updated_idx ON sessions (updated_at DESC);

-- Append-only; seq is contiguous per session (allocated from sessions.last_seq under a row lock).
CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  author_user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  author_name text,
  content text NOT NULL,
  -- The platform's id for a user message (Slack ts, Discord message id): a redelivery finds it again.
  external_id text,
  -- For an assistant message: the user message it answers (exactly one answer per user message).
  reply_to bigint REFERENCES messages(id) ON DELETE CASCADE,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (session_id, seq),
  UNIQUE (session_id, external_id)
);
CREATE UNIQUE INDEX messages_reply_to_idx ON messages (reply_to) WHERE reply_to IS NOT NULL;

CREATE TABLE memories (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  content text NOT NULL,
  topic text NOT NULL DEFAULT 'general',
  embedding vector(${dimensions}),
  source_message_id bigint REFERENCES messages(id) ON DELETE SET NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memories_user_idx ON memories (user_id, updated_at DESC);
CREATE INDEX memories_embedding_idx ON memories USING hnsw (embedding vector_cosine_ops);
CREATE INDEX memories_tsv_idx ON memories USING gin (tsv);

-- Public data only (scraped pages, search results, loaded documents), shared by every user.
-- A document holds the whole fetched item and the tool's structured result (the cache);
-- its chunks are what similarity search retrieves.
CREATE TABLE knowledge_documents (
  id bigserial PRIMARY KEY,
  cache_key text NOT NULL UNIQUE,
  source_kind text NOT NULL,
  source_url text NOT NULL,
  title text,
  payload jsonb,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
);
CREATE TABLE knowledge_chunks (
  id bigserial PRIMARY KEY,
  document_id bigint NOT NULL REFERENCES knowledge_documents(id) ON DELETE CASCADE,
  chunk_index integer NOT NULL,
  content text NOT NULL,
  embedding vector(${dimensions}),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  UNIQUE (document_id, chunk_index)
);
CREATE INDEX knowledge_chunks_embedding_idx ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_chunks_tsv_idx ON knowledge_chunks USING gin (tsv);

CREATE TABLE runs (
  id text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_message_id bigint REFERENCES messages(id) ON DELETE SET NULL,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  input text NOT NULL DEFAULT '',
  content text,
  timings jsonb NOT NULL DEFAULT '{}'::jsonb,
  usage jsonb NOT NULL DEFAULT '{}'::jsonb,
  cost_usd numeric(12, 6) NOT NULL DEFAULT 0,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX runs_session_idx ON runs (session_id, started_at);
CREATE INDEX runs_started_idx ON runs (started_at DESC);
`,
  },
  {
    // Numbered apart from the memory/knowledge migrations so parallel work cannot collide on ids.
    id: 10,
    name: 'chat reply state',
    sql: () => `
-- What the bot already posted for one platform message, so a re-run job edits instead of posting again.
CREATE TABLE chat_replies (
  job_id text PRIMARY KEY,
  platform text NOT NULL,
  channel text NOT NULL,
  placeholder jsonb,
  parts jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'placeholder', 'answered', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    id: 11,
    name: 'knowledge indexes: HNSW tuned for writes, expiry for pruning',
    sql: () => `
-- Every answer indexes ~45 chunks, and an HNSW insert's cost grows with m (each new node rewires up to
-- 2m neighbours): at the default m = 16 it was most of PostgreSQL's CPU under load (bench:chat). m = 8
-- halves it; follow-up lookups want 6 loose matches, and the iterative scan makes up for lower recall.
DROP INDEX IF EXISTS knowledge_chunks_embedding_idx;
CREATE INDEX knowledge_chunks_embedding_idx ON knowledge_chunks
  USING hnsw (embedding vector_cosine_ops) WITH (m = 8, ef_construction = 32);
-- Expired documents are deleted every hour by the worker role (src/memory/knowledge.ts).
CREATE INDEX knowledge_documents_expires_idx ON knowledge_documents (expires_at) WHERE expires_at IS NOT NULL;
`,
  },
  {
    id: 12,
    name: 'run totals for /metrics, kept by a trigger',
    sql: () => `
-- /metrics summed the whole runs table at every scrape (~0.6 s at 200k runs, growing). Each run now adds
-- itself to one row here when it finishes, so a scrape reads a few dozen rows, and deleting a session
-- (which deletes its runs) no longer makes the counters go backwards. The duration buckets are fixed
-- here: changing RUN_DURATION_BUCKETS needs a new migration that rebuilds this table.
CREATE TABLE run_totals (
  source text NOT NULL,
  status text NOT NULL,
  code text NOT NULL DEFAULT '',
  bucket smallint NOT NULL,
  runs bigint NOT NULL DEFAULT 0,
  prompt_tokens bigint NOT NULL DEFAULT 0,
  completion_tokens bigint NOT NULL DEFAULT 0,
  cost_usd numeric(18, 6) NOT NULL DEFAULT 0,
  seconds double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (source, status, code, bucket)
);

-- The index of the first bucket bound a duration fits under; ${RUN_DURATION_BUCKETS.length} is +Inf.
CREATE FUNCTION run_duration_bucket(seconds double precision) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(min(b.i) - 1, ${RUN_DURATION_BUCKETS.length})::smallint
    FROM unnest(ARRAY[${RUN_DURATION_BUCKETS.join(', ')}]::float8[]) WITH ORDINALITY AS b(le, i)
   WHERE seconds <= b.le
$$;

-- A failed run's code is the prefix describeError wrote ("llm_error: …"); others count as 'internal'.
CREATE FUNCTION run_error_code(status text, error text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN status = 'failed' THEN coalesce(substring(error FROM '^([a-z]+(?:_[a-z]+)*): '), 'internal') ELSE '' END
$$;

CREATE FUNCTION count_finished_run() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO run_totals AS t (source, status, code, bucket, runs, prompt_tokens, completion_tokens, cost_usd, seconds)
  SELECT s.platform, NEW.status, run_error_code(NEW.status, NEW.error), run_duration_bucket(d.seconds), 1,
         coalesce((NEW.usage->>'promptTokens')::bigint, 0), coalesce((NEW.usage->>'completionTokens')::bigint, 0),
         NEW.cost_usd, d.seconds
    FROM sessions s,
         (SELECT coalesce(extract(epoch FROM NEW.finished_at - NEW.started_at)::float8, 0) AS seconds) d
   WHERE s.id = NEW.session_id
  ON CONFLICT (source, status, code, bucket) DO UPDATE SET
    runs = t.runs + 1,
    prompt_tokens = t.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = t.completion_tokens + EXCLUDED.completion_tokens,
    cost_usd = t.cost_usd + EXCLUDED.cost_usd,
    seconds = t.seconds + EXCLUDED.seconds;
  RETURN NULL;
END
$fn$;

-- Counted once: when a run leaves 'running' (or is written finished).
CREATE TRIGGER runs_count_finished AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (OLD.status = 'running' AND NEW.status <> 'running') EXECUTE FUNCTION count_finished_run();
CREATE TRIGGER runs_count_written_finished AFTER INSERT ON runs FOR EACH ROW
  WHEN (NEW.status <> 'running') EXECUTE FUNCTION count_finished_run();

-- Runs that finished before this migration.
INSERT INTO run_totals (source, status, code, bucket, runs, prompt_tokens, completion_tokens, cost_usd, seconds)
SELECT s.platform, r.status, run_error_code(r.status, r.error), run_duration_bucket(d.seconds), count(*),
       coalesce(sum((r.usage->>'promptTokens')::bigint), 0), coalesce(sum((r.usage->>'completionTokens')::bigint), 0),
       coalesce(sum(r.cost_usd), 0), coalesce(sum(d.seconds), 0)
  FROM runs r
  JOIN sessions s ON s.id = r.session_id
 CROSS JOIN LATERAL (SELECT coalesce(extract(epoch FROM r.finished_at - r.started_at)::float8, 0) AS seconds) d
 WHERE r.status IN ('completed', 'failed')
 GROUP BY 1, 2, 3, 4;
`,
  },
  {
    id: 13,
    name: 'runs: cancelled status and the tool calls of each run',
    sql: () => `
-- A run stopped on request keeps what it had written, marked cancelled.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('running', 'completed', 'failed', 'cancelled'));
-- What the run's tools did (name, arguments, result summary, sources): a reopened session shows them.
ALTER TABLE runs ADD COLUMN tools jsonb NOT NULL DEFAULT '[]'::jsonb;
`,
  },
  {
    id: 14,
    name: 'run_feedback: thumbs up / down per user per run',
    sql: () => `
-- One vote per person per answer; a second click changes it.
CREATE TABLE run_feedback (
  run_id text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  rating text NOT NULL CHECK (rating IN ('up', 'down')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, user_id)
);
CREATE INDEX run_feedback_updated_at ON run_feedback (updated_at);
`,
  },
  {
    id: 15,
    name: "users: the forget watermark ('forget everything' is final)",
    sql: () => `
-- When the user last said "forget everything": nothing learned from an earlier message is stored.
ALTER TABLE users ADD COLUMN forgotten_at timestamptz;
`,
  },
  {
    id: 16,
    name: 'memories: where each was learned (memory is private by place)',
    sql: () => `
-- Who could read the message a memory was learned from: 'dm' the person alone (a DM, the CLI, the API),
-- 'private' a private channel's members, 'public' anyone. Recall in a shared place uses only memories
-- learned where everyone there could read them (src/memory/place.ts). Memories learned before this
-- was kept are of unknown origin: 'dm', so they are never used in a shared place.
ALTER TABLE memories ADD COLUMN learned_platform text;
ALTER TABLE memories ADD COLUMN learned_place text NOT NULL DEFAULT 'dm'
  CHECK (learned_place IN ('dm', 'private', 'public'));
`,
  },
  {
    // Numbered apart so parallel work on other tables cannot collide on ids.
    id: 30,
    name: 'knowledge chunks: exact search within the cities, no HNSW index to maintain',
    sql: () => `
-- Every cold answer indexes ~40 chunks, and keeping the HNSW graph up to date was half of PostgreSQL's
-- CPU per answer (bench:chat, 22 → 11 ms). Lookups only ever read the chunks of documents about the
-- thread's cities (plus loaded guides): a few hundred rows found through the document index, scanned
-- exactly, which is also better recall than an approximate index filtered afterwards.
DROP INDEX IF EXISTS knowledge_chunks_embedding_idx;
`,
  },
];
