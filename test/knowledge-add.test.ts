import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnowledgeRepository } from '../db/repositories/knowledge-repository.js';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createEmbedder } from '../src/memory/embedder.js';
import { createKnowledgeLookup } from '../src/memory/knowledge.js';
import { chunkMarkdown } from '../src/memory/knowledge-loader.js';
import { createRuntime, type Runtime } from '../adapters/server/runtime.js';
import { messageText } from './fakes/openai-fake.js';
import { useTeamRuntime } from './helpers/team-runtime.js';
import { scriptTeam } from './helpers/team-script.js';
import { TEST_DIMENSIONS } from './helpers/test-db.js';

const run = promisify(execFile);
const TSX = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'knowledge-add.ts');

const GUIDE = `# Relocation guide

How to plan a move between US cities.

## Austin

### Pets

Austin apartments are largely dog friendly; expect a pet deposit of about $300 and monthly pet rent.
Zilker Park has a large off-leash area.

### Traffic

The I-35 corridor is congested at rush hour; most commuters drive.

## Denver

### Winter

Snow is frequent but melts fast thanks to the sunshine.
`;

const team = useTeamRuntime({ runtime: false });
let dir: string;
let guidePath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'movebot-knowledge-'));
  guidePath = join(dir, 'relocation-guide.md');
  await writeFile(guidePath, GUIDE);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `npm run knowledge:add -- <args>` the way a person would (same script, its own process). */
