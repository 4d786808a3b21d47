import { describe, expect, it } from 'vitest';
import { createEditBudget } from '../queue/edit-budget.js';
import { createManualClock } from '../src/clock.js';

describe('edit budget', () => {
  it('allows a quarter-minute burst per workspace, then refills at the rate', () => {
    const clock = createManualClock();
    const budget = createEditBudget({ perMinute: 40, clock });
    const takes = (key: string, n: number) => Array.from({ length: n }, () => budget.tryTake(key)).filter(Boolean).length;
    expect(takes('slack:T1', 20)).toBe(10);
    expect(takes('slack:T2', 20)).toBe(10); // another workspace has its own
    clock.advance(1_500); // 40 a minute = one every 1.5 s
    expect(takes('slack:T1', 5)).toBe(1);
    clock.advance(600_000); // a long quiet spell refills only up to the burst
    expect(takes('slack:T1', 20)).toBe(10);
  });
});
