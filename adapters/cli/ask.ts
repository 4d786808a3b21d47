/**
 * `npm run ask -- "Should I move from Seattle to Austin?" [--user ID] [--session ID]`
 *
 * Runs the team in this process (no Redis), on the embedded database unless DATABASE_URL is set.
 * Progress goes to stderr; the answer to stdout; a report's path is the last stdout line.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import 'dotenv/config';
import { loadConfigOrExit } from '../../src/config.js';
import { userFacingError } from '../../src/conversation/conversation-service.js';
import { describeError } from '../../src/errors.js';
import { createLogger, secretValuesFromConfig } from '../../src/logger.js';
import { createRuntime } from '../server/runtime.js';
import { createProgressBoard, describeEvent } from '../../src/team/progress.js';
import { reportFiles, withChartLink } from '../../src/charts/run-chart.js';
import type { RunEvent } from '../../src/ports/run-events.js';
import { createInMemoryRunEvents } from '../../src/run/in-memory-run-events.js';
import { createTurnRunner } from '../../src/run/turn-runner.js';

const USAGE = 'usage: npm run ask -- "Should I move from Seattle to Austin?" [--user ID] [--session ID]';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const question = parsed.positionals.join(' ').trim();
  if (!question) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfigOrExit('cli');
  // Logs share stderr with progress, so only warnings and errors unless LOG_LEVEL asks for more.
  const logger = createLogger({
    level: process.env.LOG_LEVEL ? config.logLevel : 'warn',
    destination: process.stderr,
    pretty: process.stderr.isTTY === true,
    secrets: secretValuesFromConfig(config),
  });
  const runtime = await createRuntime(config, { logger });
  if (runtime.db.kind === 'pglite') {
    // The log line saying so is below the CLI's warn level; where the conversation lives matters.
    process.stderr.write(`(embedded database in ${config.pgliteDir}; set DATABASE_URL to use PostgreSQL)\n`);
  }
  const sessionId = parsed.values.session ?? randomUUID();
  const progress = createProgressRenderer();
  // The same turn runner the workers use, in this process: its events stay in memory (no Redis).
  const events = createInMemoryRunEvents();
  const runner = createTurnRunner({
    conversation: runtime.conversation,
    events,
    cancellation: events.cancellation,
    logger,
    deadlineMs: config.turnDeadlineMs,
  });
  // Ctrl-C stops the run like a Stop button: what was written so far is kept in the session.
  const runId = randomUUID();
  const onSigint = () => void events.cancellation.request(runId);
  process.once('SIGINT', onSigint);
  try {
    const outcome = await runner.run(
      {
        runId,
        message: {
          platform: 'cli',
          workspace: 'local',
          threadKey: `cli:local:${sessionId}`,
          user: { platformUserId: parsed.values.user ?? process.env.USER ?? 'local', displayName: parsed.values.user ?? null },
          text: question,
        },
      },
      { finalAttempt: true, onEvent: progress.onEvent },
    );
    progress.finish();
    if (outcome.status === 'cancelled') {
      process.stdout.write(`${outcome.partial}\n(stopped)\n`);
      return 130;
    }
    const turn = outcome.result;
    process.stdout.write(`${turn.reply.content}\n`);
    process.stderr.write(`\nsession: ${sessionId} (continue with --session ${sessionId})\n`);
    if (turn.outcome?.kind === 'recommendation') {
      const dir = resolve(config.reportsDir);
      await mkdir(dir, { recursive: true });
      const { report, chart } = reportFiles(turn.outcome, runtime.clock, outcome.chart);
      const path = join(dir, report.fileName);
      let { markdown } = report;
      if (chart) {
        // The chart goes beside the report, which shows it by its relative name.
        await writeFile(join(dir, chart.fileName), chart.png);
        markdown = withChartLink(markdown, chart.fileName, chart.alt);
      }
      await writeFile(path, markdown, 'utf8');
      process.stdout.write(`${path}\n`);
    }
    return 0;
  } catch (err) {
    progress.finish();
    logger.debug({ err: describeError(err) }, 'run failed');
    process.stderr.write(`movebot: ${userFacingError(err)} (${describeError(err)})\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await events.close();
    await runtime.close();
  }
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: { user: { type: 'string' }, session: { type: 'string' } },
  });
}

/** Live, redrawn status on a TTY; one plain line per event otherwise (logs, CI, pipes). */
function createProgressRenderer() {
  const tty = process.stderr.isTTY === true;
  const board = createProgressBoard();
  let drawn = 0;
  const clear = () => {
    if (drawn > 0) process.stderr.write(`\x1b[${drawn}F\x1b[0J`);
    drawn = 0;
  };
  return {
    onEvent(event: RunEvent) {
      if (!tty) {
        const line = describeEvent(event);
        if (line) process.stderr.write(`… ${line}\n`);
        return;
      }
      if (board.apply(event)) {
        clear();
        const text = board.render();
        process.stderr.write(`${text}\n`);
        drawn = text.split('\n').length;
      }
    },
    finish() {
      if (tty) clear();
    },
  };
}

process.exitCode = await main();
