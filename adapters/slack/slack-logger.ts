import { type Logger as SlackLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';

/**
 * Bolt and the Slack SDKs log through @slack/logger's interface; this routes them into our pino
 * logger (with its secret scrubbing) under `component: 'slack-sdk'`.
 */
export function toSlackLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'slack-sdk' });
  let level: LogLevel = LogLevel.INFO;
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: (...msg) => child.debug(line(msg)),
    info: (...msg) => child.info(line(msg)),
    warn: (...msg) => child.warn(line(msg)),
    error: (...msg) => child.error(line(msg)),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
