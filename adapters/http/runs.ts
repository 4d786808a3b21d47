import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { Clock } from '../../src/clock.js';
import { describeError, errorCodeOf, MovebotError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { type EnqueueResult, type LimitHit, limitReplyText, type MessageQueue, retryAfterSeconds } from '../../src/ports/message-queue.js';
import type { RunCancellation, RunEvent, RunEventLog, StoredRunEvent } from '../../src/ports/run-events.js';
import type { Run, SessionStore } from '../../src/ports/session-store.js';
import { foldRunEvents, isFinished, RUN_STATUS_NAMES, type RunSnapshot } from '../../src/run/run-status.js';
import { runError } from '../../src/run/turn-runner.js';
import { isAgentId, TEAM_ID } from './catalog.js';
import { errorBody, sendError } from './http-errors.js';
import { agentOsEvent, openEventStream, type RunTarget } from './run-stream.js';

export interface RunRouteDeps {
  store: SessionStore;
  /** Where API turns go: a worker answers them, like Slack and Discord turns. */
  queue?: MessageQueue;
  events: RunEventLog;
  cancellation: RunCancellation;
  clock: Clock;
  logger: Logger;
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

const TEAM: RunTarget = { kind: 'team', id: TEAM_ID, name: 'Move Decision Team' };

/**
 * The AgentOS run endpoints, for the team and (same names under /agents/{agent_id}) each analyst:
 *   POST …/runs                     enqueue a turn; stream its events (SSE) or wait for the answer
 *   GET  …/runs/{run_id}            the run as JSON: status and content so far
 *   GET  …/runs/{run_id}/stream     SSE from the first event, or after `Last-Event-ID`, then live
 *   POST …/runs/{run_id}/cancel     stop it, wherever it runs
 * The web role keeps no run state: a worker runs the turn, and every replica reads its events from the
 * run's Redis Stream. An analyst cannot answer alone (it needs the coordinator's intake), so an agent
 * run runs the team turn, with AgentOS's agent event names (no `Team` prefix).
 */
export function runRoutes(deps: RunRouteDeps): Router {
  const router = express.Router();
  const form = multer({ limits: { fieldSize: 64 * 1024, fields: 20, files: 0 } }).none();
  router.post(
    ['/teams/:id/runs', '/agents/:id/runs'],
    form,
    express.urlencoded({ extended: false, limit: '100kb' }),
    express.json({ limit: '100kb' }),
    (req, res) => withTarget(req, res, (target) => startRun(deps, req, res, target)),
  );
  router.get(['/teams/:id/runs/:runId', '/agents/:id/runs/:runId'], (req, res) =>
    withTarget(req, res, (target) => showRun(deps, String(req.params.runId), res, target)),
  );
  router.get(['/teams/:id/runs/:runId/stream', '/agents/:id/runs/:runId/stream'], (req, res) =>
    withTarget(req, res, (target) => streamRun(deps, req, res, target)),
  );
  router.post(['/teams/:id/runs/:runId/cancel', '/agents/:id/runs/:runId/cancel'], (req, res) =>
    withTarget(req, res, () => cancelRun(deps, String(req.params.runId), res)),
  );
  return router;
}

async function withTarget(req: Request, res: Response, handle: (target: RunTarget) => Promise<void>) {
  const id = String(req.params.id);
  const team = req.path.startsWith('/teams/');
  if (team ? id !== TEAM_ID : !isAgentId(id)) {
    return sendError(res, 404, 'not_found', `No ${team ? 'team' : 'agent'} with id "${id}".`);
  }
  await handle(team ? TEAM : { kind: 'agent', id, name: id });
}

async function startRun(deps: RunRouteDeps, req: Request, res: Response, target: RunTarget) {
  const parsed = RunFormSchema.safeParse(req.body ?? {});
  if (!parsed.success) return sendError(res, 400, 'bad_request', parsed.error.issues[0]?.message ?? 'Invalid form.');
  if (!deps.queue) return sendError(res, 503, 'queue_unavailable', 'Runs need the queue (Redis), which this process does not have.');
  const form = parsed.data;
  const { store, events } = deps;

  // A new API session gets its id up front, so the thread key, the owner and the anonymous user agree.
  const requested = form.session_id ? await store.getSession(form.session_id) : undefined;
  const sessionId = requested?.id || form.session_id || randomUUID();
  // Without a user_id the caller is anonymous *per session*: memories never leak between strangers.
  const platformUserId = form.user_id || `anonymous:${sessionId}`;
  const threadKey = requested?.threadKey ?? `api:${sessionId}`;
  if (!requested) {
    const owner = await store.upsertUser({ platform: 'api', workspace: 'api', platformUserId }, form.user_id ?? null);
    await store.getOrCreateSession({ id: sessionId, threadKey, platform: 'api', ownerUserId: owner.id, title: form.message.slice(0, 80), componentId: target.id });
  }

  const runId = randomUUID();
  // Listed in the session at once (the Agent UI reloads the session's runs on TeamRunStarted, and an
  // empty list would wipe its chat); the worker takes the row over when it starts.
  await store.startRun({ id: runId, sessionId, input: form.message });
  await events.append(runId, { type: 'run_queued', runId, sessionId });
  let result: EnqueueResult;
  try {
    result = await deps.queue.enqueue({
      platform: 'api',
      workspace: 'api',
      channel: 'api',
      messageId: runId,
      userId: platformUserId,
      ...(form.user_id ? { userName: form.user_id } : {}),
      text: form.message,
      threadKey,
      runId,
      sessionId,
      receivedAt: new Date(deps.clock.now()).toISOString(),
    });
  } catch (err) {
    deps.logger.warn({ err: describeError(err), runId }, 'API run could not be queued');
    await events.append(runId, runError(err)).catch(() => {});
    await store.finishRun(runId, { status: 'failed', error: describeError(err) }).catch(() => {});
    return sendError(res, 503, errorCodeOf(err), 'The service cannot take new questions right now. Please try again shortly.');
  }
  if (result.limited) return refuseRun(deps, res, runId, result.limited);
  if (form.stream) return relay(deps, res, runId, sessionId, undefined, target);
  return answerWhenDone(deps, res, runId, sessionId, target);
}

/**
 * A run refused by an ingress limit: nothing was queued. Its row (listed in the session already) ends
 * failed with code `rate_limited`, like a run the queue could not take, and the client gets 429 with
 * `Retry-After` and the same sentence a chat thread would get.
 */
async function refuseRun(deps: RunRouteDeps, res: Response, runId: string, hit: LimitHit) {
  const text = limitReplyText(hit);
  const refused = new MovebotError('rate_limited', text);
  await deps.events.append(runId, runError(refused)).catch(() => {});
  await deps.store.finishRun(runId, { status: 'failed', error: describeError(refused) }).catch(() => {});
  if (res.headersSent) return;
  const retryAfter = retryAfterSeconds(hit);
  res
    .status(429)
    .set('Retry-After', String(retryAfter))
    .json({ ...errorBody('rate_limited', text), limit: hit.limit, retry_after_seconds: retryAfter });
}

/** Waits for the run's end (the client may leave; the run goes on) and answers it as JSON. */
async function answerWhenDone(deps: RunRouteDeps, res: Response, runId: string, sessionId: string, target: RunTarget) {
  const left = new AbortController();
  res.on('close', () => left.abort());
  let last: StoredRunEvent | undefined;
  for await (const stored of deps.events.follow(runId, undefined, left.signal)) last = stored;
  if (!last || left.signal.aborted) return;
  const { event } = last;
  if (event.type === 'run_error') return sendError(res, statusFor(event.code), event.code, event.message);
  const base = baseFields(target, runId, sessionId, last.at);
  if (event.type === 'run_completed') {
    const images = event.images?.length ? { images: event.images } : {};
    return void res.json({ ...base, content: event.content, content_type: 'str', kind: event.kind, metrics: event.metrics, ...images, status: 'COMPLETED' });
  }
  if (event.type === 'run_cancelled') res.json({ ...base, content: event.content, content_type: 'str', status: 'CANCELLED' });
}

/** Streams a run's events as AgentOS SSE, each with an `id:` a client can resume after. */
async function relay(deps: RunRouteDeps, res: Response, runId: string, sessionId: string, afterId: string | undefined, target: RunTarget) {
  const sse = openEventStream(res);
  const left = new AbortController();
  res.on('close', () => left.abort());
  try {
    for await (const stored of deps.events.follow(runId, afterId, left.signal)) {
      const out = agentOsEvent(stored.event, target);
      if (out) sse.send(out.name, { ...baseFields(target, runId, sessionId, stored.at), ...out.fields }, stored.id);
    }
  } catch (err) {
    deps.logger.warn({ err: describeError(err), runId }, 'run event relay failed');
    sse.send(`${target.kind === 'team' ? 'Team' : ''}RunError`, {
      ...baseFields(target, runId, sessionId, deps.clock.now()),
      content: 'The live view of this run was interrupted; reconnect to continue where it stopped.',
      error_type: 'stream_interrupted',
    });
  } finally {
    sse.end();
  }
}

async function streamRun(deps: RunRouteDeps, req: Request, res: Response, target: RunTarget) {
  const runId = String(req.params.runId);
  const found = await findRun(deps, runId);
  if (!found) return sendError(res, 404, 'not_found', `No run with id "${runId}".`);
  const header = req.get('last-event-id')?.trim();
  const afterId = header && /^\d+-\d+$|^\d+$/.test(header) ? header : undefined;
  if (found.source === 'database') {
    // Its events have expired: what is left is the stored outcome, sent as the run's end.
    const sse = openEventStream(res);
    const end = agentOsEvent(terminalEventOf(found.snap), target);
    if (end && !afterId) sse.send(end.name, { ...baseFields(target, runId, found.snap.sessionId ?? '', found.snap.createdAt ?? 0), ...end.fields });
    return sse.end();
  }
  await relay(deps, res, runId, found.snap.sessionId ?? '', afterId, target);
}

async function showRun(deps: RunRouteDeps, runId: string, res: Response, target: RunTarget) {
  const found = await findRun(deps, runId);
  if (!found) return sendError(res, 404, 'not_found', `No run with id "${runId}".`);
  const { snap } = found;
  res.json({
    ...baseFields(target, runId, snap.sessionId ?? '', snap.createdAt ?? deps.clock.now()),
    status: snap.status === 'PENDING' ? 'RUNNING' : snap.status,
    content: snap.content,
    content_type: 'str',
    ...(snap.error ? { error: snap.error } : {}),
  });
}

async function cancelRun(deps: RunRouteDeps, runId: string, res: Response) {
  const found = await findRun(deps, runId);
  if (!found) return sendError(res, 404, 'not_found', `No run with id "${runId}".`);
  if (isFinished(found.snap.status)) {
    return sendError(res, 409, 'run_finished', `The run has already ended (${found.snap.status}); there is nothing to cancel.`);
  }
  await deps.cancellation.request(runId);
  res.json({ run_id: runId, session_id: found.snap.sessionId, status: found.snap.status === 'PENDING' ? 'RUNNING' : found.snap.status, cancel_requested: true });
}

/** The run from its event log, or from the database once its events have expired. */
async function findRun(deps: RunRouteDeps, runId: string): Promise<{ snap: RunSnapshot; source: 'events' | 'database' } | undefined> {
  const events = await deps.events.read(runId);
  if (events.length) return { snap: foldRunEvents(events), source: 'events' };
  const run = await deps.store.getRun(runId).catch(() => undefined);
  return run ? { snap: snapshotOf(run), source: 'database' } : undefined;
}

function snapshotOf(run: Run): RunSnapshot {
  return { status: RUN_STATUS_NAMES[run.status], sessionId: run.sessionId, content: run.content ?? '', createdAt: run.startedAt.getTime() };
}

/** The end of a run whose events expired, as the event it ended with. */
function terminalEventOf(snap: RunSnapshot): RunEvent {
  if (snap.status === 'CANCELLED') return { type: 'run_cancelled', content: snap.content };
  if (snap.status === 'COMPLETED') {
    const metrics = { input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0, duration: 0 };
    return { type: 'run_completed', content: snap.content, kind: 'answer', metrics };
  }
  return { type: 'run_error', code: 'internal', message: 'This run did not finish.' };
}

function baseFields(target: RunTarget, runId: string, sessionId: string, atMs: number) {
  return {
    created_at: Math.floor(atMs / 1000),
    session_id: sessionId,
    run_id: runId,
    ...(target.kind === 'team' ? { team_id: target.id, team_name: target.name } : { agent_id: target.id, agent_name: target.name }),
  };
}

function statusFor(code: string): number {
  if (code === 'rate_limited' || code === 'db_error' || code === 'queue_unavailable') return 503;
  if (code.startsWith('llm_') || code === 'tool_error') return 502;
  return 500;
}
