import { describe, expect, it } from 'vitest';
import { renderAnswer, renderStatus } from '../adapters/discord/render.js';

describe('Discord bodies never notify anyone', () => {
  it('turns @everyone and @here in answer text into inert text, and allows no mentions at all', () => {
    const text = 'Big news @everyone and @here: <@123456789012345678> said so.';
    const bodies = [renderStatus(text), renderAnswer({ outcome: { kind: 'answer', text } }).main];
    const long = renderAnswer({ outcome: { kind: 'answer', text: `${text} ${'x'.repeat(3_000)}` } }).main;
    bodies.push(long);
    for (const body of bodies) {
      expect(body.allowed_mentions).toEqual({ parse: [] });
      const shown = `${body.content}\n${body.embeds.map((e) => e.description).join('\n')}`;
      expect(shown).toContain('@\u2060everyone');
      expect(shown).not.toMatch(/@(everyone|here)\b/);
    }
  });
});
