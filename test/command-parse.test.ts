import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isForgetEverything, parseForget, withoutMention, withoutTrailingPlease } from '../src/memory/forget.js';
import { asksWhatIsRemembered } from '../src/memory/memory-service.js';
import { type ApiHarness, startApi } from './http-harness.js';

// Issue 12, item 7: reading a chat message as a memory command is linear in its length. Speed is
// measured by `npm run bench:parse` (goal ≤ 5 ms on 8,000 characters; the old trailing regex took
// 60–200 ms on these inputs); here only what they parse to is asserted.

/** `prefix` followed by `unit` repeated to about 8,000 characters, then `suffix`. */
const fill = (prefix: string, unit: string, suffix = '') =>
  prefix + unit.repeat(Math.floor((8_000 - prefix.length - suffix.length) / unit.length)) + suffix;

/** What MemoryService.command reads a message as, before it touches a store. */
const read = (text: string) => {
  const t = withoutMention(text);
  return asksWhatIsRemembered(t) ? 'list' : parseForget(t);
};

/** The trailing trim as it was: a regex that rescanned the run of spaces and commas from every start. */
const legacyTrim = (text: string) => text.replace(/(?:[,\s]+please)?[.!\s]*$/i, '');

describe('memory command parsing on adversarial input', () => {
  it('reads 8,000 characters of spaces, commas and "please" as no command at all', () => {
    for (const text of [
      fill('forget that ', ' ,'),
      fill('', ' please'),
      fill('', ','),
      fill('', ' ', 'x'),
      fill('forget that ', ', ', '!'),
      fill('forget that ', ' , please'),
      fill('forget', ' ', 'x'),
      fill('forget everything', ' ', 'x'),
      fill('what do you', ' ', 'x'),
      fill('<@U1> ', ', please'),
      fill('forget that x', '. ', 'x'),
    ]) {
      expect(text.length, text.slice(0, 20)).toBeLessThanOrEqual(8_000);
      expect(read(text), text.slice(0, 20)).toBeUndefined();
      expect(isForgetEverything(text)).toBe(false);
    }
  });

  it('still finds the command a long run of padding surrounds', () => {
    expect(read(fill('forget that I have a dog', ', ', 'please.'))).toEqual({ about: 'I have a dog' });
    expect(read(fill('<@U1> forget everything', ' ', '!'))).toBe('everything');
    expect(isForgetEverything(fill('forget me', ' , ', ', please'))).toBe(true);
    expect(read(fill('what do you remember about me', ' ', '?'))).toBe('list');
    // Padding inside the named memory stays part of it: only the closing ", please" and punctuation go.
    expect(read(fill('forget that I have a dog', ', ', 'and a cat'))).toEqual({ about: expect.stringMatching(/^I have a dog, , .* and a cat$/s) });
  });

  it('trims a message’s end exactly as the regex it replaced did', () => {
    const cases = [
      'forget that I have a dog, please.',
      'forget that I have a dog please!!',
      'forget that I have a dog,please',
      'forget that I have a dog , , please . ',
      'forget that I have a dog.please',
      'forget that I have a dog displease',
      'please',
      ' please',
      ', PLEASE',
      'x please please',
      'x\u00a0please\u2028',
      '',
      '...',
    ];
    for (const text of cases) expect(withoutTrailingPlease(text), JSON.stringify(text)).toBe(legacyTrim(text));
    // And on every short string over the characters that matter (seeded, so a failure reproduces).
    const alphabet = [' ', ',', '.', '!', '?', 'please', 'PLEASE', 'Please', 'p', 'lease', 'x', '\u00a0', '\n', '\t'];
    let seed = 12;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let n = Math.floor(random() * 9); n > 0; n--) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(withoutTrailingPlease(text), JSON.stringify(text)).toBe(legacyTrim(text));
    }
  });
});

describe('an adversarial forget command at the wire (POST /teams/{id}/runs)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api?.close());

  async function run(message: string, user: string) {
    const res = await fetch(`${api.url}/teams/move-decision-team/runs`, {
      method: 'POST',
      body: new URLSearchParams({ message, stream: 'false', user_id: user }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { content: string; status: string };
  }

  it('forgets the memory named before 8,000 characters of padding, and nothing else', async () => {
    for (const memory of ['You have a dog', 'You work remotely']) {
      const res = await fetch(`${api.url}/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ memory, user_id: 'padded' }),
      });
      expect(res.status).toBe(201);
    }
    const message = fill('forget that I have a dog', ', ', 'please.');
    expect(message.length).toBeGreaterThan(7_900);
    const answer = await run(message, 'padded');
    expect(answer).toMatchObject({ status: 'COMPLETED', content: 'Forgotten:\n• You have a dog' });
    const left = (await (await fetch(`${api.url}/memories?user_id=padded`)).json()) as { data: Array<{ memory: string }> };
    expect(left.data.map((m) => m.memory)).toEqual(['You work remotely']);
  });
});
