import type { webApi } from '@slack/bolt';

type WebClientOptions = webApi.WebClientOptions;

/**
 * A few quick retries: the web-api default (10 retries over ~30 minutes) would hold a BullMQ job or
 * a Socket Mode connect far longer than retrying the whole job later does.
 */
export const DEFAULT_SLACK_RETRY: NonNullable<WebClientOptions['retryConfig']> = {
  retries: 2,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 4_000,
};

/** Client options shared by the receiver and the outbound adapter: base URL and retry policy. */
export function slackClientOptions(options: {
  apiUrl?: string;
  retryConfig?: WebClientOptions['retryConfig'];
}): Pick<WebClientOptions, 'slackApiUrl' | 'retryConfig' | 'timeout'> {
  return {
    ...(options.apiUrl && {
      slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`,
    }),
    retryConfig: options.retryConfig ?? DEFAULT_SLACK_RETRY,
    timeout: 15_000,
  };
}
