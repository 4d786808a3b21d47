import type { App, Receiver, webApi } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { describeError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { toSlackLogger } from './slack-logger.js';

export interface SocketReceiverOptions {
  /** The app-level token (xapp-…). */
  appToken: string;
  /** slackApiUrl and retryConfig for apps.connections.open. */
  clientOptions: Pick<webApi.WebClientOptions, 'slackApiUrl' | 'retryConfig'>;
  logger: Logger;
}

/**
 * A Bolt Receiver for Socket Mode that acknowledges an envelope only after the listeners finished.
 * Bolt's own SocketModeReceiver acks events before its listeners run, so a failed enqueue (Redis
 * down) would be lost; unacknowledged envelopes are redelivered by Slack, so nothing is dropped.
 * This is what `processBeforeResponse: true` gives the HTTP receiver.
 */
export class DeferredAckSocketModeReceiver implements Receiver {
  readonly client: SocketModeClient;
  private app: App | undefined;

  constructor(private readonly options: SocketReceiverOptions) {
    this.client = new SocketModeClient({
      appToken: options.appToken,
      logger: toSlackLogger(options.logger),
      clientOptions: options.clientOptions,
      autoReconnectEnabled: true,
    });
    this.client.on('slack_event', (args: SlackEventArgs) => {
      void this.dispatch(args);
    });
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<unknown> {
    return this.client.start();
  }

  async stop(): Promise<unknown> {
    return this.client.disconnect();
  }

  private async dispatch({ ack, body, retry_num, retry_reason }: SlackEventArgs): Promise<void> {
    try {
      // Bolt calls this ack before the listeners for Events API payloads; the real one comes after.
      await this.app?.processEvent({
        body,
        ack: async () => {},
        retryNum: retry_num,
        retryReason: retry_reason,
      });
      await ack();
    } catch (err) {
      this.options.logger.warn(
        { err: describeError(err), retryNum: retry_num },
        'slack socket event not acknowledged; Slack will deliver it again',
      );
    }
  }
}

interface SlackEventArgs {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}
