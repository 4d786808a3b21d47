import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ConversationService, TurnResult } from '../src/conversation/conversation-service.js';
import { createLogger } from '../src/logger.js';
import { createInMemoryRunEvents } from '../src/run/in-memory-run-events.js';
import { createTurnRunner } from '../src/run/turn-runner.js';
import type { Recommendation } from '../src/team/types.js';
import { expectChartPng } from './helpers/png.js';
import { recommendation } from './helpers/recommendation.js';

// The turn runner renders the chart once for every surface. The conversation here is a stand-in
// that answers with a given recommendation: what is under test is the runner's chart step.
function answering(r: Recommendation): ConversationService {
  const result = {
    reply: { content: 'Move.', metadata: { kind: 'recommendation' } },
    outcome: { kind: 'recommendation', text: 'Move.', recommendation: r, markdown: '# Report' },
  } as unknown as TurnResult;
  return { handle: async () => result, recordFailure: async () => undefined, idle: async () => {} };
}

function run(r: Recommendation, renderChart?: () => Promise<never>, platform = 'api') {
  const lines = new PassThrough();
  const logged: string[] = [];
  lines.on('data', (b: Buffer) => logged.push(b.toString()));
  const events = createInMemoryRunEvents();
  const runner = createTurnRunner({
    conversation: answering(r),
    events,
    cancellation: events.cancellation,
    logger: createLogger({ level: 'warn', destination: lines }),
    ...(renderChart ? { renderChart } : {}),
  });
  const message = { platform, threadKey: `${platform}:t`, userId: 'u', text: 'Seattle to Austin?' } as never;
  return { logged, events, outcome: runner.run({ runId: 'run-1', message }) };
}

describe('the chart step of a run', () => {
  it('renders the chart once and lists it as the run completed event images', async () => {
    const { events, outcome } = run(recommendation());
    const done = await outcome;
    expect(done.status === 'completed' && done.chart?.alt).toContain('Austin, TX: Overall 23% lower');
    const last = (await events.read('run-1')).at(-1)!.event;
    expect(last.type === 'run_completed' && last.images?.map((i) => i.id)).toEqual(['run-1-cost-chart']);
    if (last.type === 'run_completed') expectChartPng(Buffer.from(last.images![0]!.content, 'base64'));
  });

  it('keeps the image out of the events of a chat run, whose surface takes the chart from the outcome', async () => {
    const { events, outcome } = run(recommendation(), undefined, 'slack');
    const done = await outcome;
    expect(done.status === 'completed' && done.chart?.png.length).toBeGreaterThan(1_000);
    const last = (await events.read('run-1')).at(-1)!.event;
    expect(last.type).toBe('run_completed');
    expect(last.type === 'run_completed' && last.images).toBeUndefined();
  });

  it('answers without a chart when the recommendation has no cost figures', async () => {
    const { events, outcome } = run(recommendation({ cost: { status: 'unavailable', reason: 'NerdWallet did not answer' } }));
    const done = await outcome;
    expect(done.status).toBe('completed');
    expect(done.status === 'completed' && done.chart).toBeUndefined();
    const last = (await events.read('run-1')).at(-1)!.event;
    expect(last).toMatchObject({ type: 'run_completed', content: '# Report' });
    expect(last.type === 'run_completed' && last.images).toBeUndefined();
  });

  it('keeps the answer when drawing the chart fails, and logs why', async () => {
    const { events, outcome, logged } = run(recommendation(), async () => {
      throw new Error('font file missing');
    });
    const done = await outcome;
    expect(done.status).toBe('completed');
    expect(done.status === 'completed' && done.chart).toBeUndefined();
    const last = (await events.read('run-1')).at(-1)!.event;
    expect(last).toMatchObject({ type: 'run_completed', content: '# Report' });
    expect(logged.join('')).toContain('cost chart not rendered');
  });
});
