import { Assistant } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-http.js';
import { FEEDBACK_BLOCKS, useBoltOnFake } from './helpers/bolt-on-fake.js';

const { startFake, startHttpApp } = useBoltOnFake();

/** The Slack error code a Web API call was rejected with, or 'ok'. */
const errorOf = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'ok',
    (err: { data?: { error?: string } }) => err.data?.error ?? String(err),
  );


describe('Slack fake: chat streaming', () => {
  it('streams a plan with tasks and text, then stops with feedback blocks', async () => {
    const { slack, client } = await startFake();
    const root = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'Seattle to Austin?' });
    const recipient = { recipient_user_id: 'U1', recipient_team_id: 'T1' };

    const started = await client.chat.startStream({
      channel: 'C1',
      thread_ts: root.ts,
      ...recipient,
      task_display_mode: 'plan',
      chunks: [
        { type: 'plan_update', title: 'Comparing Seattle and Austin' },
        { type: 'task_update', id: 'rent', title: 'Rent', status: 'in_progress' },
      ],
    });
    const ts = started.ts as string;
    await client.chat.appendStream({ channel: 'C1', ts, markdown_text: '**Austin** is cheaper' });
    const source = { type: 'url' as const, url: 'https://example.com/rent', text: 'Rent index' };
    const rentDone = {
      id: 'rent',
      title: 'Rent',
      status: 'complete' as const,
      output: '-18%',
      sources: [source],
    };
    const chunks = [
      { type: 'task_update' as const, ...rentDone },
      { type: 'task_update' as const, id: 'jobs', title: 'Jobs', status: 'pending' as const },
      { type: 'markdown_text' as const, text: ' by 18%.' },
    ];
    await client.chat.appendStream({ channel: 'C1', ts, chunks });

    const text = '**Austin** is cheaper by 18%.';
    expect(slack.threadMessages('C1', root.ts)[1]).toMatchObject({
      user: 'UBOT',
      threadTs: root.ts,
      streaming: true,
      text,
    });
    const edit = client.chat.update({ channel: 'C1', ts, text: 'edit' });
    expect(await errorOf(edit)).toBe('cant_update_message');

    const stopped = await client.chat.stopStream({ channel: 'C1', ts, blocks: FEEDBACK_BLOCKS });
    expect(stopped).toMatchObject({ ok: true, channel: 'C1', ts });

    const thread = slack.threadMessages('C1', root.ts);
    expect(thread).toHaveLength(2);
    expect(thread[1]).toMatchObject({
      ts,
      text,
      streaming: false,
      planTitle: 'Comparing Seattle and Austin',
      taskDisplayMode: 'plan',
      blocks: FEEDBACK_BLOCKS,
      tasks: [rentDone, { id: 'jobs', title: 'Jobs', status: 'pending' }],
    });
    expect(slack.callsTo('chat.appendStream')).toHaveLength(2);
    expect(slack.callsTo('chat.startStream')[0]?.args).toMatchObject({ channel: 'C1', ...recipient });
    // A stopped stream is an ordinary bot message again.
    await client.chat.update({ channel: 'C1', ts, text: 'Austin, by 18%.' });
    expect(slack.threadMessages('C1', root.ts)[1]).toMatchObject({ text: 'Austin, by 18%.', edited: true });
  });

  it("works with the SDK's own chatStream helper", async () => {
    const { slack, client } = await startFake();
    const root = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'hi' });
    const streamer = client.chatStream({
      channel: 'C1',
      thread_ts: root.ts,
      recipient_user_id: 'U1',
      recipient_team_id: 'T1',
      buffer_size: 4,
    });

    await streamer.append({ markdown_text: 'Hello ' });
    await streamer.append({ markdown_text: 'world' });
    await streamer.stop({ blocks: FEEDBACK_BLOCKS });

    expect(slack.threadMessages('C1', root.ts)[1]).toMatchObject({
      text: 'Hello world',
      streaming: false,
      blocks: FEEDBACK_BLOCKS,
    });
  });

  it('refuses appends after stopStream and after the stream window', async () => {
    const { slack, client } = await startFake();
    const root = slack.messageEvent({ channel: 'D1', user: 'U1', text: 'hi' });
    // A DM needs no recipient ids.
    const start = (text: string) =>
      client.chat.startStream({ channel: 'D1', thread_ts: root.ts, markdown_text: text });
    const append = (ts: unknown) =>
      client.chat.appendStream({ channel: 'D1', ts: String(ts), markdown_text: '+' });
    const first = await start('one');
    await client.chat.stopStream({ channel: 'D1', ts: first.ts as string });

    expect(await errorOf(append(first.ts))).toBe('message_not_in_streaming_state');
    expect(await errorOf(client.chat.stopStream({ channel: 'D1', ts: first.ts as string }))).toBe(
      'message_not_in_streaming_state',
    );
    const second = await start('two');
    slack.setStreamWindowMs(0);
    expect(await errorOf(append(second.ts))).toBe('message_not_in_streaming_state');
    expect(await errorOf(append('1.000000'))).toBe('message_not_found');
    expect(slack.threadMessages('D1', root.ts).map((m) => [m.text, m.streaming])).toEqual([
      ['hi', undefined],
      ['one', false],
      ['two', false],
    ]);
  });

  it('rejects what Slack rejects and stores nothing for it', async () => {
    const { slack, client } = await startFake();
    const root = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'hi' });
    const where = { channel: 'C1', thread_ts: root.ts };
    const base = { ...where, recipient_user_id: 'U1', recipient_team_id: 'T1' };
    const badTask = { type: 'task_update', id: 'a', title: 'A', status: 'done' };
    const both = { markdown_text: 'a', chunks: [{ type: 'markdown_text' as const, text: 'b' }] };

    const errors = [
      await errorOf(client.chat.startStream({ ...base, ...both })),
      await errorOf(client.chat.startStream({ ...where, markdown_text: 'a' })),
      await errorOf(client.chat.startStream({ ...where, recipient_user_id: 'U1', markdown_text: 'a' })),
      await errorOf(client.apiCall('chat.startStream', { channel: 'C1', markdown_text: 'a' })),
      await errorOf(client.apiCall('chat.startStream', { ...base, chunks: [badTask] })),
      await errorOf(client.chat.startStream({ ...base, markdown_text: 'x'.repeat(12_001) })),
    ];
    expect(errors).toEqual([
      'cannot_provide_both_markdown_text_and_chunks',
      'missing_recipient_user_id',
      'missing_recipient_team_id',
      'invalid_arguments',
      'invalid_chunks',
      'msg_too_long',
    ]);
    expect(slack.threadMessages('C1', root.ts)).toHaveLength(1);

    const ts = (await client.chat.startStream({ ...base, markdown_text: 'x'.repeat(12_000) })).ts as string;
    expect(await errorOf(client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'y' }))).toBe(
      'msg_too_long',
    );
    const blocks = Array(51).fill({ type: 'divider' });
    expect(await errorOf(client.chat.stopStream({ channel: 'C1', ts, blocks }))).toBe('invalid_blocks');
    expect(slack.callsTo('chat.startStream')).toHaveLength(7);
  });

  it('answers unknown_method while streaming is disabled, and honours failNext', async () => {
    const { slack, client } = await startFake();
    const root = slack.messageEvent({ channel: 'D1', user: 'U1', text: 'hi' });
    const start = () => client.chat.startStream({ channel: 'D1', thread_ts: root.ts, markdown_text: 'a' });

    slack.disableStreaming();
    expect(await errorOf(start())).toBe('unknown_method');
    slack.disableStreaming('not_allowed_token_type');
    expect(await errorOf(start())).toBe('not_allowed_token_type');
    expect(slack.threadMessages('D1', root.ts)).toHaveLength(1);
    slack.enableStreaming();
    const { ts } = await start();

    slack.failNext('chat.appendStream', 'ratelimited');
    const append = () => client.chat.appendStream({ channel: 'D1', ts: ts as string, markdown_text: 'b' });
    expect(await errorOf(append())).toBe('ratelimited');
    await append();
    expect(slack.threadMessages('D1', root.ts)[1]?.text).toBe('ab');
    expect(slack.callsTo('chat.startStream')).toHaveLength(3);
  });
});

