import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatAnswer, ReplyTarget } from '../src/ports/chat-adapter.js';
import { renderAnswerMessages } from '../adapters/slack/slack-blocks.js';
import { createSlackChatAdapter } from '../adapters/slack/slack-chat-adapter.js';
import { toMrkdwn } from '../adapters/slack/slack-mrkdwn.js';
import { chartOf } from '../src/charts/run-chart.js';
import { silentLogger } from '../src/logger.js';
import { expectChartPng } from './helpers/png.js';
import { recommendation } from './helpers/recommendation.js';
import { createSlackFake, type SlackFake } from './fakes/slack-fake.js';

const SECRET = 'slack-adapter-test-secret';
let slack: SlackFake;

beforeAll(async () => {
  slack = await createSlackFake({ signingSecret: SECRET });
});
afterAll(async () => {
  await slack?.close();
});

const adapter = () =>
  createSlackChatAdapter({
    token: 'xoxb-adapter-test',
    apiUrl: slack.apiUrl,
    logger: silentLogger,
    retryConfig: { retries: 0 },
  });

/** A user's mention in a fresh channel, and the reply target the worker would build from its job. */
function conversation(channel: string, text = 'Seattle to Austin?'): ReplyTarget & { rootTs: string } {
  const mention = slack.mentionEvent({ channel, user: 'U1', text });
  return {
    platform: 'slack',
    workspace: 'T1',
    userId: 'U1',
    channel,
    thread: mention.ts,
    messageId: mention.ts,
    rootTs: mention.ts,
  };
}


const recommendationAnswer = (r = recommendation()): ChatAnswer => ({
  outcome: {
    kind: 'recommendation',
    text: '**Move** for Seattle, WA → Austin, TX',
    recommendation: r,
    markdown: '# Report\n\nbody',
  },
  report: {
    fileName: 'seattle_to_austin_20250102_030405_analysis.md',
    markdown: '# Should You Move from Seattle to Austin?\n\nYes.',
  },
});

/** Limits checked on what reached the fake, not on what we meant to send. */
function expectWithinSlackLimits(blocks: unknown): void {
  const list = blocks as Array<{ type: string; text?: { text: string } | string; fields?: Array<{ text: string }> }>;
  expect(list.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(list).length).toBeLessThanOrEqual(12_000);
  // Markdown blocks (model-written prose) carry their text as a string; together at most 12,000 characters.
  const markdown = list.filter((b) => b.type === 'markdown').map((b) => String(b.text));
  expect(markdown.join('').length).toBeLessThanOrEqual(12_000);
  for (const block of list) {
    if (block.text && typeof block.text !== 'string') expect(block.text.text.length).toBeLessThanOrEqual(3_000);
    for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2_000);
  }
}

describe('toMrkdwn', () => {
  it.each([
    ['**bold** and *italic*', '*bold* and _italic_'],
    ['[NerdWallet](https://nerdwallet.com/a)', '<https://nerdwallet.com/a|NerdWallet>'],
    ['# Heading\n- one\n- two', '*Heading*\n• one\n• two'],
    ['<!channel> & <@U123>', '&lt;!channel&gt; &amp; &lt;@U123&gt;'],
    ['`**not bold**`', '`**not bold**`'],
    ['see https://reddit.com/r/x.', 'see <https://reddit.com/r/x>.'],
    ['> "quoted" — [Source](https://r.com/1)', '> "quoted" — <https://r.com/1|Source>'],
    ['~~gone~~', '~gone~'],
  ])('%s', (markdown, mrkdwn) => {
    expect(toMrkdwn(markdown)).toBe(mrkdwn);
  });
});

