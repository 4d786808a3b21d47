import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { type Config, secretValues } from './config.js';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log object. */
const REDACT_PATHS = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-subscription-token"]',
  '*.headers["x-subscription-token"]',
  'headers["x-slack-signature"]',
  '*.headers["x-slack-signature"]',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout (or pino-pretty on a TTY). Tests pass a stream to inspect. */
  destination?: NodeJS.WritableStream;
  /** Literal secret values to scrub from every line, whatever key or message they hide in. */
  secrets?: string[];
  pretty?: boolean;
}

/**
 * JSON logs in production, pretty on a TTY. Beyond key-based redaction, every line is scrubbed of
 * the configured secret values, because a token can leak inside an error message or a URL, and of the
 * password of any URL in it (`redis://:pw@host`, `postgres://user:pw@host`), configured or not.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = pretty ? prettyStream(options.destination) : (options.destination ?? process.stdout);
  const destination = scrubbing(base, secrets);
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'movebot' },
    },
    destination as pino.DestinationStream,
  );
}

export const secretValuesFromConfig = secretValues;

export function createLoggerFromConfig(config: Config, destination?: NodeJS.WritableStream): Logger {
  return createLogger({ level: config.logLevel, destination, secrets: secretValues(config) });
}

function prettyStream(destination?: NodeJS.WritableStream): NodeJS.WritableStream {
  return pinoPretty({
    colorize: true,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname,service',
    ...(destination && { destination }),
  });
}

function scrubbing(target: NodeJS.WritableStream, secrets: string[]): pino.DestinationStream {
  return {
    write(line: string) {
      let out = withoutUrlPasswords(line);
      for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
      target.write(out);
    },
  };
}

/** Where a URL's authority (`user:password@host:port`) ends; the password may hold anything else. */
const AUTHORITY_END = new Set(['/', '?', '#', '@', '"', "'", '<', '>', '`', ' ', '\t', '\n', '\r']);

/**
 * `scheme://user:password@host` → `scheme://user:[redacted]@host`, for every URL in `text`, in one
 * pass (log lines can carry what users wrote: no regex that could backtrack).
 */
export function withoutUrlPasswords(text: string): string {
  let out = '';
  let from = 0;
  let at = text.indexOf('://');
  while (at !== -1) {
    let end = at + 3;
    let colon = -1;
    while (end < text.length && !AUTHORITY_END.has(text[end]!)) {
      if (colon === -1 && text[end] === ':') colon = end;
      end++;
    }
    if (text[end] === '@' && colon !== -1) {
      out += `${text.slice(from, colon + 1)}[redacted]`;
      from = end;
    }
    // The authority may end where another URL's scheme ends ("a://b://…"): look again from its last 2 characters.
    at = text.indexOf('://', end - 2);
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A logger that drops everything, for tests and tools that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
