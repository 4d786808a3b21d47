import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { type IncomingMessage, type TurnResult, userFacingError } from '../../src/conversation/conversation-service.js';
import { describeError, MovebotError } from '../../src/errors.js';
import type { Runtime } from '../../src/runtime.js';
import type { TeamEvent, TeamOutcome } from '../../src/team/types.js';
import { isAgentId, TEAM_ID } from './catalog.js';
import { sendError } from './http-errors.js';

/** Text streamed so far by runs still in progress, for GET /sessions/{id}/runs while a run streams. */
export type LiveRuns = Map<string, { content: string }>;

/** Who a run is addressed to: the team, or one analyst (which runs the team; see runRoutes). */
interface RunTarget {
  kind: 'team' | 'agent';
  id: string;
  name: string;
}

const RunFormSchema = z.object({
  message: z.string({ message: 'message is required' }).trim().min(1, 'message is required').max(8_000, 'message is too long (max 8000 characters)'),
  stream: z
    .union([z.boolean(), z.string()])
    .optional()
    .transform((v) => (typeof v === 'boolean' ? v : !['false', '0', 'no'].includes((v ?? 'true').toLowerCase()))),
  session_id: z
    .string()
    .trim()
    .max(100, 'session_id is too long')
    .regex(/^[A-Za-z0-9_.:-]*$/, 'session_id may contain only letters, digits and . _ : -')
    .optional(),
  user_id: z.string().trim().max(200, 'user_id is too long').optional(),
});

/** Splits an answer that arrived in one piece into stream-sized deltas at word boundaries. */
export function chunkText(text: string, size = 200): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const cut = rest.lastIndexOf(' ', size);
    const at = cut > size / 2 ? cut + 1 : size;
    chunks.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  if (rest) chunks.push(rest);
  return chunks;
}

/** What API clients see as the answer: the full Markdown report for a recommendation, else the text. */
export function outcomeContent(outcome: TeamOutcome | undefined, fallback: string): string {
  return outcome?.kind === 'recommendation' ? outcome.markdown : (outcome?.text ?? fallback);
}

/**
 * POST /teams/{team_id}/runs and POST /agents/{agent_id}/runs (form, urlencoded or JSON body).
 *
 * An analyst cannot answer alone (it needs the coordinator's intake to know the cities and the
 * person), so an agent run runs the whole team turn and streams the same answer, with AgentOS's
 * agent event names (no `Team` prefix); its session is filed under the agent's id.
 */
export function runRoutes(deps: { runtime: Runtime; live: LiveRuns }): Router {
  const router = createRouterWithParsers();
  router.post('/teams/:teamId/runs', async (req, res) => {
    if (req.params.teamId !== TEAM_ID) return sendError(res, 404, 'not_found', `No team with id "${req.params.teamId}".`);
    await run(deps, req, res, { kind: 'team', id: TEAM_ID, name: 'Move Decision Team' });
  });
  router.post('/agents/:agentId/runs', async (req, res) => {
    const id = String(req.params.agentId);
    if (!isAgentId(id)) return sendError(res, 404, 'not_found', `No agent with id "${id}".`);
    await run(deps, req, res, { kind: 'agent', id, name: id });
  });
  return router;
}

function createRouterWithParsers(): Router {
  const router = express.Router();
  const form = multer({ limits: { fieldSize: 64 * 1024, fields: 20, files: 0 } }).none();
  router.use(['/teams/:id/runs', '/agents/:id/runs'], form, express.urlencoded({ extended: false, limit: '100kb' }), express.json({ limit: '100kb' }));
  return router;
}

