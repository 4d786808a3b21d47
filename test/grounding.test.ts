import { describe, expect, it } from 'vitest';
import { createGrounder, figureSource, groundQuotes, stripUngroundedNumbers } from '../src/team/grounding.js';

describe('grounding', () => {
  const sources = [
    {
      title: 'Moved from Seattle to Austin, AMA',
      url: 'https://www.reddit.com/r/Austin/comments/abc/moved/',
      snippet: 'Honestly the heat in August is brutal but my rent dropped by a third. No regrets so far.',
    },
  ];

  it('keeps verbatim quotes with their real URL and drops paraphrases and invented links', () => {
    const kept = groundQuotes(
      [
        { quote: '"the heat in August is brutal but my rent dropped by a third"', url: 'https://old.reddit.com/r/Austin/comments/abc/moved' },
        { quote: 'August heat is terrible, rent is cheaper', url: sources[0]!.url },
        { quote: 'No regrets so far.', url: 'https://evil.example/phish' },
        { quote: 'Honestly the heat in August ... No regrets so far', url: sources[0]!.url },
      ],
      sources,
    );
    expect(kept).toEqual([
      { quote: 'the heat in August is brutal but my rent dropped by a third', url: sources[0]!.url },
      { quote: 'Honestly the heat in August ... No regrets so far', url: sources[0]!.url },
    ]);
  });

  it('drops sentences whose figures are not in the source and keeps the rest', () => {
    const source = 'Cost of living is 23.5% lower in Austin. Median rent $1,650.';
    const text = 'Austin is 23.5% cheaper overall. Rent is around $1,650 a month. Groceries cost 40% less. Good news.';
    expect(stripUngroundedNumbers(text, source)).toBe('Austin is 23.5% cheaper overall. Rent is around $1,650 a month. Good news.');
  });

  it('drops a list line with an invented figure whole and keeps the other lines', () => {
    const source = 'Housing | $2,410 | $1,651 | 38% lower';
    const text = 'Costs:\n- Housing is 38% lower.\n- Rent is 45% lower.\n- Food is cheaper.';
    expect(stripUngroundedNumbers(text, source)).toBe('Costs:\n- Housing is 38% lower.\n- Food is cheaper.');
  });

  it('reads a round figure in thousands as the same figure', () => {
    expect(stripUngroundedNumbers('On $185k a year that is fine.', 'You earn $185,000 a year')).toBe('On $185k a year that is fine.');
  });

  it('shows a streamed sentence only once its figures are known to stand in the source', () => {
    const grounder = createGrounder(figureSource('Housing is 38% lower in Austin; overall 23% lower.'));
    const text = 'Housing is 38% lower. Rent is 45% lower. Overall it is 2.5% or 23% lower.\nAsk me more.';
    const shown: string[] = [];
    // Deltas as small as a streaming model's, cutting "2.5%" and "45%" apart.
    for (let i = 0; i < text.length; i += 3) {
      const piece = grounder.push(text.slice(i, i + 3));
      shown.push(piece);
      expect(shown.join('')).not.toMatch(/45|2\.5/);
    }
    shown.push(grounder.end());
    expect(shown.join('')).toBe('Housing is 38% lower. \nAsk me more.');
  });
});
