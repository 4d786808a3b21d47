import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { renderReport, reportFileName } from '../src/team/report.js';
import type { Recommendation } from '../src/team/types.js';

const fixedClock: Clock = { now: () => Date.UTC(2026, 0, 2, 3, 4, 5), sleep: async () => {} };
const seattle = { name: 'Seattle', display: 'Seattle, WA', state: 'WA' };
const austin = { name: 'Austin', display: 'Austin, TX', state: 'TX' };

describe('the Markdown report', () => {
  it('is named like the original, stamped in UTC like its "Report Generated" line', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles'; // a server's local zone must not change the name
    try {
      expect(reportFileName({ from: seattle, to: austin }, fixedClock)).toBe('seattle_to_austin_20260102_030405_analysis.md');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('keeps a quote that spans lines inside its blockquote', () => {
    const r: Recommendation = {
      from: seattle,
      to: austin,
      profile: {} as Recommendation['profile'],
      generatedAt: new Date(fixedClock.now()).toISOString(),
      recommendation: 'move',
      confidence: 'Medium',
      memoriesUsed: [],
      cost: { status: 'unavailable', reason: 'not asked' },
      sentiment: { status: 'unavailable', reason: 'not asked' },
      migration: { status: 'unavailable', reason: 'not asked' },
      supportingFactors: [],
      concerns: [],
      justification: 'Because.',
      quotes: [{ quote: 'Best move I made.\n\nRent is lower', url: 'https://www.reddit.com/r/x/comments/1/y/' }],
      nextSteps: [],
    };
    const markdown = renderReport(r);
    expect(markdown).toContain('**Report Generated:** 2026-01-02 03:04 UTC');
    expect(markdown).toContain('> "Best move I made. Rent is lower"\n> — [Source](https://www.reddit.com/r/x/comments/1/y/)');
  });
});
