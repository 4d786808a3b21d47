import type { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import { BOT_TOKEN, useBoltOnFake } from './helpers/bolt-on-fake.js';
import { sendForgedMentions } from './helpers/slack-thread.js';

const { startFake, startHttpApp, startSocketApp } = useBoltOnFake();

/** A minimal bot on the real Bolt App: replies in the mention's thread. */
function replyInThread(app: App): void {
  app.event('app_mention', async ({ event, client }) => {
    await client.chat.postMessage({
      channel: event.channel,
      thread_ts: event.thread_ts ?? event.ts,
      text: 'on it',
    });
  });
}

describe('Slack fake with the real Bolt App (HTTP mode)', () => {
  it('delivers a signed mention and shows the threaded reply', async () => {
    const { slack } = await startFake();
    const { eventsUrl } = await startHttpApp(slack, replyInThread);
    const mention = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'Seattle to Austin?' });

    const delivery = await slack.sendEvent(eventsUrl, mention);

    expect(delivery.status).toBe(200);
    const thread = await waitFor(() => {
      const messages = slack.threadMessages('C1', mention.ts);
      return messages.length === 2 && messages;
    });
    expect(thread.map((m) => [m.user, m.text])).toEqual([
      ['U1', '<@UBOT> Seattle to Austin?'],
      ['UBOT', 'on it'],
    ]);
    expect(thread[1]?.threadTs).toBe(mention.ts);
    expect(slack.callsTo('auth.test').length).toBeGreaterThan(0);
  });

  it('answers 401 to a bad or stale signature and never runs the listener', async () => {
    const { slack } = await startFake();
    const { eventsUrl } = await startHttpApp(slack, replyInThread);

    expect(await sendForgedMentions(slack, eventsUrl)).toEqual([401, 401]);
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('answers the URL verification challenge', async () => {
    const { slack } = await startFake();
    const { eventsUrl } = await startHttpApp(slack, replyInThread);
    const res = await slack.urlVerification(eventsUrl);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/challenge/);
  });

  it('echoes the bot message back with bot_id, which Bolt ignores', async () => {
    const { slack } = await startFake();
    const { app, eventsUrl } = await startHttpApp(slack, replyInThread);
    const seen: Array<Record<string, unknown>> = [];
    app.message(async ({ message }) => void seen.push(message as unknown as Record<string, unknown>));
    slack.setEchoTarget(eventsUrl);
    const mention = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'hi' });
    const human = slack.messageEvent({ channel: 'C1', user: 'U1', text: '<@UBOT> hi', ts: mention.ts });

    await slack.sendEvent(eventsUrl, mention);
    await slack.sendEvent(eventsUrl, human);
    await waitFor(() => slack.messagesIn('C1').length === 2);
    await slack.flushEchoes();
    // A later human message proves the listener kept running after the echo was delivered.
    await slack.sendEvent(eventsUrl, slack.messageEvent({ channel: 'C1', user: 'U1', text: 'done' }));
    await waitFor(() => seen.some((m) => m.text === 'done'));

    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.echoed).toEqual([{ channel: 'C1', ts: slack.messagesIn('C1')[1]?.ts, outcome: 200 }]);
    expect(seen.map((m) => m.user)).toEqual(['U1', 'U1']);
    expect(slack.messagesIn('C1').map((m) => m.user)).toEqual(['U1', 'UBOT', 'U1']);
  });
});

describe('Slack fake Web API', () => {
  it('applies edits and deletions, records uploads, and rejects bad tokens', async () => {
    const { slack, client } = await startFake();
    const root = slack.mentionEvent({ channel: 'C2', user: 'U2', text: 'report please' });

    const first = await client.chat.postMessage({ channel: 'C2', thread_ts: root.ts, text: 'working…' });
    const second = await client.chat.postMessage({
      channel: 'C2',
      thread_ts: root.ts,
      text: 'fallback',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*done*' } }],
    });
    await client.chat.update({ channel: 'C2', ts: String(first.ts), text: 'Seattle → Austin: go' });
    await client.chat.delete({ channel: 'C2', ts: String(second.ts) });
    await client.filesUploadV2({
      channel_id: 'C2',
      thread_ts: root.ts,
      filename: 'report.md',
      content: '# Report',
    });
    const replies = await client.conversations.replies({ channel: 'C2', ts: root.ts });

    const thread = slack.threadMessages('C2', root.ts);
    expect(thread.map((m) => m.text)).toEqual(['<@UBOT> report please', 'Seattle → Austin: go', '']);
    expect(thread[1]?.edited).toBe(true);
    expect(thread[2]?.files?.map((f) => f.name)).toEqual(['report.md']);
    expect(replies.messages?.length).toBe(3);
    expect(slack.callsTo('chat.postMessage')[1]?.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*done*' } },
    ]);
    const [file] = slack.filesInThread('C2', root.ts);
    expect(file?.content.toString()).toBe('# Report');

    const stranger = new WebClient('xoxp-nope', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await expect(stranger.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(client.apiCall('nope.nothing')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('injects errors and 429s with Retry-After', async () => {
    const { slack } = await startFake();
    const client = new WebClient(BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    slack.failNext('chat.postMessage', 'channel_not_found');
    slack.rateLimitNext('chat.postMessage', 7);

    await expect(client.chat.postMessage({ channel: 'C3', text: 'a' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C3', text: 'b' })).rejects.toMatchObject({
      retryAfter: 7,
    });
    await client.chat.postMessage({ channel: 'C3', text: 'c' });

    expect(slack.messagesIn('C3').map((m) => m.text)).toEqual(['c']);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(3);
  });
});

describe('Slack fake Socket Mode with the real Bolt App', () => {
  it('connects through apps.connections.open and gets events acked', async () => {
    const { slack } = await startFake();
    await startSocketApp(slack, replyInThread);
    const mention = slack.mentionEvent({ channel: 'C4', user: 'U4', text: 'via socket' });

    const { ack } = await slack.sendSocketEvent(mention);

    expect(ack.envelope_id).toEqual(expect.any(String));
    await waitFor(() => slack.threadMessages('C4', mention.ts).length === 2);
    expect(slack.callsTo('apps.connections.open')).toHaveLength(1);
  });
});
