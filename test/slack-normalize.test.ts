import { describe, expect, it } from 'vitest';
import {
  BARE_MENTION_TEXT,
  normalizeSlackEvent,
  type SlackDecision,
  stripBotMention,
} from '../adapters/slack/slack-normalize.js';

const bot = { userId: 'UBOT', botId: 'BBOT' };
const receivedAt = new Date('2025-01-02T03:04:05Z');
const decide = (event: Record<string, unknown>): SlackDecision =>
  normalizeSlackEvent({ event, teamId: 'T1', bot, receivedAt });

const mention = (extra: Record<string, unknown> = {}) => ({
  type: 'app_mention',
  user: 'U1',
  text: '<@UBOT> Seattle to Austin?',
  ts: '1700000000.000100',
  channel: 'C1',
  ...extra,
});
const message = (extra: Record<string, unknown> = {}) => ({
  type: 'message',
  user: 'U1',
  text: 'and what about rent?',
  ts: '1700000000.000300',
  channel: 'C1',
  channel_type: 'channel',
  ...extra,
});

describe('normalizeSlackEvent', () => {
  it('turns a top-level mention into a job for the thread under it, mention stripped', () => {
    expect(decide(mention())).toEqual({
      action: 'enqueue',
      needsKnownThread: false,
      job: {
        platform: 'slack',
        workspace: 'T1',
        channel: 'C1',
        thread: '1700000000.000100',
        messageId: '1700000000.000100',
        userId: 'U1',
        text: 'Seattle to Austin?',
        threadKey: 'slack:T1:C1:1700000000.000100',
        receivedAt: '2025-01-02T03:04:05.000Z',
      },
    });
  });

  it('keys a mention inside a thread by the thread root', () => {
    const d = decide(mention({ ts: '1700000000.000500', thread_ts: '1700000000.000100' }));
    expect(d).toMatchObject({
      action: 'enqueue',
      job: {
        thread: '1700000000.000100',
        messageId: '1700000000.000500',
        threadKey: 'slack:T1:C1:1700000000.000100',
      },
    });
  });

  it('gives the message and app_mention events of one mention the same job', () => {
    const a = decide(mention());
    const b = decide(message({ text: '<@UBOT> Seattle to Austin?', ts: '1700000000.000100' }));
    expect(a.action === 'enqueue' && b.action === 'enqueue' && b.job).toEqual(
      a.action === 'enqueue' && a.job,
    );
  });

  it('enqueues a bare mention with a stand-in question', () => {
    expect(decide(mention({ text: '<@UBOT>' }))).toMatchObject({ job: { text: BARE_MENTION_TEXT } });
  });

  it('needs a known thread for a thread reply without a mention', () => {
    expect(decide(message({ thread_ts: '1700000000.000100' }))).toMatchObject({
      action: 'enqueue',
      needsKnownThread: true,
      job: { threadKey: 'slack:T1:C1:1700000000.000100', text: 'and what about rent?' },
    });
  });

  it('answers every DM, keyed per DM thread', () => {
    expect(decide(message({ channel: 'D1', channel_type: 'im' }))).toMatchObject({
      action: 'enqueue',
      needsKnownThread: false,
      job: { threadKey: 'slack:T1:D1:1700000000.000300' },
    });
  });

  it.each([
    ['a top-level channel message without a mention', message()],
    ['the bot itself', message({ user: 'UBOT', thread_ts: '1' })],
    ['another bot', message({ bot_id: 'B9', thread_ts: '1' })],
    ['an edit', message({ subtype: 'message_changed', thread_ts: '1' })],
    ['a deletion', message({ subtype: 'message_deleted', thread_ts: '1' })],
    ['a join', message({ subtype: 'channel_join', text: '<@U1> has joined', thread_ts: '1' })],
    ['a bot_message', message({ subtype: 'bot_message', thread_ts: '1' })],
    ['a mention by a bot', mention({ bot_id: 'B9' })],
    ['another event type', { type: 'reaction_added', user: 'U1' }],
  ])('ignores %s', (_name, event) => {
    expect(decide(event).action).toBe('ignore');
  });

  it('keeps a thread reply also sent to the channel', () => {
    expect(decide(message({ subtype: 'thread_broadcast', thread_ts: '1700000000.000100' })).action).toBe(
      'enqueue',
    );
  });

  it('caps the text at the job limit', () => {
    const d = decide(mention({ text: `<@UBOT> ${'x'.repeat(9_000)}` }));
    expect(d.action === 'enqueue' && d.job.text.length).toBe(8_000);
  });
});

describe('stripBotMention', () => {
  it.each([
    ['<@UBOT> hi', 'hi'],
    ['hi <@UBOT>', 'hi'],
    ['a <@UBOT|movebot>  b', 'a b'],
    ['<@UOTHER> and <@UBOT>', '<@UOTHER> and'],
    ['<@UBOT>', ''],
  ])('%s → %s', (input, expected) => {
    expect(stripBotMention(input, 'UBOT')).toBe(expected);
  });
});
