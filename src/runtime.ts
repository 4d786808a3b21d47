import { createDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createKnowledgeCache } from '../db/repositories/knowledge-cache.js';
import { createSessionStore } from '../db/repositories/session-repository.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { type ConversationService, createConversationService, type MemoryHooks } from './conversation/conversation-service.js';
import { createLlmClientFromConfig, type LlmClient } from './llm/llm-client.js';
import type { Logger } from './logger.js';
import type { SessionStore } from './ports/session-store.js';
import type { TeamTools } from './team/analysts/analyst-context.js';
import { createTeam, type Team } from './team/coordinator.js';
import { createCityResolver } from './tools/city-resolver.js';
import { createTeamTools } from './tools/create-tools.js';

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
  /** Closes the database; adapters close their own connections first. */
  close(): Promise<void>;
}

export async function createRuntime(
  config: Config,
  deps: { logger: Logger; clock?: Clock; memory?: (rt: Omit<Runtime, 'conversation' | 'close'>) => MemoryHooks },
): Promise<Runtime> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, logger });
  try {
    await migrate(db, { dimensions: config.openai.embeddingDimensions });
  } catch (err) {
    await db.close();
    throw err;
  }
  const store = createSessionStore(db);
  const llm = createLlmClientFromConfig(config, logger);
  const tools = createTeamTools(config, { cache: createKnowledgeCache(db, clock), clock, logger });
  const team = createTeam({ llm, tools, resolver: createCityResolver(), clock, models: config.openai.agentModels, logger });
  const base = { config, logger, clock, db, store, llm, tools, team };
  const memory = deps.memory?.(base);
  const conversation = createConversationService({ store, team, memory, clock, logger });
  return { ...base, conversation, close: () => db.close() };
}
