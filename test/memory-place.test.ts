import { describe, expect, it } from 'vitest';
import { renderAnswer } from '../adapters/discord/render.js';
import { renderAnswerMessages, renderStreamEnd } from '../adapters/slack/slack-blocks.js';
import { memoryReplyPointer, placeOf, recallablePlaces, shownIn } from '../src/memory/place.js';
import { isMemoryCommand } from '../src/memory/memory-service.js';
import type { ChatAnswer } from '../src/ports/chat-adapter.js';
import { controlsFor, decodeAction, encodeAction } from '../src/run/answer-actions.js';
import { renderReport, renderSummary } from '../src/team/report.js';
import { recommendation } from './helpers/recommendation.js';

const INCOME = 'You earn $240,000 a year';
const DIVORCE = 'You are going through a divorce';

describe('the place of a turn', () => {
  it('reads Slack channel ids, Discord DMs and the private surfaces', () => {
    expect(placeOf('slack', 'slack:T1:D0123:1700000000.000100')).toBe('dm');
    expect(placeOf('slack', 'slack:T1:G0123:1700000000.000100')).toBe('private');
    expect(placeOf('slack', 'slack:T1:C0123:1700000000.000100')).toBe('public');
    expect(placeOf('discord', 'discord:@dm:3000000000000000009')).toBe('dm');
    expect(placeOf('discord', 'discord:3000000000000000001:3000000000000000005')).toBe('public');
    expect(placeOf('cli', 'cli:local:abc')).toBe('dm');
    expect(placeOf('api', 'api:whatever')).toBe('dm');
  });

  it('counts a thread key it cannot read as public, the safe side for what is shown', () => {
    expect(placeOf('slack', 'merge:1')).toBe('public');
    expect(placeOf('slack', 'discord:@dm:1')).toBe('public');
    expect(placeOf('teams', 'teams:x:y')).toBe('public');
  });

  it('recalls in a place only what was learned in places at least as public', () => {
    expect(recallablePlaces('dm')).toBeUndefined();
    expect(recallablePlaces('private')).toEqual(['public', 'private']);
    expect(recallablePlaces('public')).toEqual(['public']);
  });

  it('knows a memory command as the memory service reads it', () => {
    for (const text of ['what do you remember about me?', '<@UBOT> what do you know about me', '/memories', 'forget everything', 'forget that I earn a lot']) {
      expect(isMemoryCommand(text), text).toBe(true);
    }
    for (const text of ['Should I move from Seattle to Austin?', 'Forget Austin, what about Denver?', 'Memories of Austin keep pulling me back']) {
      expect(isMemoryCommand(text), text).toBe(false);
    }
  });
});

describe('what a shared place shows of an answer', () => {
  const r = recommendation({ memoriesUsed: [INCOME, DIVORCE] });
  const answer: ChatAnswer = {
    outcome: { kind: 'recommendation', recommendation: r, text: renderSummary(r), markdown: renderReport(r) },
    controls: controlsFor('run-1', { kind: 'recommendation' } as never),
    report: { fileName: 'seattle_to_austin.md', markdown: renderReport(r) },
  };

  it('quotes the memories used only in a DM', () => {
    expect(shownIn('dm', answer, { memoryReply: false, platform: 'slack' })).toBe(answer);
    expect(JSON.stringify(renderAnswerMessages(answer))).toContain(INCOME);
  });

  for (const place of ['public', 'private'] as const) {
    it(`in a ${place} channel counts them, with "Which ones?", in the text, the blocks, Discord and the report`, () => {
      const shown = shownIn(place, answer, { memoryReply: false, platform: 'slack' });
      expect(shown.savedDetails).toBe(2);
      expect(shown.controls?.savedDetails).toBe(true);
      const everything = JSON.stringify([shown, renderAnswerMessages(shown), renderStreamEnd(shown), renderAnswer(shown)]);
      expect(everything).not.toContain('$240,000');
      expect(everything).not.toMatch(/divorce/i);
      expect(shown.outcome.kind === 'recommendation' && shown.outcome.text).toContain('Personalised with 2 of your saved details.');
      expect(shown.report?.markdown).toContain('Personalised with 2 of your saved details.');
      const slack = JSON.stringify(renderAnswerMessages(shown));
      expect(slack).toContain('Personalised with 2 of your saved details.');
      expect(slack).toContain(encodeAction({ kind: 'memories', runId: 'run-1' }));
      expect(JSON.stringify(renderAnswer(shown).main.components)).toContain('"custom_id":"mb:mem:run-1"');
    });
  }

  it('says nothing of memories when none was used', () => {
    const plain = recommendation();
    const none: ChatAnswer = { outcome: { kind: 'recommendation', recommendation: plain, text: renderSummary(plain), markdown: renderReport(plain) } };
    const shown = shownIn('public', none, { memoryReply: false, platform: 'slack' });
    expect(shown.savedDetails).toBeUndefined();
    expect(JSON.stringify(shown)).not.toMatch(/saved detail/);
  });

  it('keeps a memory command reply for the asker alone and gives the thread a pointer', () => {
    const reply = `Here is what I remember about you (2):\n• ${INCOME}\n• ${DIVORCE}`;
    const shown = shownIn('public', { outcome: { kind: 'answer', text: reply } }, { memoryReply: true, platform: 'discord' });
    expect(shown.askerOnly).toBe(reply);
    expect(shown.outcome).toEqual({ kind: 'answer', text: memoryReplyPointer('discord') });
    expect(memoryReplyPointer('discord')).toContain('/memories');
    expect(shownIn('dm', { outcome: { kind: 'answer', text: reply } }, { memoryReply: true, platform: 'slack' }).askerOnly).toBeUndefined();
  });

  it('names the "Which ones?" button by its run', () => {
    expect(encodeAction({ kind: 'memories', runId: 'abc' })).toBe('mb:mem:abc');
    expect(decodeAction('mb:mem:abc')).toEqual({ kind: 'memories', runId: 'abc' });
    expect(decodeAction('mb:mem:abc:x')).toBeUndefined();
  });
});
