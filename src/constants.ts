/** Defaults in one place, so a reader can see every knob the service has without grepping. */
export const DEFAULTS = {
  openaiModel: 'gpt-4o-mini',
  embeddingModel: 'text-embedding-3-small',
  embeddingDimensions: 1536,
  braveApiUrl: 'https://api.search.brave.com/res/v1',
  firecrawlApiUrl: 'https://api.firecrawl.dev',
  redisUrl: 'redis://127.0.0.1:6379',
  port: 7777,
  reportsDir: 'reports',
  pgliteDir: '.data/pglite',
  /** Our own per-call LLM timeout; the SDK default (10 min) would outlive any chat platform's patience. */
  llmTimeoutMs: 60_000,
  /** SDK-level retries per LLM call. Queue attempts multiply this, so keep it small. */
  llmMaxRetries: 1,
  scrapeTimeoutMs: 45_000,
  searchTimeoutMs: 15_000,
  costCacheTtlMs: 7 * 24 * 3600_000,
  /** State tax rates change once a year at most; a Tax Foundation page is reused this long. */
  taxCacheTtlMs: 30 * 24 * 3600_000,
  searchCacheTtlMs: 24 * 3600_000,
  /** Brave's free tier allows one request per second. */
  braveMinIntervalMs: 1_000,
  workerConcurrency: 8,
  shutdownDeadlineMs: 30_000,
  /** How often a worker deletes expired knowledge, and how long past expiry a document is kept. */
  knowledgePruneEveryMs: 3600_000,
  knowledgePruneGraceMs: 3600_000,
  /** Chunks one knowledge:add document may have (~9 MB of text): it is written in one statement. */
  maxDocumentChunks: 10_000,
  /** A whole turn's deadline: a model that trickles tokens forever cannot hold a thread. */
  turnDeadlineMs: 300_000,
} as const;

/** PostgreSQL timeouts and outages (the worker waits a database outage out without spending attempts). */
export const DATABASE = {
  /** How long opening a connection may take (a hung or unreachable server fails fast instead of hanging). */
  connectTimeoutMs: 5_000,
  /** Server-side `statement_timeout` of every session (migrations run without it). */
  statementTimeoutMs: 15_000,
  /** Client-side wait for a query's answer; a little above the statement timeout, for a hung server. */
  queryTimeoutMs: 20_000,
  /** How long a job waits for an unreachable database before its thread is told so. */
  outageWaitMs: 180_000,
  /** The first wait between looks at a database that is down (doubling), and the longest. */
  outageRetryMs: 1_000,
  outageRetryMaxMs: 15_000,
} as const;

/** The per-run event log (Redis Streams): what any web replica replays and follows. */
export const RUN_EVENTS = {
  /** Events kept per run (approximate trim): a long answer streams a few hundred deltas. */
  maxLength: 10_000,
  /** How long a run's events stay readable after its last event. */
  ttlSeconds: 3600,
  /** How long one blocking read waits before it looks again (and notices a closed client). */
  blockMs: 15_000,
  /** SSE comment line interval, so proxies keep an idle stream open. */
  keepAliveMs: 15_000,
} as const;

/** BullMQ and per-thread ordering. */
export const QUEUE = {
  /**
   * BullMQ's job lock; the thread lock lives as long, so a crashed worker's thread frees with it. A
   * killed worker's job is re-run at most lockDurationMs + stalledIntervalMs after the kill (≤ 9 s,
   * goal 10 s; bench:recovery). BullMQ renews it every lockDurationMs / 2 (4 s) from a timer, so a
   * long model call (an await) keeps it; only an event loop blocked for more than ~2–4 s could lose
   * it, and a turn's longest block is far shorter (bench:recovery prints it). Cost: about one Redis
   * command a second per running job (docs/benchmarks.md, "Crash recovery").
   */
  lockDurationMs: 8_000,
  /** How often BullMQ looks for jobs whose worker stopped renewing their lock (one Redis call per worker; one scan per interval across workers). */
  stalledIntervalMs: 1_000,
  /** How long a waiting message of a busy thread sleeps before it looks again. */
  threadRetryMs: 250,
  /** Queue attempts of a turn and the first retry's delay (doubling). */
  attempts: 3,
  retryDelayMs: 2_000,
  /** How long an enqueue waits for Redis before the surface says the service is unavailable. */
  enqueueTimeoutMs: 2_000,
  /** How long a message being enqueued is claimed, so a simultaneous duplicate is recognised. */
  enqueueClaimMs: 5_000,
  /** How long finished and failed jobs stay in Redis (for exactly-once checks and inspection). */
  keepCompletedSeconds: 24 * 3600,
  keepFailedSeconds: 7 * 24 * 3600,
} as const;

/**
 * Ingress limits, checked by the web role at enqueue (queue/quotas.ts). The first three are the
 * defaults of LIMIT_TURNS_PER_MINUTE, LIMIT_DAILY_BUDGET_USD and LIMIT_PENDING_PER_THREAD (0 = off).
 */
export const LIMITS = {
  /** Turns one user may start per minute (per platform workspace). */
  turnsPerMinute: 5,
  /** Estimated model cost (US dollars) one workspace may spend per UTC day. */
  dailyBudgetUsd: 5,
  /** Messages that may wait (or be answered) in one thread at once. */
  pendingPerThread: 10,
  /** How long a workspace's spend read from the database is reused (in Redis, by every web replica). */
  spendCacheMs: 30_000,
  /** How long reading the spend may take; past it (or on a database error) the message is let through. */
  spendLookupTimeoutMs: 750,
  /** After a failed spend look-up, how long this process lets messages through without asking again. */
  spendLookupBackoffMs: 5_000,
  /** What a message refused because its thread is full is told to wait: the thread has no fixed reset. */
  threadRetryAfterMs: 60_000,
  /** How long a refused message is remembered, so a redelivery of it is a duplicate (no second reply). */
  refusedMemoMs: 10 * 60_000,
} as const;

/** Native streaming (Slack). */
export const STREAMING = {
  /** How long a workspace that could not stream is answered by edits before streaming is tried again. */
  fallbackMemoryMs: 3600_000,
} as const;

/** The team's turn. */
export const TEAM = {
  /** An analyst still running after this is cancelled and its section reported unavailable. */
  analystTimeoutMs: 120_000,
  /** Earlier messages of the thread the team reads on each turn. */
  historyLimit: 20,
  /** Destinations one question may compare from one origin; more are named back and the rest dropped. */
  maxDestinations: 3,
} as const;

export const CHART = {
  /**
   * Rendered charts kept in memory per process, by what they show: the same figures give the same
   * bytes, and a popular pair's page (cached for a week) is charted again for everyone who asks.
   * About 65–80 KiB each.
   */
  cacheEntries: 64,
} as const;
