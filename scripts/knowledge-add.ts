/**
 * `npm run knowledge:add -- <file.md|file.txt> [--url <source url>] [--title <title>]`
 *
 * Loads a public document (a relocation guide, city notes) into the shared knowledge base, chunked
 * and embedded, for the team to retrieve by similarity. Loading the same source again replaces it.
 * Uses DATABASE_URL (or the embedded database) and the OpenAI settings for embeddings; without them
 * the document is still stored, for full-text search.
 */
import 'dotenv/config';
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createKnowledgeRepository } from '../db/repositories/knowledge-repository.js';
import { systemClock } from '../src/clock.js';
import { loadConfigOrExit } from '../src/config.js';
import { describeError } from '../src/errors.js';
import { createOpenAiSdk } from '../src/llm/llm-client.js';
import { createLoggerFromConfig } from '../src/logger.js';
import { createEmbedder } from '../src/memory/embedder.js';
import { addKnowledgeDocument } from '../src/memory/knowledge-loader.js';

const USAGE = 'usage: npm run knowledge:add -- <file.md|file.txt> [--url <source url>] [--title <title>]\n';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const file = positionals[0];
if (values.help || !file || positionals.length > 1) {
  process.stderr.write(USAGE);
  process.exit(values.help ? 0 : 64);
}
if (!['.md', '.markdown', '.txt'].includes(extname(file).toLowerCase())) {
  process.stderr.write(`movebot: ${file} is not a .md or .txt file\n${USAGE}`);
  process.exit(64);
}

const config = loadConfigOrExit('tool');
const logger = createLoggerFromConfig(config);
let text: string;
try {
  text = await readFile(file, 'utf8');
} catch (err) {
  process.stderr.write(`movebot: cannot read ${file}: ${(err as Error).message}\n`);
  process.exit(66);
}

const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, logger });
try {
  await migrate(db, { dimensions: config.openai.embeddingDimensions });
  const hasOpenAi = config.openai.apiKey !== 'not-needed' || config.openai.baseURL !== undefined;
  const embedder = hasOpenAi
    ? createEmbedder({
        client: createOpenAiSdk({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL }),
        model: config.openai.embeddingModel,
        dimensions: config.openai.embeddingDimensions,
      })
    : undefined;
  const added = await addKnowledgeDocument(
    { repo: createKnowledgeRepository(db, systemClock), embedder, logger },
    { text, sourceUrl: values.url ?? pathToFileURL(resolve(file)).href, title: values.title ?? undefined },
  );
  process.stdout.write(
    `added "${added.title ?? basename(file)}": ${added.chunks} chunk${added.chunks === 1 ? '' : 's'}, ` +
      `${added.embedded ? 'embedded' : 'not embedded (full-text search only)'}\n`,
  );
} catch (err) {
  process.stderr.write(`movebot: ${describeError(err)}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