describe('Slack fake: assistant threads and ephemeral messages', () => {
  it('records suggested prompts, titles and statuses, and validates prompts', async () => {
    const { slack, client } = await startFake();
    const thread = { channel_id: 'D1', thread_ts: '1700000000.000100' };
    const prompts = [{ title: 'Compare', message: 'Seattle to Austin?' }];

    await client.assistant.threads.setSuggestedPrompts({ ...thread, title: 'Try', prompts });
    await client.assistant.threads.setTitle({ ...thread, title: 'Seattle → Austin' });
    await client.assistant.threads.setStatus({
      ...thread,
      status: 'is thinking…',
      loading_messages: ['Hm…'],
    });
    const five = Array.from({ length: 5 }, (_, i) => ({ title: `t${i}`, message: `m${i}` }));
    const tooMany = client.assistant.threads.setSuggestedPrompts({ ...thread, prompts: five });
    expect(await errorOf(tooMany)).toBe('invalid_arguments');

    const at = { channel: 'D1', threadTs: thread.thread_ts };
    expect(slack.suggestedPrompts).toEqual([{ ...at, title: 'Try', prompts }]);
    expect(slack.titles).toEqual([{ ...at, title: 'Seattle → Austin' }]);
    expect(slack.statuses).toEqual([{ ...at, status: 'is thinking…', loadingMessages: ['Hm…'] }]);
  });

  it('drives a real Bolt Assistant: thread started, prompts, status, title and a streamed reply', async () => {
    const { slack } = await startFake();
    const { app, eventsUrl } = await startHttpApp(slack);
    app.assistant(
      new Assistant({
        threadStarted: async ({ setSuggestedPrompts }) => {
          await setSuggestedPrompts({ prompts: [{ title: 'Compare', message: 'Seattle to Austin?' }] });
        },
        userMessage: async ({ message, setStatus, setTitle, sayStream }) => {
          await setTitle('text' in message ? String(message.text) : '');
          await setStatus({ status: 'is thinking…', loading_messages: ['Reading rents…'] });
          const streamer = sayStream();
          await streamer.append({ markdown_text: 'Austin is cheaper.' });
          await streamer.stop();
        },
      }),
    );
    const started = slack.assistantThreadStartedEvent({ channel: 'D1', user: 'U1', contextChannel: 'C9' });
    const threadTs = started.assistant_thread.thread_ts;
    const context = { channel_id: 'C9', team_id: 'T1', enterprise_id: null };
    expect(started.assistant_thread.context).toEqual(context);

    expect((await slack.sendEvent(eventsUrl, started)).status).toBe(200);
    await waitFor(() => slack.suggestedPrompts.length === 1);
    const asked = slack.messageEvent({ channel: 'D1', user: 'U1', text: 'Seattle to Austin?', threadTs });
    expect((await slack.sendEvent(eventsUrl, asked)).status).toBe(200);

    const reply = await waitFor(() =>
      slack.threadMessages('D1', threadTs).find((m) => m.streaming === false),
    );
    expect(reply).toMatchObject({ user: 'UBOT', text: 'Austin is cheaper.' });
    expect(slack.suggestedPrompts[0]).toMatchObject({ channel: 'D1', threadTs });
    expect(slack.titles).toEqual([{ channel: 'D1', threadTs, title: 'Seattle to Austin?' }]);
    expect(slack.statuses).toEqual([
      { channel: 'D1', threadTs, status: 'is thinking…', loadingMessages: ['Reading rents…'] },
    ]);
    // The thread's root shows the title, as in Slack's assistant container.
    const root = { user: 'U1', subtype: 'assistant_app_thread', text: 'Seattle to Austin?' };
    expect(slack.threadMessages('D1', threadTs)[0]).toMatchObject(root);
  });

  it('keeps ephemeral messages out of threads and channels', async () => {
    const { slack, client } = await startFake();
    const root = slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'hi' });

    const only = { channel: 'C1', user: 'U1', text: 'only you' };
    const res = await client.chat.postEphemeral({ ...only, thread_ts: root.ts });
    expect(await errorOf(client.chat.postEphemeral({ ...only, user: '' }))).toBe('user_not_found');

    expect(slack.ephemerals).toEqual([{ ...only, threadTs: root.ts, ts: res.message_ts }]);
    expect(slack.threadMessages('C1', root.ts)).toHaveLength(1);
    expect(slack.messagesIn('C1')).toHaveLength(1);
  });
});
