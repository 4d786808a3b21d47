import { type Request, type Response, type Router, Router as createRouter } from 'express';
import { z } from 'zod';
import { findUser } from '../../db/repositories/run-stats.js';
import type { Runtime } from '../server/runtime.js';
import type { Message, Run, Session, User, UserKey } from '../../src/ports/session-store.js';
import { ANALYSTS } from '../../src/team/types.js';
import { isAgentId, TEAM_ID } from './catalog.js';
import { sendError } from './http-errors.js';
import type { RunEventLog } from '../../src/ports/run-events.js';
import { foldRunEvents, RUN_STATUS_NAMES } from '../../src/run/run-status.js';

const AGENT_IDS: string[] = Object.keys(ANALYSTS);
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

const PageSchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).optional().default(1),
  limit: z.coerce.number().int().min(1).max(100).optional().default(20),
});

/** Which person a query is about: `user_id` on a platform workspace (default: the API's own users). */
export const UserQuerySchema = z.object({
  user_id: z.string().trim().min(1).max(200).optional(),
  platform: z.enum(['api', 'slack', 'discord', 'cli']).optional(),
  workspace: z.string().trim().min(1).max(200).optional(),
});

/** The UserKey a query names, or an error sentence when the workspace is needed but missing. */
export function userKeyOf(q: z.infer<typeof UserQuerySchema>): UserKey | string | undefined {
  if (!q.user_id) return undefined;
  const platform = q.platform ?? 'api';
  const workspace = q.workspace ?? (platform === 'api' ? 'api' : platform === 'cli' ? 'local' : undefined);
  if (!workspace) return `workspace is required with platform=${platform} (the Slack team or Discord guild id)`;
  return { platform, workspace, platformUserId: q.user_id };
}

export function userView(u: User | undefined) {
  return u
    ? { user_id: u.platformUserId, platform: u.platform, workspace: u.workspace, display_name: u.displayName, id: u.id }
    : null;
}

function sessionView(s: Session, owner: User | undefined) {
  return {
    session_id: s.id,
    session_name: s.title ?? 'Untitled conversation',
    session_type: isAgentId(s.componentId) ? 'agent' : 'team',
    component_id: s.componentId,
    platform: s.platform,
    user: userView(owner),
    created_at: seconds(s.createdAt),
    updated_at: seconds(s.updatedAt),
  };
}

/** One run as the Agent UI reloads it: the question, the answer (or the text streamed so far). */
function runView(run: Run, session: Session, reply: Message | undefined, streamed: string | undefined) {
  const report = reply?.metadata.report;
  const content =
    run.status === 'running'
      ? (streamed ?? '')
      : (report ?? reply?.content ?? run.content ?? 'This run failed. Please try again.');
  return {
    run_id: run.id,
    session_id: session.id,
    ...(isAgentId(session.componentId) ? { agent_id: session.componentId } : { team_id: session.componentId }),
    run_input: run.input,
    content,
    content_type: 'str',
    status: RUN_STATUS_NAMES[run.status],
    // The run's tool calls, so a reopened session shows them as they were shown during the run.
    tools: run.tools.map((t) => ({
      tool_call_id: t.id,
      tool_name: t.name,
      tool_args: { detail: t.args },
      result: t.summary,
      tool_call_error: !t.ok,
      sources: t.sources,
    })),
    metrics: {
      input_tokens: run.usage.promptTokens,
      output_tokens: run.usage.completionTokens,
      total_tokens: run.usage.totalTokens,
      cost_usd: run.costUsd,
      duration: run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : undefined,
    },
    created_at: seconds(run.startedAt),
  };
}

/** GET /sessions, GET /sessions/{id}, GET /sessions/{id}/runs, DELETE /sessions/{id}: every platform's sessions. */
export function sessionRoutes(deps: { runtime: Runtime; events: RunEventLog }): Router {
  const { store, db } = deps.runtime;
  const router = createRouter();

  const ownerCache = () => {
    const cache = new Map<string, Promise<User | undefined>>();
    return (id: string | null) => {
      if (!id) return Promise.resolve(undefined);
      if (!cache.has(id)) cache.set(id, store.getUser(id));
      return cache.get(id)!;
    };
  };
  const load = async (req: Request, res: Response) => {
    const session = await store.getSession(String(req.params.id));
    if (!session) sendError(res, 404, 'not_found', 'No session with that id.');
    return session;
  };

  router.get('/sessions', async (req, res) => {
    const query = PageSchema.extend({
      ...UserQuerySchema.shape,
      type: z.enum(['team', 'agent']).optional(),
      component_id: z.string().trim().max(100).optional(),
    }).safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'bad_request', query.error.issues[0]?.message ?? 'Invalid query.');
    const q = query.data;
    const key = userKeyOf(q);
    if (typeof key === 'string') return sendError(res, 400, 'bad_request', key);
    const empty = { data: [], meta: { page: q.page, limit: q.limit, total_pages: 0, total_count: 0 } };
    // Filed under an analyst's id makes a session an agent's (as sessionView labels it); all others are the team's.
    const ofType = q.type === 'team' ? [TEAM_ID] : q.type === 'agent' ? AGENT_IDS : undefined;
    if (q.component_id && ofType && !ofType.includes(q.component_id)) return res.json(empty);
    let ownerUserId: string | undefined;
    if (key) {
      ownerUserId = (await findUser(db, key))?.id;
      if (!ownerUserId) return res.json(empty);
    }
    const { sessions, total } = await store.listSessions({
      ownerUserId,
      platform: key ? undefined : q.platform,
      componentIds: q.component_id ? [q.component_id] : ofType,
      limit: q.limit,
      offset: (q.page - 1) * q.limit,
    });
    const owner = ownerCache();
    const data = await Promise.all(sessions.map(async (s) => sessionView(s, await owner(s.ownerUserId))));
    res.json({ data, meta: { page: q.page, limit: q.limit, total_pages: Math.ceil(total / q.limit), total_count: total } });
  });

  router.get('/sessions/:id', async (req, res) => {
    const session = await load(req, res);
    if (!session) return;
    const [owner, messages, runs] = await Promise.all([
      session.ownerUserId ? store.getUser(session.ownerUserId) : undefined,
      store.listMessages(session.id),
      store.listRuns(session.id),
    ]);
    res.json({
      ...sessionView(session, owner),
      thread_key: session.threadKey,
      runs: runs.length,
      messages: messages.map((m) => ({
        id: m.id,
        seq: m.seq,
        role: m.role,
        author_name: m.authorName,
        content: m.content,
        kind: m.metadata.kind,
        report: m.metadata.report,
        created_at: m.createdAt.toISOString(),
      })),
    });
  });

  router.get('/sessions/:id/runs', async (req, res) => {
    const session = await load(req, res);
    if (!session) return;
    const [runs, messages] = await Promise.all([store.listRuns(session.id), store.listMessages(session.id)]);
    const replies = new Map(messages.filter((m) => m.replyTo).map((m) => [m.replyTo!, m]));
    // A run still going shows what it has written so far, read from its event log.
    const streamed = await Promise.all(
      runs.map((r) => (r.status === 'running' ? deps.events.read(r.id).then((e) => foldRunEvents(e).content, () => '') : undefined)),
    );
    res.json(runs.map((r, i) => runView(r, session, r.userMessageId ? replies.get(r.userMessageId) : undefined, streamed[i])));
  });

  router.delete('/sessions/:id', async (req, res) => {
    const deleted = await store.deleteSession(String(req.params.id));
    if (!deleted) return sendError(res, 404, 'not_found', 'No session with that id.');
    res.status(204).end();
  });
  return router;
}
