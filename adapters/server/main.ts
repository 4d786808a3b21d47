/**
 * `npm start` (web + worker in one process), `npm run start:web`, `npm run start:worker`.
 * SIGTERM/SIGINT: stop taking messages, let running answers finish (up to the shutdown deadline), exit.
 */
import { parseArgs } from 'node:util';
import 'dotenv/config';
import { loadConfigOrExit } from '../../src/config.js';
import { describeError } from '../../src/errors.js';
import { createLoggerFromConfig } from '../../src/logger.js';
import { type ServerRole, type Services, startServices } from './services.js';

const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } });
const role = values.role as ServerRole;
if (!['all', 'web', 'worker'].includes(role)) {
  process.stderr.write(`movebot: --role must be all, web or worker (got "${values.role}")\n`);
  process.exit(2);
}
const config = loadConfigOrExit(role);
const logger = createLoggerFromConfig(config);

// Handlers go in before start-up: a SIGTERM while a platform is still being reached (Slack's
// auth.test, the Discord gateway) must still stop us cleanly, not kill us mid-way.
let services: Services | undefined;
let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await services?.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  services = await startServices(config, { role, logger });
  logger.info({ role, url: services.url }, 'movebot started');
  if (stopping) await services.stop();
} catch (err) {
  logger.fatal({ err: describeError(err) }, 'movebot could not start');
  process.stderr.write(`movebot: could not start: ${describeError(err)}\n`);
  process.exit(1);
}
