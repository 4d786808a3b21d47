import { z } from 'zod';

/**
 * What one run of the team says while it works, in order: the one vocabulary every surface renders
 * (SSE for the API, the live plan and streamed text in Slack and Discord, the CLI's progress lines).
 * Workers append them to a per-run log; any web replica reads that log.
 */
// The team's analysts (src/team/types.ts derives AnalystId from this list).
export const AnalystIdSchema = z.enum(['cost-analyst', 'sentiment-analyst', 'migration-researcher']);
const CitySchema = z.object({ name: z.string(), display: z.string(), state: z.string().optional(), slug: z.string().optional() });
const MetricsSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  total_tokens: z.number(),
  cost_usd: z.number(),
  duration: z.number(),
});

/** An image of a run's answer, in Agno's Image shape: base64 `content` with its MIME type and alt text. */
const RunImageSchema = z.object({
  id: z.string(),
  content: z.string(),
  mime_type: z.string(),
  format: z.string(),
  alt_text: z.string(),
  width: z.number(),
  height: z.number(),
});
export type RunImage = z.infer<typeof RunImageSchema>;

export const RunEventSchema = z.discriminatedUnion('type', [
  /** The web role accepted an API message; a worker has not picked it up yet. */
  z.object({ type: z.literal('run_queued'), runId: z.string(), sessionId: z.string() }),
  /** A worker (or the CLI) started answering; `attempt` > 1 after a retry or a crashed worker. */
  z.object({
    type: z.literal('run_started'),
    runId: z.string(),
    sessionId: z.string(),
    platform: z.string(),
    attempt: z.number().int().min(1),
  }),
  z.object({ type: z.literal('cities_resolved'), from: CitySchema, to: CitySchema }),
  z.object({ type: z.literal('analyst_started'), analyst: AnalystIdSchema }),
  z.object({
    type: z.literal('analyst_finished'),
    analyst: AnalystIdSchema,
    ok: z.boolean(),
    ms: z.number(),
    reason: z.string().optional(),
  }),
  z.object({
    type: z.literal('tool_call_started'),
    callId: z.string(),
    analyst: AnalystIdSchema,
    tool: z.string(),
    /** A short, human-readable summary of the arguments ("seattle-wa-vs-austin-tx"). */
    args: z.string(),
  }),
  z.object({
    type: z.literal('tool_call_completed'),
    callId: z.string(),
    analyst: AnalystIdSchema,
    tool: z.string(),
    args: z.string(),
    ok: z.boolean(),
    cached: z.boolean(),
    /** "NerdWallet: 27% lower overall", "8 Reddit threads", or why it failed. */
    summary: z.string(),
    /** The pages and threads it read. */
    sources: z.array(z.string()),
  }),
  z.object({ type: z.literal('synthesizing') }),
  /** Text of the answer as the model writes it (already grounded). */
  z.object({ type: z.literal('content_delta'), text: z.string() }),
  z.object({
    type: z.literal('run_completed'),
    /** What API clients show: the Markdown report for a recommendation, else the answer. */
    content: z.string(),
    kind: z.string(),
    metrics: MetricsSchema,
    /** Charts of the answer (the cost chart), as Agno's run output lists `images`. */
    images: z.array(RunImageSchema).optional(),
  }),
  z.object({ type: z.literal('run_error'), code: z.string(), message: z.string() }),
  /** Stopped on request; `content` is what had been written. */
  z.object({ type: z.literal('run_cancelled'), content: z.string() }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventListener = (event: RunEvent) => void;

/** An event as stored, with the id a reader resumes after (SSE `id:`, `Last-Event-ID`). */
export interface StoredRunEvent {
  id: string;
  /** Epoch ms when it was appended. */
  at: number;
  event: RunEvent;
}

export const TERMINAL_EVENTS = new Set<RunEvent['type']>(['run_completed', 'run_error', 'run_cancelled']);
export const isTerminal = (event: RunEvent) => TERMINAL_EVENTS.has(event.type);

/** The per-run event log: Redis Streams between processes, memory inside the CLI. */
export interface RunEventLog {
  /** Appends an event; appends of one run keep their call order. Resolves to the event's id. */
  append(runId: string, event: RunEvent): Promise<string>;
  /** The run's events after `afterId` (from the first when undefined), as far as they go now. */
  read(runId: string, afterId?: string): Promise<StoredRunEvent[]>;
  /**
   * The run's events after `afterId`, then new ones as they are appended, until a terminal event has
   * been yielded or `signal` aborts (then it just ends).
   */
  follow(runId: string, afterId: string | undefined, signal: AbortSignal): AsyncIterable<StoredRunEvent>;
  /** Frees what the log holds (connections); logs themselves expire on their own. */
  close(): Promise<void>;
}

/** Asking a run to stop, from any process, and noticing it where the run works. */
export interface RunCancellation {
  /** Records that the run should stop and tells every worker at once. */
  request(runId: string): Promise<void>;
  /** True once a stop was requested, also when that happened before the run started. */
  isRequested(runId: string): Promise<boolean>;
  /** Calls `onCancel` (once) when a stop is requested for the run; returns the unsubscribe. */
  watch(runId: string, onCancel: () => void): () => void;
  /** Frees connections. */
  close(): Promise<void>;
}
