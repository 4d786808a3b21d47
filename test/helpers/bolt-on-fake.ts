import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { afterEach } from 'vitest';
import { createSlackFake, type SlackFake, type SlackFakeOptions } from '../fakes/slack-fake.js';

export const SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token';

/** Slack's feedback buttons, as an answer carries them. */
export const FEEDBACK_BLOCKS = [
  {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: 'answer_feedback',
        positive_button: { text: { type: 'plain_text', text: 'Good' }, value: 'good' },
        negative_button: { text: { type: 'plain_text', text: 'Bad' }, value: 'bad' },
      },
    ],
  },
];

/**
 * The Slack fake's own tests: a fake and a real Bolt app pointed at it, all closed after each test.
 * Call once per file, at the top level (it registers an `afterEach`).
 */
export function useBoltOnFake() {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return {
    /** The fake (signed with SECRET) and a Web API client on it. */
    async startFake(options: Partial<SlackFakeOptions> = {}): Promise<{ slack: SlackFake; client: WebClient }> {
      const slack = await createSlackFake({ signingSecret: SECRET, ...options });
      cleanups.push(() => slack.close());
      const client = new WebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      return { slack, client };
    },
    /** A real Bolt app over Socket Mode, connected to the fake; `setup` adds its listeners before it starts. */
    async startSocketApp(slack: SlackFake, setup: (app: App) => void = () => {}): Promise<App> {
      const app = new App({
        token: BOT_TOKEN,
        appToken: 'xapp-test-token',
        socketMode: true,
        logLevel: LogLevel.ERROR,
        clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      });
      setup(app);
      await app.start();
      cleanups.push(() => app.stop());
      await slack.socketConnected();
      return app;
    },
    /** A real Bolt app over HTTP on a free port; `setup` adds its listeners before it starts. */
    async startHttpApp(slack: SlackFake, setup: (app: App) => void = () => {}): Promise<{ app: App; eventsUrl: string }> {
      const app = new App({
        token: BOT_TOKEN,
        signingSecret: SECRET,
        logLevel: LogLevel.ERROR,
        clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      });
      setup(app);
      const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
      cleanups.push(() => app.stop());
      return { app, eventsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` };
    },
  };
}
