import { z } from 'zod';
import { DATABASE, DEFAULTS, LIMITS } from './constants.js';
import { MovebotError } from './errors.js';

/**
 * Which process is starting. Each role requires only what it needs: the CLI needs no Slack token,
 * the web role needs no OpenAI key (it only verifies and enqueues).
 */
export type Role = 'cli' | 'web' | 'worker' | 'all' | 'discord-register' | 'tool';

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const optionalUrl = optionalString.pipe(z.url({ message: 'must be a URL such as http://host:port' }).optional());
const int = (min: number, max: number, fallback: number) =>
  optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .optional()
      .transform((v) => v ?? fallback),
  );
const decimal = (min: number, max: number, fallback: number) =>
  optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a number such as 5 or 2.50' })
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .optional()
      .transform((v) => v ?? fallback),
  );

const envSchema = z.object({
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: optionalString.transform((v) => v ?? DEFAULTS.openaiModel),
  COORDINATOR_MODEL: optionalString,
  COST_ANALYST_MODEL: optionalString,
  SENTIMENT_ANALYST_MODEL: optionalString,
  MIGRATION_RESEARCHER_MODEL: optionalString,
  OPENAI_EMBEDDING_MODEL: optionalString.transform((v) => v ?? DEFAULTS.embeddingModel),
  EMBEDDING_DIMENSIONS: int(1, 16_000, DEFAULTS.embeddingDimensions),
  FIRECRAWL_API_KEY: optionalString,
  FIRECRAWL_API_URL: optionalUrl.transform((v) => v ?? DEFAULTS.firecrawlApiUrl),
  BRAVE_API_KEY: optionalString,
  BRAVE_API_URL: optionalUrl.transform((v) => v ?? DEFAULTS.braveApiUrl),
  BRAVE_MIN_INTERVAL_MS: int(0, 60_000, DEFAULTS.braveMinIntervalMs),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalUrl,
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_GUILD_ID: optionalString,
  DISCORD_API_URL: optionalUrl,
  DISCORD_MESSAGE_CONTENT: optionalString.pipe(
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .optional()
      .transform((v) => v === 'true' || v === '1'),
  ),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  PGLITE_DIR: optionalString.transform((v) => v ?? DEFAULTS.pgliteDir),
  REDIS_URL: optionalString
    .pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional())
    .transform((v) => v ?? DEFAULTS.redisUrl),
  PORT: int(0, 65_535, DEFAULTS.port),
  HOST: optionalString,
  AGENTOS_API_KEY: optionalString,
  LOG_LEVEL: optionalString.pipe(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
  ),
  REPORTS_DIR: optionalString.transform((v) => v ?? DEFAULTS.reportsDir),
  WORKER_CONCURRENCY: int(1, 1_000, DEFAULTS.workerConcurrency),
  TURN_DEADLINE_MS: int(1_000, 86_400_000, DEFAULTS.turnDeadlineMs),
  DB_CONNECT_TIMEOUT_MS: int(100, 600_000, DATABASE.connectTimeoutMs),
  DB_STATEMENT_TIMEOUT_MS: int(100, 86_400_000, DATABASE.statementTimeoutMs),
  DB_QUERY_TIMEOUT_MS: int(100, 86_400_000, DATABASE.queryTimeoutMs),
  DB_OUTAGE_WAIT_MS: int(0, 86_400_000, DATABASE.outageWaitMs),
  LIMIT_TURNS_PER_MINUTE: int(0, 1_000_000, LIMITS.turnsPerMinute),
  LIMIT_DAILY_BUDGET_USD: decimal(0, 1_000_000, LIMITS.dailyBudgetUsd),
  LIMIT_PENDING_PER_THREAD: int(0, 1_000_000, LIMITS.pendingPerThread),
  NODE_ENV: optionalString,
});

export type Env = z.infer<typeof envSchema>;