async function knowledgeAdd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [SCRIPT, ...args], {
      env: { ...process.env, ...team.fakes.env, DATABASE_URL: team.db.url! },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const chunkRows = async () =>
  (
    await team.db.db.query<{ content: string; has_vector: boolean; source_url: string; title: string; source_kind: string }>(
      `SELECT c.content, c.embedding IS NOT NULL AS has_vector, d.source_url, d.title, d.source_kind
       FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id ORDER BY c.chunk_index`,
    )
  ).rows;

const lookup = () =>
  createKnowledgeLookup({
    repo: createKnowledgeRepository(team.db.db, systemClock),
    embedder: createEmbedder({
      client: new OpenAI({ apiKey: 'sk-test', baseURL: team.fakes.openai.baseURL, maxRetries: 0 }),
      model: 'text-embedding-3-small',
      dimensions: TEST_DIMENSIONS,
    }),
  });

describe('npm run knowledge:add', () => {
  it('loads a Markdown guide as embedded chunks that carry their section headings', async () => {
    const result = await knowledgeAdd([guidePath]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toBe('added "Relocation guide": 4 chunks, embedded\n');

    const rows = await chunkRows();
    expect(rows.map((r) => r.content.split('\n')[0])).toEqual([
      'Relocation guide',
      'Relocation guide › Austin › Pets',
      'Relocation guide › Austin › Traffic',
      'Relocation guide › Denver › Winter',
    ]);
    expect(rows.every((r) => r.has_vector && r.source_kind === 'document' && r.title === 'Relocation guide')).toBe(true);
    expect(rows[0]?.source_url).toBe(pathToFileURL(guidePath).href);
    // The embeddings reached the model with the configured size.
    const embedded = team.fakes.openai.embeddingRequests;
    expect(embedded).toHaveLength(1);
    expect(embedded[0]).toMatchObject({ model: 'text-embedding-3-small', dimensions: TEST_DIMENSIONS });
    expect(embedded[0]?.inputs).toHaveLength(4);

    const hits = await lookup()('Are Austin apartments dog friendly? pet deposit');
    expect(hits[0]?.content).toContain('pet deposit of about $300');
    expect(hits[0]?.url).toBe(pathToFileURL(guidePath).href);
  });

  it('replaces the document when it is loaded again, under a given source URL', async () => {
    await writeFile(guidePath, GUIDE.replace('$300', '$400'));
    for (let i = 0; i < 2; i++) expect((await knowledgeAdd([guidePath, '--url', 'https://example.org/guide'])).code).toBe(0);
    const rows = await chunkRows();
    const byUrl = rows.filter((r) => r.source_url === 'https://example.org/guide');
    expect(byUrl).toHaveLength(4);
    expect(byUrl.some((r) => r.content.includes('$400'))).toBe(true);
  });

  it('stores the document for full-text search when embeddings fail', async () => {
    const notes = join(dir, 'boise-notes.txt');
    await writeFile(notes, 'Boise has a greenbelt along the river that is popular with cyclists.');
    team.fakes.openai.failNext(500, { endpoint: 'embeddings', count: 10 });
    const result = await knowledgeAdd([notes]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 chunk, not embedded (full-text search only)');
    team.fakes.openai.failNext(500, { endpoint: 'embeddings', count: 10 });
    const hits = await lookup()('Is there a greenbelt for cyclists in Boise?');
    expect(hits.map((h) => h.content)).toContain('Boise has a greenbelt along the river that is popular with cyclists.');
  });

  it('refuses what it cannot load, saying why', async () => {
    const pdf = join(dir, 'guide.pdf');
    await writeFile(pdf, '%PDF-1.4');
    expect(await knowledgeAdd([pdf])).toMatchObject({ code: 64, stderr: expect.stringContaining('is not a .md or .txt file') });
    expect(await knowledgeAdd([])).toMatchObject({ code: 64, stderr: expect.stringContaining('usage: npm run knowledge:add') });
    const empty = join(dir, 'empty.md');
    await writeFile(empty, '\n\n');
    expect(await knowledgeAdd([empty])).toMatchObject({ code: 1, stderr: expect.stringContaining('the text is empty') });
    const huge = join(dir, 'huge.md');
    await writeFile(huge, `${'A paragraph about moving that fills one chunk on its own. '.repeat(15)}\n\n`.repeat(10_500));
    expect(await knowledgeAdd([huge])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/too large to load at once \(\d+ chunks, at most 10000\): split it/),
    });
  });
});

describe('a loaded guide in the conversation', () => {
  let runtime: Runtime | undefined;
  afterAll(async () => {
    await runtime?.close();
  });

  it('is retrieved for a follow-up question in a thread', async () => {
    await writeFile(guidePath, GUIDE);
    expect((await knowledgeAdd([guidePath])).code).toBe(0);
    runtime = await createRuntime(loadConfig('cli', { ...team.fakes.env, DATABASE_URL: team.db.url! }), { logger: silentLogger });
    const thread = 'cli:local:guide';
    const ask = (text: string) =>
      runtime!.conversation.handle({ platform: 'cli', workspace: 'local', threadKey: thread, user: { platformUserId: 'kim' }, text });
    await ask('Should I move from Seattle to Austin?');
    team.fakes.openai.reset();
    scriptTeam(team.fakes.openai);
    const follow = await ask('How bad is the I-35 traffic at rush hour in Austin?');
    expect(follow.outcome?.kind).toBe('answer');
    const call = team.fakes.openai.chatRequests.find((r) => messageText(r.messages[0]?.content).includes('follow-up question'))!;
    expect(messageText(call.messages[1]?.content)).toContain('The I-35 corridor is congested at rush hour');
  });
});

describe('chunkMarkdown', () => {
  it('keeps every word, ignores headings inside code fences, and bounds chunk size', () => {
    const long = `# Notes\n\n${'Rent rose again this year. '.repeat(120)}\n\n\`\`\`\n# not a heading\n\`\`\`\n`;
    const chunks = chunkMarkdown(long, 400);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(400);
    const words = (s: string) => s.match(/\w+/g)?.length ?? 0;
    const body = chunks.map((c) => c.replace(/^Notes\n\n/, '')).join(' ');
    expect(words(body)).toBe(words(long) - 1);
    expect(chunks.at(-1)).toContain('# not a heading');
  });
});
