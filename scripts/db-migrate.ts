/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import 'dotenv/config';
import { createDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { loadConfigOrExit } from '../src/config.js';
import { describeError } from '../src/errors.js';
import { createLoggerFromConfig } from '../src/logger.js';

const config = loadConfigOrExit('tool');
const logger = createLoggerFromConfig(config);
const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, logger });
try {
  const { applied } = await migrate(db, { dimensions: config.openai.embeddingDimensions });
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(', ') : 'none (up to date)'}\n`);
} catch (err) {
  process.stderr.write(`movebot: ${describeError(err)}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