/** The validated, typed configuration every factory takes. */
export interface Config {
  role: Role;
  openai: {
    apiKey: string;
    baseURL: string | undefined;
    model: string;
    /** Per-agent overrides of `model`. */
    agentModels: {
      coordinator?: string;
      'cost-analyst'?: string;
      'sentiment-analyst'?: string;
      'migration-researcher'?: string;
    };
    embeddingModel: string;
    embeddingDimensions: number;
  };
  firecrawl: { apiKey: string | undefined; apiUrl: string };
  /** `minIntervalMs`: Brave's free plan allows one request a second. */
  brave: { apiKey: string | undefined; apiUrl: string; minIntervalMs: number };
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
  };
  discord: {
    token: string | undefined;
    applicationId: string | undefined;
    guildId: string | undefined;
    apiUrl: string | undefined;
    /** Request the privileged MessageContent intent: thread follow-ups without a mention. */
    messageContent: boolean;
  };
  databaseUrl: string | undefined;
  pgliteDir: string;
  redisUrl: string;
  port: number;
  host: string | undefined;
  agentosApiKey: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  reportsDir: string;
  workerConcurrency: number;
  /** A whole turn's deadline; past it the turn is stopped and the thread told so. */
  turnDeadlineMs: number;
  /** PostgreSQL: connection, statement (server-side) and query (client-side) timeouts. */
  dbTimeouts: { connectMs: number; statementMs: number; queryMs: number };
  /** How long a worker's job waits for an unreachable database before giving up. */
  dbOutageWaitMs: number;
  /** Ingress limits checked at enqueue by the web role; 0 turns one off. */
  limits: { turnsPerMinute: number; dailyBudgetUsd: number; pendingPerThread: number };
}

/** One problem with one variable, in words a user can act on. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigError extends MovebotError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      'config_invalid',
      [
        `movebot: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...problems.map((p) => `  - ${p.variable}: ${p.problem}`),
        'See .env.example and the configuration table in README.md.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The shortest AGENTOS_API_KEY the web and worker roles accept. */
export const MIN_API_KEY_LENGTH = 32;

const needsLlm = (role: Role) => role === 'cli' || role === 'worker' || role === 'all';
const needsPlatforms = (role: Role) => role === 'web' || role === 'worker' || role === 'all';

/**
 * Validates the environment for one role and returns the typed config, or throws a ConfigError that
 * names every wrong variable at once (never just the first).
 */
