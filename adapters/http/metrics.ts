import { Counter, Gauge, Registry } from 'prom-client';
import type { Queryable } from '../../db/database.js';
import { RUN_DURATION_BUCKETS, type RunTotals, runTotals } from '../../db/repositories/run-stats.js';
import type { FeedbackStore } from '../../src/ports/feedback-store.js';
import { LIMIT_NAMES, type LimitName, type MessageQueue } from '../../src/ports/message-queue.js';
import type { Logger } from '../../src/logger.js';

export interface Metrics {
  /** Counts an answered HTTP API request by route pattern and status (this process only). */
  recordRequest(route: string, status: number): void;
  /** Counts a message refused at enqueue by an ingress limit (this process only). */
  recordLimit(limit: LimitName, platform: string): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
}


/**
 * Prometheus metrics. Runs, latency, tokens, cost and failed runs by error code come from the totals
 * the database keeps as runs finish (run_totals), so one scrape of any web process sees every run,
 * wherever it ran (the API, or a worker process answering Slack and Discord). Queue depth is read from Redis, also shared.
 * Only the HTTP request and limits-hit counters are this process's own (sum them over web replicas).
 */
export function createMetrics(options: {
  db: Queryable;
  queue?: Pick<MessageQueue, 'counts'>;
  /** Thumbs up / down on answers (`movebot_feedback_total`), read from the database at scrape time. */
  feedback?: Pick<FeedbackStore, 'totals'>;
  logger?: Logger;
}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'movebot_http_requests_total',
    help: 'HTTP API requests by route and status, answered by this process',
    labelNames: ['route', 'status'] as const,
    registers,
  });
  const limitsHit = new Counter({
    name: 'movebot_limits_hit_total',
    help: 'Messages refused at enqueue by an ingress limit (user_turns, workspace_budget, thread_pending), by platform, in this process',
    labelNames: ['limit', 'platform'] as const,
    registers,
  });
  // Zeroed series from the start, so dashboards and rate() see 0 rather than "no data".
  for (const limit of LIMIT_NAMES) for (const platform of ['slack', 'discord', 'api']) limitsHit.inc({ limit, platform }, 0);
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

  const runSeries = async (): Promise<string> => {
    // Likewise the database: the run series go missing (and /ready says why), the rest still answers.
    const totals = await runTotals(options.db).catch((err: unknown) => {
      options.logger?.warn({ err: String(err) }, 'metrics: could not read the run totals');
      return undefined;
    });
    return totals ? renderRuns(totals) : '';
  };

  const feedbackSeries = async (): Promise<string> => {
    const totals = await options.feedback?.totals().catch((err: unknown) => {
      options.logger?.warn({ err: String(err) }, 'metrics: could not read the feedback totals');
      return undefined;
    });
    if (!totals) return '';
    return [
      '# HELP movebot_feedback_total Current thumbs up / down votes on answers, one per user per answer (every process)',
      '# TYPE movebot_feedback_total counter',
      `movebot_feedback_total{rating="up"} ${totals.up}`,
      `movebot_feedback_total{rating="down"} ${totals.down}`,
      '',
    ].join('\n');
  };

  return {
    contentType: registry.contentType,
    recordRequest(route, status) {
      requests.inc({ route, status: String(status) });
    },
    recordLimit(limit, platform) {
      limitsHit.inc({ limit, platform });
    },
    render: async () => {
      const [own, runs, feedback] = await Promise.all([registry.metrics(), runSeries(), feedbackSeries()]);
      return own + runs + feedback;
    },
  };
}

type Labels = Record<string, string>;
type Series = Map<string, { labels: Labels; value: number }>;

/** Adds `value` to the series with these labels (creating it at 0 first). */
function add(series: Series, labels: Labels, value: number): void {
  const key = JSON.stringify(labels);
  const entry = series.get(key) ?? { labels, value: 0 };
  entry.value += value;
  series.set(key, entry);
}

/**
 * The run series in Prometheus text format. prom-client cannot take a histogram's bucket counts
 * from elsewhere, and these totals are the table's, not events of this process, so they are
 * written out directly. Counters here are totals over the whole table: deleting a session
 * (DELETE /sessions/:id) deletes its runs, which Prometheus reads as a counter reset.
 */
function renderRuns(totals: RunTotals[]): string {
  // The label sets are those the in-process counters had, so dashboards keep working.
  const runs: Series = new Map();
  const tokens: Series = new Map();
  const cost: Series = new Map();
  const errors: Series = new Map();
  // Zeroed series exist from the start, so dashboards show 0 rather than "no data".
  for (const status of ['completed', 'failed']) add(runs, { status, source: 'api' }, 0);
  for (const kind of ['prompt', 'completion']) add(tokens, { kind }, 0);
  add(cost, {}, 0);
  const durations = new Map<string, { labels: Labels; seconds: number; count: number; atMost: number[] }>();
  for (const t of totals) {
    add(runs, { status: t.status, source: t.source }, t.runs);
    add(tokens, { kind: 'prompt' }, t.promptTokens);
    add(tokens, { kind: 'completion' }, t.completionTokens);
    add(cost, {}, t.costUsd);
    if (t.code) add(errors, { code: t.code, source: t.source }, t.runs);
    const d = durations.get(t.status) ?? {
      labels: { status: t.status },
      seconds: 0,
      count: 0,
      atMost: RUN_DURATION_BUCKETS.map(() => 0),
    };
    d.seconds += t.seconds;
    d.count += t.runs;
    d.atMost = d.atMost.map((n, i) => n + (t.atMost[i] ?? 0));
    durations.set(t.status, d);
  }

  const lines: string[] = [];
  const family = (name: string, type: string, help: string, series: Series) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { labels, value } of series.values()) lines.push(`${name}${labelText(labels)} ${value}`);
  };
  const everyProcess = 'kept in the database as runs finish, so every process counts';
  family('movebot_runs_total', 'counter', `Finished team runs by outcome and source (${everyProcess})`, runs);
  lines.push(
    `# HELP movebot_run_duration_seconds Wall time of finished team runs (${everyProcess})`,
    '# TYPE movebot_run_duration_seconds histogram',
  );
  for (const d of durations.values()) {
    RUN_DURATION_BUCKETS.forEach((le, i) => {
      lines.push(
        `movebot_run_duration_seconds_bucket${labelText({ ...d.labels, le: String(le) })} ${d.atMost[i]}`,
      );
    });
    lines.push(
      `movebot_run_duration_seconds_bucket${labelText({ ...d.labels, le: '+Inf' })} ${d.count}`,
      `movebot_run_duration_seconds_sum${labelText(d.labels)} ${d.seconds}`,
      `movebot_run_duration_seconds_count${labelText(d.labels)} ${d.count}`,
    );
  }
  family('movebot_llm_tokens_total', 'counter', `Model tokens used by team runs (${everyProcess})`, tokens);
  family(
    'movebot_llm_cost_usd_total',
    'counter',
    `Estimated model cost of team runs in US dollars, list prices of src/llm/pricing.ts (${everyProcess})`,
    cost,
  );
  family(
    'movebot_errors_total',
    'counter',
    `Failed team runs by error code and source (${everyProcess})`,
    errors,
  );
  return `\n${lines.join('\n')}\n`;
}

/** `{a="1",b="2"}` (nothing without labels), with values escaped as the text format requires. */
function labelText(labels: Labels): string {
  if (Object.keys(labels).length === 0) return '';
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return `{${parts.join(',')}}`;
}
