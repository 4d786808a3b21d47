import { type Router, Router as createRouter } from 'express';
import type { Config } from '../../src/config.js';
import { ANALYSTS, type AnalystId } from '../../src/team/types.js';
import { sendError } from './http-errors.js';

/** The id of the one team, as Agno clients know it. */
export const TEAM_ID = 'move-decision-team';
/** The database id clients must echo back; the Agent UI loads no sessions when it is empty. */
export const DB_ID = 'movebot-db';

interface ModelRef {
  name: string;
  model: string;
  provider: string;
}

export interface AgentInfo {
  id: string;
  name: string;
  role: string;
  description: string;
  db_id: string;
  model: ModelRef;
}

export interface TeamInfo extends Omit<AgentInfo, 'role'> {
  mode: 'coordinate';
  members: AgentInfo[];
}

const model = (name: string): ModelRef => ({ name: 'OpenAIChat', model: name, provider: 'OpenAI' });

export function listAgents(config: Config): AgentInfo[] {
  return (Object.keys(ANALYSTS) as AnalystId[]).map((id) => ({
    id,
    name: ANALYSTS[id].name,
    role: ANALYSTS[id].role,
    description: `${ANALYSTS[id].role}. Runs as part of the move decision team (see /teams).`,
    db_id: DB_ID,
    model: model(config.openai.agentModels[id] ?? config.openai.model),
  }));
}

export function teamInfo(config: Config): TeamInfo {
  return {
    id: TEAM_ID,
    name: 'Move Decision Team',
    description:
      'Should you move from one US city to another? A coordinator with a cost analyst, a sentiment analyst ' +
      'and a migration researcher writes a grounded recommendation.',
    db_id: DB_ID,
    mode: 'coordinate',
    model: model(config.openai.agentModels.coordinator ?? config.openai.model),
    members: listAgents(config),
  };
}

export function isAgentId(id: string): id is AnalystId {
  return Object.hasOwn(ANALYSTS, id);
}

/** GET /config, /agents, /agents/{id}, /teams, /teams/{id}. */
export function catalogRoutes(config: Config): Router {
  const router = createRouter();
  router.get('/config', (_req, res) => {
    const team = teamInfo(config);
    res.json({
      os_id: 'movebot',
      name: 'movebot',
      description: team.description,
      available_models: [...new Set([team.model.model, ...team.members.map((m) => m.model.model)])],
      databases: [DB_ID],
      agents: listAgents(config).map(({ id, name, db_id }) => ({ id, name, db_id })),
      teams: [{ id: team.id, name: team.name, db_id: team.db_id }],
      interfaces: [
        ...(config.slack.botToken ? [{ type: 'slack', version: 'v1', route: '/slack/events' }] : []),
        ...(config.discord.token ? [{ type: 'discord', version: 'v1', route: 'gateway' }] : []),
      ],
      chat: { quick_prompts: { [TEAM_ID]: ['Should I move from Seattle to Austin?', 'Compare Chicago and Denver'] } },
    });
  });
  router.get('/agents', (_req, res) => {
    res.json(listAgents(config));
  });
  router.get('/agents/:id', (req, res) => {
    const agent = listAgents(config).find((a) => a.id === req.params.id);
    if (!agent) return sendError(res, 404, 'not_found', `No agent with id "${req.params.id}".`);
    res.json(agent);
  });
  router.get('/teams', (_req, res) => {
    res.json([teamInfo(config)]);
  });
  router.get('/teams/:id', (req, res) => {
    if (req.params.id !== TEAM_ID) return sendError(res, 404, 'not_found', `No team with id "${req.params.id}".`);
    res.json(teamInfo(config));
  });
  return router;
}
