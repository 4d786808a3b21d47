/**
 * A worker role in its own process, for tests that kill or pause it mid-answer. Reads the test
 * system's environment plus TEST_QUEUE_NAME (and TEST_THREAD_LOCK_MS, the thread lock's lifetime),
 * prints "ready" once it takes jobs. Started by worker-processes.ts.
 */
import { startServices } from '../../adapters/server/services.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';

const threadLockMs = Number(process.env.TEST_THREAD_LOCK_MS) || undefined;
const config = loadConfig('worker');
await startServices(config, {
  role: 'worker',
  logger: silentLogger,
  queueName: process.env.TEST_QUEUE_NAME,
  worker: { lockDurationMs: 1_000, stalledIntervalMs: 500, threadRetryMs: 50, threadLockMs },
});
process.stdout.write('ready\n');