export function loadConfig(role: Role, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: ConfigProblem[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ variable: String(issue.path[0] ?? '?'), problem: issue.message });
    }
  }
  // Keep checking role rules on the raw values so one message lists everything.
  const e = (parsed.success ? parsed.data : (env as Record<string, string | undefined>)) as Partial<Env>;
  const has = (name: keyof Env) => typeof e[name] === 'string' && (e[name] as string).trim() !== '';

  if (needsLlm(role) && !has('OPENAI_API_KEY') && !has('OPENAI_BASE_URL')) {
    problems.push({
      variable: 'OPENAI_API_KEY',
      problem: 'required (or set OPENAI_BASE_URL to an OpenAI-compatible server such as Ollama or vLLM)',
    });
  }
  if (needsPlatforms(role)) {
    // Neither Slack nor Discord is fine: an API-only deployment serves the AgentOS API and the console.
    if (has('SLACK_BOT_TOKEN') && !has('SLACK_SIGNING_SECRET') && !has('SLACK_APP_TOKEN')) {
      problems.push({
        variable: 'SLACK_SIGNING_SECRET',
        problem: 'required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
    if (has('SLACK_APP_TOKEN') && !String(e.SLACK_APP_TOKEN).startsWith('xapp-')) {
      problems.push({ variable: 'SLACK_APP_TOKEN', problem: 'must be an app-level token starting with xapp-' });
    }
  }
  // The key is all that guards memories and conversations once the API is reachable: no guessable ones.
  if (needsPlatforms(role) && has('AGENTOS_API_KEY') && String(e.AGENTOS_API_KEY).trim().length < MIN_API_KEY_LENGTH) {
    problems.push({
      variable: 'AGENTOS_API_KEY',
      problem: `must be at least ${MIN_API_KEY_LENGTH} characters (it has ${String(e.AGENTOS_API_KEY).trim().length}); generate one with: openssl rand -hex 32`,
    });
  }
  if ((needsPlatforms(role) || role === 'discord-register') && has('DISCORD_TOKEN') && !has('DISCORD_APPLICATION_ID')) {
    problems.push({ variable: 'DISCORD_APPLICATION_ID', problem: 'required with DISCORD_TOKEN' });
  }
  if (role === 'discord-register') {
    if (!has('DISCORD_TOKEN')) problems.push({ variable: 'DISCORD_TOKEN', problem: 'required to register commands' });
    if (!has('DISCORD_APPLICATION_ID'))
      problems.push({ variable: 'DISCORD_APPLICATION_ID', problem: 'required to register commands' });
  }

  if (problems.length > 0 || !parsed.success) {
    // Deduplicate: the same variable can fail both the schema and a role rule.
    const unique = new Map(problems.map((p) => [`${p.variable}|${p.problem}`, p]));
    throw new ConfigError([...unique.values()]);
  }
  const d = parsed.data;
  return {
    role,
    openai: {
      // Local OpenAI-compatible servers (Ollama, vLLM) ignore the key, but the SDK insists on one.
      apiKey: d.OPENAI_API_KEY ?? 'not-needed',
      baseURL: d.OPENAI_BASE_URL,
      model: d.OPENAI_MODEL,
      agentModels: {
        coordinator: d.COORDINATOR_MODEL,
        'cost-analyst': d.COST_ANALYST_MODEL,
        'sentiment-analyst': d.SENTIMENT_ANALYST_MODEL,
        'migration-researcher': d.MIGRATION_RESEARCHER_MODEL,
      },
      embeddingModel: d.OPENAI_EMBEDDING_MODEL,
      embeddingDimensions: d.EMBEDDING_DIMENSIONS,
    },
    firecrawl: { apiKey: d.FIRECRAWL_API_KEY, apiUrl: d.FIRECRAWL_API_URL },
    brave: { apiKey: d.BRAVE_API_KEY, apiUrl: d.BRAVE_API_URL, minIntervalMs: d.BRAVE_MIN_INTERVAL_MS },
    slack: {
      botToken: d.SLACK_BOT_TOKEN,
      signingSecret: d.SLACK_SIGNING_SECRET,
      appToken: d.SLACK_APP_TOKEN,
      apiUrl: d.SLACK_API_URL,
    },
    discord: {
      token: d.DISCORD_TOKEN,
      applicationId: d.DISCORD_APPLICATION_ID,
      guildId: d.DISCORD_GUILD_ID,
      apiUrl: d.DISCORD_API_URL,
      messageContent: d.DISCORD_MESSAGE_CONTENT,
    },
    databaseUrl: d.DATABASE_URL,
    pgliteDir: d.PGLITE_DIR,
    redisUrl: d.REDIS_URL,
    port: d.PORT,
    host: d.HOST,
    agentosApiKey: d.AGENTOS_API_KEY,
    logLevel: d.LOG_LEVEL,
    reportsDir: d.REPORTS_DIR,
    workerConcurrency: d.WORKER_CONCURRENCY,
    turnDeadlineMs: d.TURN_DEADLINE_MS,
    dbTimeouts: { connectMs: d.DB_CONNECT_TIMEOUT_MS, statementMs: d.DB_STATEMENT_TIMEOUT_MS, queryMs: d.DB_QUERY_TIMEOUT_MS },
    dbOutageWaitMs: d.DB_OUTAGE_WAIT_MS,
    limits: {
      turnsPerMinute: d.LIMIT_TURNS_PER_MINUTE,
      dailyBudgetUsd: d.LIMIT_DAILY_BUDGET_USD,
      pendingPerThread: d.LIMIT_PENDING_PER_THREAD,
    },
  };
}

/** Every value in the config that must never be printed, for the logger's scrubber. */
export function secretValues(config: Config): string[] {
  return [
    config.openai.apiKey,
    config.firecrawl.apiKey,
    config.brave.apiKey,
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.discord.token,
    config.agentosApiKey,
    passwordOf(config.databaseUrl),
    passwordOf(config.redisUrl),
  ].filter((v): v is string => typeof v === 'string' && v.length >= 6 && v !== 'not-needed');
}

function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Entry points call this: on a ConfigError it prints the one message and exits 2, with no stack trace.
 */
export function loadConfigOrExit(role: Role, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(role, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