async function run(deps: { runtime: Runtime; live: LiveRuns }, req: Request, res: Response, target: RunTarget) {
  const parsed = RunFormSchema.safeParse(req.body ?? {});
  if (!parsed.success) return sendError(res, 400, 'bad_request', parsed.error.issues[0]?.message ?? 'Invalid form.');
  const form = parsed.data;
  const { runtime, live } = deps;
  const { store, clock, logger } = runtime;
  const started = clock.now();

  // A new API session gets its id up front, so the thread key, the owner and the anonymous user agree.
  const requested = form.session_id ? await store.getSession(form.session_id) : undefined;
  const sessionId = requested?.id || form.session_id || randomUUID();
  // Without a user_id the caller is anonymous *per session*: memories never leak between strangers.
  const platformUserId = form.user_id || `anonymous:${sessionId}`;
  const threadKey = requested?.threadKey ?? `api:${sessionId}`;
  if (!requested) {
    const owner = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId }, form.user_id ?? null);
    await store.getOrCreateSession({
      id: sessionId,
      threadKey,
      platform: 'api',
      ownerUserId: owner.id,
      title: form.message.slice(0, 80),
      componentId: target.id,
    });
  }
  const message: IncomingMessage = {
    platform: 'api',
    workspace: 'api',
    threadKey,
    user: { platformUserId, displayName: form.user_id ?? null },
    text: form.message,
  };

  const prefix = target.kind === 'team' ? 'Team' : '';
  const stream = form.stream ? openEventStream(res) : undefined;
  let runId: string | undefined;
  let streamed = '';
  let toolCalls = 0;
  const base = () => ({
    created_at: Math.floor(clock.now() / 1000),
    session_id: sessionId,
    run_id: runId,
    ...(target.kind === 'team' ? { team_id: target.id, team_name: target.name } : { agent_id: target.id, agent_name: target.name }),
  });
  const send = (name: string, fields: Record<string, unknown> = {}) => stream?.send(`${prefix}${name}`, { ...base(), ...fields });
  const appendLive = (text: string) => {
    streamed += text;
    if (runId) live.set(runId, { content: streamed });
  };

  const emit = (event: TeamEvent) => {
    switch (event.type) {
      case 'run_started':
        runId = event.runId;
        live.set(runId, { content: '' });
        send('RunStarted');
        break;
      case 'tool_called': {
        const tool = {
          tool_call_id: `${event.analyst}-${++toolCalls}`,
          tool_name: event.tool,
          tool_args: { detail: event.detail },
          agent_id: event.analyst,
        };
        send('ToolCallStarted', { tool });
        send('ToolCallCompleted', { tool: { ...tool, result: event.cached ? 'cached' : 'ok', tool_call_error: false } });
        break;
      }
      case 'content_delta':
        appendLive(event.text);
        send('RunContent', { content: event.text, content_type: 'str' });
        break;
      case 'done':
        // Most turns (reports, questions) arrive whole: stream them in pieces so clients render progressively.
        if (!streamed) {
          for (const piece of chunkText(outcomeContent(event.outcome, ''))) {
            appendLive(piece);
            send('RunContent', { content: piece, content_type: 'str' });
          }
        }
        break;
      default:
        break;
    }
  };

  let result: TurnResult;
  try {
    result = await runtime.conversation.handle(message, { emit });
  } catch (err) {
    if (runId) live.delete(runId);
    const code = err instanceof MovebotError ? err.code : 'internal';
    logger.warn({ err: describeError(err), sessionId }, 'API run failed');
    const text = userFacingError(err);
    if (stream) {
      send('RunError', { content: text, error_type: code });
      return stream.end();
    }
    return sendError(res, statusFor(code), code, text);
  }

  runId ??= result.runId;
  if (result.runId) live.delete(result.runId);
  const ms = clock.now() - started;
  const content = outcomeContent(result.outcome, result.reply.content);
  const metricsOut = {
    input_tokens: result.usage?.promptTokens ?? 0,
    output_tokens: result.usage?.completionTokens ?? 0,
    total_tokens: result.usage?.totalTokens ?? 0,
    cost_usd: result.costUsd ?? 0,
    duration: ms / 1000,
  };
  const completed = { content, content_type: 'str', kind: result.outcome?.kind ?? 'answer', metrics: metricsOut };
  if (stream) {
    send('RunCompleted', completed);
    return stream.end();
  }
  res.json({ ...base(), ...completed, status: 'COMPLETED' });
}

function statusFor(code: string): number {
  if (code === 'rate_limited' || code === 'db_error' || code === 'queue_unavailable') return 503;
  if (code.startsWith('llm_') || code === 'tool_error') return 502;
  return 500;
}

/** Server-Sent Events: `event: <Name>` + `data: <json>` where the JSON repeats `"event"` (Agno's format). */
function openEventStream(res: Response) {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let open = true;
  // A client that leaves does not cancel the run: the answer is still stored in its session.
  res.on('close', () => {
    open = false;
  });
  // Proxies close idle connections; a comment line every 15 s keeps a long analysis alive.
  const keepAlive = setInterval(() => open && res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  return {
    send(name: string, payload: Record<string, unknown>) {
      if (open) res.write(`event: ${name}\ndata: ${JSON.stringify({ event: name, ...payload })}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (open) res.end();
    },
  };
}
