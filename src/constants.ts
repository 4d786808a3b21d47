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
  searchCacheTtlMs: 24 * 3600_000,
  /** Brave's free tier allows one request per second. */
  braveMinIntervalMs: 1_000,
  workerConcurrency: 8,
  jobAttempts: 3,
  shutdownDeadlineMs: 30_000,
  /** How often a worker deletes expired knowledge, and how long past expiry a document is kept. */
  knowledgePruneEveryMs: 3600_000,
  knowledgePruneGraceMs: 3600_000,
  /** Chunks one knowledge:add document may have (~9 MB of text): it is written in one statement. */
  maxDocumentChunks: 10_000,
} as const;
