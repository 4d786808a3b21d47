import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import type { BlockActionInput, SlackFake } from './fakes/slack-fake.js';
import { FEEDBACK_BLOCKS, useBoltOnFake } from './helpers/bolt-on-fake.js';

// The Slack fake's interactivity, driven against a real Bolt app: signed block_actions over HTTP
// and Socket Mode, acks, response_url, and signatures Bolt refuses.
const { startFake, startHttpApp, startSocketApp } = useBoltOnFake();

describe('Slack fake: interactivity to the app', () => {
  /** Posts a bot message with a button and feedback buttons; `click` builds clicks by U1 on it. */
  async function postButtonMessage(slack: SlackFake, client: WebClient) {
    const root = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'hi' });
    const text = { type: 'plain_text', text: 'OK' };
    const blocks = [
      { type: 'actions', elements: [{ type: 'button', action_id: 'approve', text, value: 'v1' }] },
      ...FEEDBACK_BLOCKS,
    ];
    const ts = (await client.chat.postMessage({ channel: 'C1', thread_ts: root.ts, text: 'Move?', blocks }))
      .ts as string;
    const click = (actionId: string, more: Partial<BlockActionInput> = {}) =>
      slack.blockActionPayload({ user: 'U1', channel: 'C1', messageTs: ts, actionId, ...more });
    return { root, ts, click };
  }

  it('delivers signed block_actions that Bolt accepts, acks in the request and answers via response_url', async () => {
    const { slack, client } = await startFake();
    const { app, eventsUrl } = await startHttpApp(slack);
    const seen: Array<Record<string, unknown>> = [];
    app.action('approve', async ({ ack, action, body, respond }) => {
      seen.push({ action, messageText: 'message' in body ? body.message?.text : undefined });
      await ack();
      await respond({ replace_original: true, text: 'Approved' });
    });
    app.action('answer_feedback', async ({ ack, action }) => {
      seen.push({ action });
      await ack();
    });
    const { root, ts, click } = await postButtonMessage(slack, client);

    const approve = click('approve', { value: 'v1' });
    const container = {
      type: 'message',
      message_ts: ts,
      channel_id: 'C1',
      thread_ts: root.ts,
      is_ephemeral: false,
    };
    expect(approve).toMatchObject({
      type: 'block_actions',
      container,
      message: { ts, thread_ts: root.ts, text: 'Move?' },
      user: { id: 'U1', team_id: 'T1' },
    });
    const delivery = await slack.sendInteraction(eventsUrl, approve);

    expect(delivery.status).toBe(200);
    expect(seen).toEqual([
      {
        action: expect.objectContaining({ action_id: 'approve', value: 'v1', type: 'button' }),
        messageText: 'Move?',
      },
    ]);
    await waitFor(() => slack.responseUrlPosts.length === 1);
    expect(slack.responseUrlPosts[0]).toMatchObject({
      channel: 'C1',
      messageTs: ts,
      body: { text: 'Approved' },
    });
    expect(slack.threadMessages('C1', root.ts)[1]).toMatchObject({ text: 'Approved', edited: true });

    // The replaced message has no blocks left, so the element type is given.
    const feedback = click('answer_feedback', { value: 'good', elementType: 'feedback_buttons' });
    expect((await slack.sendInteraction(eventsUrl, feedback)).status).toBe(200);
    const clicked = { action_id: 'answer_feedback', type: 'feedback_buttons', value: 'good' };
    expect(seen[1]?.action).toMatchObject(clicked);
  });

  it('answers 401 to a bad or stale signature and never runs the handler', async () => {
    const { slack, client } = await startFake();
    const { app, eventsUrl } = await startHttpApp(slack);
    let calls = 0;
    app.action('approve', async ({ ack }) => {
      calls += 1;
      await ack();
    });
    const approve = (await postButtonMessage(slack, client)).click('approve');

    expect((await slack.sendInteraction(eventsUrl, approve, { badSignature: true })).status).toBe(401);
    expect((await slack.sendInteraction(eventsUrl, approve, { timestampOffsetSec: -600 })).status).toBe(401);
    expect(calls).toBe(0);
  });

  it('delivers block_actions over Socket Mode and resolves on the ack', async () => {
    const { slack, client } = await startFake();
    const values: unknown[] = [];
    await startSocketApp(slack, (app) =>
      app.action('approve', async ({ ack, action }) => {
        values.push('value' in action ? action.value : undefined);
        await ack();
      }),
    );
    const { click } = await postButtonMessage(slack, client);

    const { ack, envelopeId } = await slack.sendSocketInteraction(click('approve'));

    expect(ack.envelope_id).toBe(envelopeId);
    expect(values).toEqual(['v1']);
  });
});