describe('Slack chat adapter against the Slack fake', () => {
  it('turns the placeholder into the answer, then uploads the report into the thread', async () => {
    const target = conversation('CA1');
    const chat = adapter();
    const posted: Array<[string, string]> = [];

    const ref = await chat.postPlaceholder(target, 'Looking into Seattle → Austin…');
    await chat.updateProgress(target, ref, 'Looking into Seattle → Austin…\n• Cost Analyst: working…');
    await chat.deliverAnswer(target, ref, recommendationAnswer(), {
      alreadyPosted: [],
      onPosted: async (key, id) => void posted.push([key, id]),
    });

    const thread = slack.threadMessages('CA1', target.rootTs);
    expect(thread).toHaveLength(3); // the user's mention, one edited answer, the file message
    const answer = thread[1]!;
    expect(answer.ts).toBe(ref.id);
    expect(answer.edited).toBe(true);
    expect(answer.text).toContain('Seattle, WA → Austin, TX');
    const visible = JSON.stringify(answer.blocks);
    for (const expected of [
      'Seattle, WA → Austin, TX',
      'Move',
      'Medium',
      '23% lower',
      '$1,650',
      'Live music',
      'Visit in August',
    ]) {
      expect(visible).toContain(expected);
    }
    expect(visible).toContain('<https://www.reddit.com/r/Austin/comments/abc|Source>');
    expect(visible).toContain('Brave Search did not answer');
    // Model output cannot ping the channel.
    expect(visible).not.toContain('<!channel>');
    expectWithinSlackLimits(slack.callsTo('chat.update').at(-1)?.args.blocks);

    const [file] = slack.filesInThread('CA1', target.rootTs);
    expect(file?.name).toBe('seattle_to_austin_20250102_030405_analysis.md');
    expect(file?.content.toString()).toContain('Should You Move from Seattle to Austin?');
    expect(posted).toEqual([['report', file?.id]]);
  });

  it('never lets answer text notify anyone: <!channel>, <@U…>, @here and @everyone reach Slack inert', async () => {
    const target = conversation('CA9');
    const chat = adapter();
    const pings = 'Heads up <!channel> <!here|here> and <@U999>: @here @everyone @channel, read this.';
    const ref = await chat.postPlaceholder(target, pings);
    await chat.deliverAnswer(target, ref, { outcome: { kind: 'answer', text: pings } }, { alreadyPosted: [], onPosted: async () => {} });
    const stream = await chat.streamer!.start(target, 'Looking into it…', { text: pings });
    await chat.streamer!.append(target, stream, { text: pings });

    const sent = slack.allCalls.map((c) => JSON.stringify(c.args));
    expect(sent.length).toBeGreaterThan(3);
    for (const args of sent) {
      expect(args).not.toMatch(/<!(channel|here|everyone)|<@U999>/);
      expect(args).not.toMatch(/(?<!\\u2060|\u2060)@(here|everyone|channel)\b/);
    }
    expect(slack.threadMessages('CA9', target.rootTs).at(-1)!.text).toContain('&lt;!channel&gt;');
  });

  it('splits a long answer into an edited message plus overflow parts, each within the limits', async () => {
    const target = conversation('CA2', 'tell me everything');
    const chat = adapter();
    const paragraph = (i: number) =>
      `Paragraph ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(20)}[link ${i}](https://example.com/${i})`;
    const text = Array.from({ length: 60 }, (_, i) => paragraph(i)).join('\n\n');
    const keys: string[] = [];

    const ref = await chat.postPlaceholder(target, 'Thinking about your question…');
    await chat.deliverAnswer(
      target,
      ref,
      { outcome: { kind: 'answer', text } },
      {
        alreadyPosted: [],
        onPosted: async (key) => void keys.push(key),
      },
    );

    const thread = slack.threadMessages('CA2', target.rootTs).slice(1);
    expect(thread.length).toBeGreaterThan(2);
    expect(thread[0]?.ts).toBe(ref.id);
    expect(thread[0]?.edited).toBe(true);
    expect(keys).toEqual(thread.slice(1).map((_, i) => `part-${i + 2}`));
    for (const message of thread) {
      expectWithinSlackLimits(message.blocks);
      expect(message.text.length).toBeGreaterThan(0);
    }
    // Everything arrived, in order, with every link intact.
    const shown = thread
      .flatMap((m) => (m.blocks as Array<{ text: { text: string } | string }>).map((b) => (typeof b.text === 'string' ? b.text : b.text.text)))
      .join('\n');
    // Model-written prose goes in Slack's markdown blocks: standard Markdown links, rendered by Slack.
    for (let i = 0; i < 60; i += 1) expect(shown).toContain(`[link ${i}](https://example.com/${i})`);
    expect(shown.indexOf('Paragraph 59')).toBeGreaterThan(shown.indexOf('Paragraph 0'));
  });

  it('uploads the cost chart into the thread as a PNG with its alt text, once across a re-delivery', async () => {
    const target = conversation('CA7');
    const chat = adapter();
    const chart = await chartOf(recommendation(), silentLogger);
    const answer: ChatAnswer = {
      ...recommendationAnswer(),
      chart: { fileName: 'seattle_to_austin_20250102_030405_cost_chart.png', ...chart! },
    };
    const parts: Array<[string, string]> = [];
    const record = { alreadyPosted: [] as string[], onPosted: async (k: string, id: string) => void parts.push([k, id]) };
    const ref = await chat.postPlaceholder(target, 'Thinking…');
    await chat.deliverAnswer(target, ref, answer, record);

    const files = slack.filesInThread('CA7', target.rootTs);
    expect(files.map((f) => f.name)).toEqual(['seattle_to_austin_20250102_030405_analysis.md', 'seattle_to_austin_20250102_030405_cost_chart.png']);
    const image = files[1]!;
    expectChartPng(image.content);
    expect(image.altText).toContain('Austin, TX: Overall 23% lower, Housing 41% lower.');
    expect(parts).toEqual([['report', files[0]!.id], ['chart', image.id]]);

    // A retried job lists what was posted: the chart is not uploaded twice.
    const uploads = slack.callsTo('files.getUploadURLExternal').length;
    await chat.deliverAnswer(target, ref, answer, { alreadyPosted: parts.map(([k]) => k), onPosted: async () => {} });
    expect(slack.callsTo('files.getUploadURLExternal').length).toBe(uploads);
    expect(slack.filesInThread('CA7', target.rootTs)).toHaveLength(2);
  });

  it('keeps the answer when the chart upload fails, recording no chart part', async () => {
    const target = conversation('CA8');
    const chat = adapter();
    const chart = await chartOf(recommendation(), silentLogger);
    const ref = await chat.postPlaceholder(target, 'Thinking…');
    const keys: string[] = [];
    slack.failNext('files.completeUploadExternal', 'internal_error');
    await chat.deliverAnswer(target, ref, { ...recommendationAnswer(), report: undefined, chart: { fileName: 'c.png', ...chart! } }, {
      alreadyPosted: [],
      onPosted: async (k) => void keys.push(k),
    });
    expect(slack.threadMessages('CA8', target.rootTs)[1]?.edited).toBe(true);
    expect(keys).toEqual([]);
  });

  it('posts nothing again on a re-delivery that lists the parts already posted', async () => {
    const target = conversation('CA3', 'tell me again');
    const chat = adapter();
    const long = Array.from({ length: 30 }, (_, i) => `Section ${i} ${'word '.repeat(300)}`).join('\n\n');
    const answer: ChatAnswer = { ...recommendationAnswer(), outcome: { kind: 'answer', text: long } };
    const parts: string[] = [];
    const ref = await chat.postPlaceholder(target, 'Thinking…');
    await chat.deliverAnswer(target, ref, answer, {
      alreadyPosted: [],
      onPosted: async (k) => void parts.push(k),
    });
    const before = { posts: slack.callsTo('chat.postMessage').length, uploads: slack.files.size };

    await chat.deliverAnswer(target, ref, answer, {
      alreadyPosted: parts,
      onPosted: async (k) => void parts.push(k),
    });

    expect(slack.callsTo('chat.postMessage').length).toBe(before.posts);
    expect(slack.files.size).toBe(before.uploads);
    expect(slack.threadMessages('CA3', target.rootTs)).toHaveLength(2 + parts.length);
  });

  it('shows an error in the thread and still answers when the report upload fails', async () => {
    const target = conversation('CA4');
    const chat = adapter();
    const failed = await chat.postPlaceholder(target, 'Thinking…');
    await chat.deliverAnswer(
      target,
      failed,
      { outcome: { kind: 'error', text: 'The AI service is busy.' } },
      {
        alreadyPosted: [],
        onPosted: async () => {},
      },
    );
    expect(slack.threadMessages('CA4', target.rootTs)[1]?.text).toBe('⚠️ The AI service is busy.');

    const other = conversation('CA5');
    const ref = await chat.postPlaceholder(other, 'Thinking…');
    slack.failNext('files.getUploadURLExternal', 'internal_error');
    const keys: string[] = [];
    await chat.deliverAnswer(other, ref, recommendationAnswer(), {
      alreadyPosted: [],
      onPosted: async (k) => void keys.push(k),
    });
    expect(slack.threadMessages('CA5', other.rootTs)[1]?.edited).toBe(true);
    expect(slack.filesInThread('CA5', other.rootTs)).toEqual([]);
    expect(keys).toEqual([]);
  });

  it('keeps a recommendation with very long sections within the limits', () => {
    const huge = 'x '.repeat(4_000);
    const r = recommendation({
      justification: huge,
      supportingFactors: Array.from({ length: 40 }, (_, i) => `factor ${i} ${huge.slice(0, 300)}`),
      quotes: Array.from({ length: 30 }, (_, i) => ({ quote: `quote ${i}`, url: `https://reddit.com/${i}` })),
    });
    const messages = renderAnswerMessages(recommendationAnswer(r));
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expectWithinSlackLimits(m.blocks);
      expect(m.text.length).toBeGreaterThan(0);
      expect(m.text.length).toBeLessThanOrEqual(3_000);
    }
  });
});
