import { describe, expect, it } from 'vitest';
import { groundQuotes, stripUngroundedNumbers } from '../src/team/grounding.js';

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
});
