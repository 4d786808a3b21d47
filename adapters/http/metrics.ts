import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MessageQueue } from '../../queue/message-queue.js';
import type { TokenUsage } from '../../src/ports/session-store.js';

/** One finished team run, from the API or from the queue worker. */
export interface RunRecord {
  status: 'completed' | 'failed';
  /** Wall time of the run. */
  ms: number;
  usage?: TokenUsage;
  costUsd?: number;
  /** Where it ran: 'api' or the worker's platform ('slack', 'discord'). */
  source?: string;
  /** MovebotError code of a failed run. */
  errorCode?: string;
}

export interface Metrics {
  /** This app's own registry (not prom-client's global one), so several apps can live in one process. */
  readonly registry: Registry;
  /** Counts a finished run: status, latency, tokens, estimated cost and, when failed, its error. */
  recordRun(run: RunRecord): void;
  /** Counts an error outside a run (e.g. a request the queue could not take). */
  recordError(code: string, source?: string): void;
  /** Counts an answered HTTP API request by route pattern and status. */
  recordRequest(route: string, status: number): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
}

/**
 * Prometheus metrics for runs, latency, tokens, cost, errors and queue depth. The worker shares one
 * instance with the API router when both run in one process (`--role all`); a separate worker process
 * exposes its own.
 */
export function createMetrics(options: { queue?: Pick<MessageQueue, 'counts'> } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({
    name: 'movebot_runs_total',
    help: 'Team runs by outcome and source',
    labelNames: ['status', 'source'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'movebot_run_duration_seconds',
    help: 'Wall time of team runs',
    labelNames: ['status'] as const,
    buckets: [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300],
    registers,
  });
  const tokens = new Counter({
    name: 'movebot_llm_tokens_total',
    help: 'Model tokens used by team runs',
    labelNames: ['kind'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'movebot_llm_cost_usd_total',
    help: 'Estimated model cost of team runs in US dollars (list prices, see src/llm/pricing.ts)',
    registers,
  });
  const errors = new Counter({
    name: 'movebot_errors_total',
    help: 'Errors by code and source',
    labelNames: ['code', 'source'] as const,
    registers,
  });
  const requests = new Counter({
    name: 'movebot_http_requests_total',
    help: 'HTTP API requests by route and status',
    labelNames: ['route', 'status'] as const,
    registers,
  });
  const queue = options.queue;
  new Gauge({
    name: 'movebot_queue_jobs',
    help: 'Chat jobs in the queue by state (read from Redis at scrape time)',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!queue) return;
      // Redis being down must not break the whole scrape; the gauge simply goes missing.
      const counts = await queue.counts().catch(() => undefined);
      if (!counts) return;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  // Zeroed series exist from the start, so dashboards show 0 rather than "no data".
  for (const status of ['completed', 'failed']) runs.inc({ status, source: 'api' }, 0);
  for (const kind of ['prompt', 'completion']) tokens.inc({ kind }, 0);

  return {
    registry,
    contentType: registry.contentType,
    recordRun(run) {
      const source = run.source ?? 'api';
      runs.inc({ status: run.status, source });
      latency.observe({ status: run.status }, run.ms / 1000);
      if (run.usage) {
        tokens.inc({ kind: 'prompt' }, run.usage.promptTokens);
        tokens.inc({ kind: 'completion' }, run.usage.completionTokens);
      }
      if (run.costUsd) cost.inc(run.costUsd);
      if (run.status === 'failed') errors.inc({ code: run.errorCode ?? 'internal', source });
    },
    recordError(code, source = 'api') {
      errors.inc({ code, source });
    },
    recordRequest(route, status) {
      requests.inc({ route, status: String(status) });
    },
    render: () => registry.metrics(),
  };
}
