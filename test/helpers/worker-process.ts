/**
 * A worker role in its own process, for tests that kill it mid-answer. Reads the test system's
 * environment plus TEST_QUEUE_NAME, prints "ready" once it takes jobs.
 */
import { startServices } from '../../adapters/server/services.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';

const config = loadConfig('worker');
await startServices(config, {
  role: 'worker',
  logger: silentLogger,
  queueName: process.env.TEST_QUEUE_NAME,
  worker: { lockDurationMs: 1_000, stalledIntervalMs: 500, threadRetryMs: 50 },
});
process.stdout.write('ready\n');
