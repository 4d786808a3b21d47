import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartPng } from './helpers/png.js';
import { startTeamFakes, type TeamFakes } from './helpers/team-env.js';

let fakes: TeamFakes;
let dir: string;

beforeAll(async () => {
  fakes = await startTeamFakes();
  dir = await mkdtemp(join(tmpdir(), 'movebot-cli-'));
});
afterAll(async () => {
  await fakes?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `npm run ask` as a user would, on the embedded database (no DATABASE_URL). */
function ask(args: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...base } = process.env;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'ask', '--', ...args],
      {
        env: { ...base, ...fakes.env, PGLITE_DIR: join(dir, 'db'), REPORTS_DIR: join(dir, 'reports'), ...env },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run ask', () => {
  it('writes the report, prints its path last, and continues the session with --session', async () => {
    const first = await ask(['Should I move from Seattle to Austin?', '--user', 'dana', '--session', 'trip-1']);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const path = lines.at(-1)!;
    expect(path).toMatch(/reports\/seattle_to_austin_\d{8}_\d{6}_analysis\.md$/);
    const report = await readFile(path, 'utf8');
    expect(report).toMatch(/^# Should You Move from Seattle, WA to Austin, TX\?/);
    // The cost chart is written beside the report, which shows it by its relative name.
    const chartName = path.replace(/.*\//, '').replace(/_analysis\.md$/, '_cost_chart.png');
    expect(report).toMatch(new RegExp(`## Cost Analysis Report\\n\\n!\\[Bar chart of the cost of living compared with Seattle, WA\\. [^\\]]+\\]\\(${chartName}\\)`));
    expectChartPng(await readFile(join(dirname(path), chartName)));
    expect(first.stdout).toContain('**Move** for Seattle, WA → Austin, TX');
    expect(first.stderr).toMatch(/Cost Analyst (started|finished)/); // plain progress lines off a TTY
    expect(first.stderr).toContain('--session trip-1');
    // Where the conversation is kept is said once, and no log lines mix into the progress.
    expect(first.stderr).toContain(`(embedded database in ${join(dir, 'db')}; set DATABASE_URL to use PostgreSQL)`);
    expect(first.stderr).not.toMatch(/^\{"level"/m);

    const second = await ask(['What about taxes?', '--user', 'dana', '--session', 'trip-1']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('Follow-up answer');
    expect(second.stdout).not.toMatch(/analysis\.md/);
  }, 120_000); // two CLI processes, each starting the embedded database

  it('names every bad variable and exits non-zero without a stack trace', async () => {
    const result = await ask(['Should I move from Seattle to Austin?'], {
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      EMBEDDING_DIMENSIONS: 'lots',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('OPENAI_API_KEY');
    expect(result.stderr).toContain('EMBEDDING_DIMENSIONS');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
