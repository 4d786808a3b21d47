import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLoggerFromConfig } from '../src/logger.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('accepts a minimal CLI environment and applies defaults', () => {
    const config = loadConfig('cli', { OPENAI_API_KEY: 'sk-test-123456' });
    expect(config.openai.model).toBe('gpt-4o-mini');
    expect(config.openai.embeddingModel).toBe('text-embedding-3-small');
    expect(config.openai.embeddingDimensions).toBe(1536);
    expect(config.brave.apiUrl).toBe('https://api.search.brave.com/res/v1');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(7777);
    expect(config.reportsDir).toBe('reports');
    expect(config.databaseUrl).toBeUndefined();
  });

  it('lets a local OpenAI-compatible server stand in for the key', () => {
    const config = loadConfig('cli', { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(config.openai.baseURL).toBe('http://127.0.0.1:11434/v1');
  });

  it('the CLI needs no Slack or Discord token', () => {
    expect(() => loadConfig('cli', { OPENAI_API_KEY: 'sk-test-123456' })).not.toThrow();
  });

  it('names every wrong variable in one message', () => {
    const env = {
      PORT: 'eighty',
      EMBEDDING_DIMENSIONS: '-3',
      OPENAI_BASE_URL: 'not a url',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://redis',
      LOG_LEVEL: 'loud',
      SLACK_BOT_TOKEN: 'xoxb-1',
      DISCORD_TOKEN: 'abc',
      WORKER_CONCURRENCY: '0',
    };
    const vars = problemsOf(() => loadConfig('all', env));
    expect(vars).toEqual(
      expect.arrayContaining([
        'PORT',
        'EMBEDDING_DIMENSIONS',
        'OPENAI_BASE_URL',
        'DATABASE_URL',
        'REDIS_URL',
        'LOG_LEVEL',
        'SLACK_SIGNING_SECRET',
        'DISCORD_APPLICATION_ID',
        'WORKER_CONCURRENCY',
      ]),
    );
    try {
      loadConfig('all', env);
    } catch (err) {
      const message = (err as Error).message;
      expect(message.split('\n')[0]).toMatch(/invalid configuration \(\d+ problems\)/);
      expect(message).toContain('PORT: must be a whole number');
      expect(message).not.toMatch(/\bat .*\.ts:\d+/); // no stack frames
    }
  });

  it('requires an LLM for the CLI, and no platform for the web role (API-only)', () => {
    expect(problemsOf(() => loadConfig('cli', {}))).toEqual(['OPENAI_API_KEY']);
    // Neither Slack nor Discord: an API-only web role.
    expect(loadConfig('web', {}).slack.botToken).toBeUndefined();
  });

  it('exits 2 with one message and no stack trace from an entry point', async () => {
    const { execFile } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'npx',
        ['tsx', 'scripts/db-migrate.ts'],
        { env: { ...process.env, EMBEDDING_DIMENSIONS: 'many', PORT: '99999999' } },
        (err, _stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('EMBEDDING_DIMENSIONS');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).not.toContain('    at ');
  });
});

describe('logging', () => {
  it('never writes a configured secret, whatever field or message it hides in', () => {
    const secrets = {
      OPENAI_API_KEY: 'sk-live-SECRET-openai-0001',
      SLACK_BOT_TOKEN: 'xoxb-SECRET-slack-0002',
      SLACK_SIGNING_SECRET: 'SECRET-signing-0003',
      BRAVE_API_KEY: 'SECRET-brave-0004',
      DATABASE_URL: 'postgres://movebot:SECRET-dbpass-0005@127.0.0.1:5432/movebot',
    };
    const config = loadConfig('all', { ...secrets });
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLoggerFromConfig(config, sink);
    log.info({ headers: { authorization: `Bearer ${secrets.OPENAI_API_KEY}` } }, 'calling the model');
    log.warn({ token: secrets.SLACK_BOT_TOKEN }, 'slack');
    log.error(new Error(`request failed for key ${secrets.BRAVE_API_KEY}`), 'brave failed');
    log.info(`signing with ${secrets.SLACK_SIGNING_SECRET} and ${secrets.DATABASE_URL}`);
    expect(out.split('\n').filter(Boolean)).toHaveLength(4);
    for (const value of ['sk-live-SECRET-openai-0001', 'xoxb-SECRET-slack-0002', 'SECRET-signing-0003', 'SECRET-brave-0004', 'SECRET-dbpass-0005']) {
      expect(out).not.toContain(value);
    }
    expect(out).toContain('[redacted]');
  });
});
