import { createFeedbackStore } from '../../db/repositories/feedback-repository.js';
import type { FeedbackStore } from '../../src/ports/feedback-store.js';
import { createDatabase, type Database } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { createKnowledgeCache } from '../../db/repositories/knowledge-cache.js';
import { createKnowledgeRepository, type KnowledgeRepository } from '../../db/repositories/knowledge-repository.js';
import { createMemoryStore } from '../../db/repositories/memory-repository.js';
import { createSessionStore } from '../../db/repositories/session-repository.js';
import { type Clock, systemClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { type ConversationService, createConversationService } from '../../src/conversation/conversation-service.js';
import { createLlmClientFromConfig, createOpenAiSdk, type LlmClient } from '../../src/llm/llm-client.js';
import type { Logger } from '../../src/logger.js';
import { createEmbedder, type Embedder } from '../../src/memory/embedder.js';
import { createIndexingCache, createKnowledgeLookup, type IndexingCache } from '../../src/memory/knowledge.js';
import { createMemoryService, type MemoryService } from '../../src/memory/memory-service.js';
import type { MemoryStore } from '../../src/ports/memory-store.js';
import type { SessionStore } from '../../src/ports/session-store.js';
import type { TeamTools } from '../../src/team/analysts/analyst-context.js';
import { createTeam, type Team } from '../../src/team/coordinator.js';
import { createCityResolver } from '../../src/tools/city-resolver.js';
import { createTeamTools } from '../../src/tools/create-tools.js';

/** Everything a process (CLI, worker, API) shares: one database, one model client, one team. */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Database;
  store: SessionStore;
  llm: LlmClient;
  tools: TeamTools;
  team: Team;
  conversation: ConversationService;
  memoryStore: MemoryStore;
  memory: MemoryService;
  /** Thumbs up / down on answers. */
  feedback: FeedbackStore;
  embedder: Embedder;
  /** The tools' cache, which also indexes fetched pages into the knowledge base. */
  cache: IndexingCache;
  /** The shared knowledge base's documents and chunks. */
  knowledge: KnowledgeRepository;
  /** Closes the database; adapters close their own connections first. */
  close(): Promise<void>;
}

export async function createRuntime(config: Config, deps: { logger: Logger; clock?: Clock }): Promise<Runtime> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const db = await createDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: config.pgliteDir,
    // A turn holds a connection only per query, so a quarter of the worker's concurrency is plenty.
    maxConnections: Math.min(50, Math.max(10, Math.ceil(config.workerConcurrency / 4))),
    timeouts: config.dbTimeouts,
    logger,
  });
  try {
    await migrate(db, { dimensions: config.openai.embeddingDimensions });
  } catch (err) {
    await db.close();
    throw err;
  }
  const store = createSessionStore(db);
  const llm = createLlmClientFromConfig(config, logger);
  const embedder = createEmbedder({
    client: createOpenAiSdk({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL }),
    model: config.openai.embeddingModel,
    dimensions: config.openai.embeddingDimensions,
  });
  const knowledgeRepo = createKnowledgeRepository(db, clock);
  const cache = createIndexingCache({ cache: createKnowledgeCache(db, clock), repo: knowledgeRepo, embedder, clock, logger });
  const tools = createTeamTools(config, { cache, clock, logger });
  const team = createTeam({
    llm,
    tools,
    resolver: createCityResolver(),
    clock,
    models: config.openai.agentModels,
    knowledge: createKnowledgeLookup({ repo: knowledgeRepo, embedder }),
    logger,
  });
  const memoryStore = createMemoryStore(db);
  const memory = createMemoryService({ store: memoryStore, llm, embedder, logger, model: config.openai.agentModels.coordinator });
  const conversation = createConversationService({ store, team, memory, clock, logger });
  return {
    config,
    logger,
    clock,
    db,
    store,
    llm,
    tools,
    team,
    conversation,
    memoryStore,
    memory,
    feedback: createFeedbackStore(db),
    embedder,
    cache,
    knowledge: knowledgeRepo,
    async close() {
      await Promise.all([conversation.idle(), cache.idle()]);
      await db.close();
    },
  };
}
