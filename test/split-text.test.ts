import { describe, expect, it } from 'vitest';
import { splitText } from '../adapters/split-text.js';

const LINKS = /\[[^\]\n]*\]\([^)\s]*\)|<https?:[^<>\n]+>/g;
/** The text without whitespace and fence markers, which a split may add or drop at the cuts. */
const content = (text: string) => text.replace(/```\w*/g, '').replace(/\s+/g, '');

/** Invariants every split must keep, whatever the input. */
function expectSound(text: string, max: number, parts: string[]): void {
  for (const part of parts) expect(part.length).toBeLessThanOrEqual(max);
  for (const part of parts) expect(part.trim()).not.toBe('');
  // Nothing lost, duplicated or reordered.
  expect(content(parts.join('\n'))).toBe(content(text));
  // Every link that can fit in a part arrives whole in one part.
  for (const link of text.match(LINKS) ?? []) {
    if (link.length <= max) expect(parts.some((p) => p.includes(link))).toBe(true);
  }
  // Fences are balanced in every part, so no part renders the rest of the thread as code.
  for (const part of parts) expect((part.match(/^```/gm) ?? []).length % 2).toBe(0);
}

const para = (n: number, word = 'lorem') => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');
const longLink = `[the full Reddit thread about moving](https://www.reddit.com/r/Austin/comments/${'x'.repeat(60)})`;
const slackLink = `<https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx|NerdWallet compare>`;

interface Case {
  name: string;
  text: string;
  max: number;
  /** Extra expectations for this case. */
  check?: (parts: string[]) => void;
}

const cases: Case[] = [
  {
    name: 'text that fits comes back unchanged',
    text: 'Short answer.\n\nWith two paragraphs.',
    max: 100,
    check: (parts) => expect(parts).toEqual(['Short answer.\n\nWith two paragraphs.']),
  },
  {
    name: 'prefers paragraph boundaries',
    text: `${'a'.repeat(40)}\n\n${'b'.repeat(40)}\n\n${'c'.repeat(40)}`,
    max: 90,
    check: (parts) => expect(parts).toEqual([`${'a'.repeat(40)}\n\n${'b'.repeat(40)}`, 'c'.repeat(40)]),
  },
  {
    name: 'prefers line boundaries over sentences inside a long paragraph',
    text: 'First line. Still first.\nSecond line here. More.\nThird line.',
    max: 30,
    check: (parts) =>
      expect(parts).toEqual(['First line. Still first.', 'Second line here. More.', 'Third line.']),
  },
  {
    name: 'falls back to sentences, then words',
    text: `One sentence here. ${para(30)}. Last one.`,
    max: 60,
    check: (parts) => expect(parts[0]).toBe('One sentence here.'),
  },
  {
    name: 'never breaks a Markdown link with spaces in its label',
    text: `${para(8)} ${longLink} ${para(8)}`,
    max: 160,
    check: (parts) => expect(parts.filter((p) => p.includes(longLink))).toHaveLength(1),
  },
  {
    name: 'never breaks a Slack link',
    text: `${para(12, 'w')} ${slackLink} ${para(12, 'v')}`,
    max: 130,
  },
  {
    name: 'keeps a list item with its continuation lines',
    text: `Intro line\n- item one\n  continues here\n  and here\n- item two\n  ${'z'.repeat(20)}`,
    max: 50,
    check: (parts) => {
      expect(parts.find((p) => p.includes('item one'))).toContain('- item one\n  continues here\n  and here');
      expect(parts.find((p) => p.includes('item two'))).toContain(`- item two\n  ${'z'.repeat(20)}`);
    },
  },
  {
    name: 'numbered list items stay whole',
    text: Array.from({ length: 12 }, (_, i) => `${i + 1}. Step number ${i + 1} of the move plan`).join('\n'),
    max: 100,
    check: (parts) => {
      for (const part of parts)
        for (const line of part.split('\n')) expect(line).toMatch(/^\d+\. Step number/);
    },
  },
  {
    name: 'a code block that fits is not split',
    text: `${para(10)}\n\n\`\`\`ts\nconst a = 1;\n\nconst b = 2;\n\`\`\`\n\n${para(10)}`,
    max: 80,
    check: (parts) => expect(parts).toContain('```ts\nconst a = 1;\n\nconst b = 2;\n```'),
  },
  {
    name: 'a code block too long is closed and reopened',
    text: `Before\n\`\`\`python\n${Array.from({ length: 30 }, (_, i) => `print(${i})`).join('\n')}\n\`\`\`\nAfter`,
    max: 80,
    check: (parts) => {
      const codeParts = parts.filter((p) => p.includes('print('));
      expect(codeParts.length).toBeGreaterThan(1);
      for (const part of codeParts) expect(part).toMatch(/```python\n[\s\S]*\n```/);
    },
  },
  {
    name: 'an unclosed fence is closed in every part',
    text: `\`\`\`\n${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}`,
    max: 40,
  },
  {
    name: 'one enormous word is cut hard',
    text: 'x'.repeat(250),
    max: 100,
    check: (parts) => expect(parts.map((p) => p.length)).toEqual([100, 100, 50]),
  },
  {
    name: 'a link longer than the limit is cut rather than exceeding it',
    text: `see ${longLink}`,
    max: 50,
    check: (parts) => expect(parts.join('')).toContain('reddit.com'),
  },
  {
    name: 'emoji are not cut in half',
    text: '😀'.repeat(30),
    max: 7,
    check: (parts) => {
      for (const part of parts) expect(part).not.toMatch(/[\ud800-\udbff]$/);
    },
  },
  {
    name: 'many blank lines and trailing whitespace',
    text: `\n\n${para(20)}\n\n\n\n${para(20)}   \n\n`,
    max: 120,
  },
  {
    name: 'a realistic answer in Slack mrkdwn',
    text: [
      '*Recommendation:* move, with medium confidence.',
      '',
      `*Costs* ${para(60, 'cost')}`,
      '',
      ...Array.from({ length: 15 }, (_, i) => `• ${slackLink} quote ${i} ${para(6, 'q')}`),
      '',
      '*Next steps*',
      ...Array.from({ length: 5 }, (_, i) => `${i + 1}. do thing ${i}`),
    ].join('\n'),
    max: 500,
  },
];

describe('splitText', () => {
  it.each(cases)('$name', ({ text, max, check }) => {
    const parts = splitText(text, max);
    expectSound(text, max, parts);
    check?.(parts);
  });

  it('rejects a limit below one character', () => {
    expect(() => splitText('abc', 0)).toThrow(RangeError);
  });

  it('keeps every part within the limit for many sizes of a mixed text', () => {
    const text = cases.map((c) => c.text).join('\n\n');
    for (const max of [20, 37, 64, 101, 256, 999]) expectSound(text, max, splitText(text, max));
  });
});
