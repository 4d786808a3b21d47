import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import express, { type Router } from 'express';
import { z } from 'zod';
import { latencyPerDay, listUsers, runsPerHour, usagePerDay } from '../../db/repositories/run-stats.js';
import type { FeedbackCounts } from '../../src/ports/feedback-store.js';
import type { MessageQueue } from '../../src/ports/message-queue.js';
import type { Runtime } from '../server/runtime.js';
import { sendError } from './http-errors.js';

/**
 * The console's files live beside this module in the source tree; the compiled module sits in
 * dist/adapters/http, so look in the source tree from there too (the image must copy the folder).
 */
export function consoleDir(): string {
  const candidates = [join(import.meta.dirname, 'console'), join(import.meta.dirname, '..', '..', '..', 'adapters', 'http', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

/** Votes with the share of thumbs up among them (null when there are none). */
const withShare = ({ up, down }: FeedbackCounts) => ({ up, down, share_up: up + down > 0 ? up / (up + down) : null });

/** The UTC days (YYYY-MM-DD) of the last `days` days up to `now`, oldest first. */
function lastDays(now: number, days: number): string[] {
  return Array.from({ length: days }, (_, i) => new Date(now - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/** GET /console (static page; its data calls carry the API key) and the console's JSON under /console/api. */
export function consoleRoutes(deps: { runtime: Runtime; queue?: MessageQueue; bullQueue?: Queue }): Router {
  const router = express.Router();
  const { runtime, queue, bullQueue } = deps;
  const dir = consoleDir();

  router.get('/console', (_req, res) => {
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    res.sendFile(join(dir, 'index.html'));
  });
  router.use('/console/assets', express.static(dir, { index: false, fallthrough: false, maxAge: 0 }));

  router.get('/console/api/users', async (req, res) => {
    const q = z
      .object({
        platform: z.enum(['api', 'slack', 'discord', 'cli']).optional(),
        limit: z.coerce.number().int().min(1).max(500).optional(),
        offset: z.coerce.number().int().min(0).optional(),
      })
      .safeParse(req.query);
    if (!q.success) return sendError(res, 400, 'bad_request', q.error.issues[0]?.message ?? 'Invalid query.');
    const { users, total } = await listUsers(runtime.db, q.data);
    res.json({
      data: users.map((u) => ({
        id: u.id,
        user_id: u.platformUserId,
        platform: u.platform,
        workspace: u.workspace,
        display_name: u.displayName,
        sessions: u.sessions,
        memories: u.memories,
      })),
      total,
    });
  });

  router.get('/console/api/stats', async (req, res) => {
    const days = z.coerce.number().int().min(1).max(90).catch(7).parse(req.query.days ?? 7);
    const now = runtime.clock.now();
    const dayStart = new Date(now - (days - 1) * 86_400_000);
    dayStart.setUTCHours(0, 0, 0, 0);
    const hoursSince = new Date(now - 47 * 3_600_000);
    hoursSince.setUTCMinutes(0, 0, 0);
    const [hourly, latency, usage] = await Promise.all([
      runsPerHour(runtime.db, hoursSince),
      latencyPerDay(runtime.db, dayStart),
      usagePerDay(runtime.db, dayStart),
    ]);
    res.json({ now: new Date(now).toISOString(), days, runs_per_hour: hourly, latency_per_day: latency, usage_per_day: usage });
  });

  // Thumbs up / down on answers: totals, the share of thumbs up per UTC day (every day of the window,
  // oldest first) and the runs voted on last, with their session's title.
  router.get('/console/api/feedback', async (req, res) => {
    const days = z.coerce.number().int().min(1).max(90).catch(7).parse(req.query.days ?? 7);
    const limit = z.coerce.number().int().min(1).max(100).catch(20).parse(req.query.limit ?? 20);
    const now = runtime.clock.now();
    const [totals, daily, recent] = await Promise.all([
      runtime.feedback.totals(),
      runtime.feedback.daily(days),
      runtime.db.query<Record<string, string | Date | null>>(
        `SELECT f.run_id, r.session_id, s.title, s.platform, r.input, r.started_at,
                count(*) FILTER (WHERE f.rating = 'up') AS up, count(*) FILTER (WHERE f.rating = 'down') AS down,
                max(f.updated_at) AS last_vote_at
           FROM run_feedback f JOIN runs r ON r.id = f.run_id JOIN sessions s ON s.id = r.session_id
          GROUP BY f.run_id, r.session_id, s.title, s.platform, r.input, r.started_at
          ORDER BY last_vote_at DESC, f.run_id
          LIMIT $1`,
        [limit],
      ),
    ]);
    const byDay = new Map(daily.map((d) => [d.day, d]));
    res.json({
      now: new Date(now).toISOString(),
      days,
      totals: withShare(totals),
      per_day: lastDays(now, days).map((day) => ({ day, ...withShare(byDay.get(day) ?? { up: 0, down: 0 }) })),
      recent: recent.rows.map((r) => ({
        run_id: String(r.run_id),
        session_id: String(r.session_id),
        session_title: r.title === null ? null : String(r.title),
        platform: String(r.platform),
        input: String(r.input ?? '').slice(0, 200),
        started_at: new Date(r.started_at as Date).toISOString(),
        last_vote_at: new Date(r.last_vote_at as Date).toISOString(),
        ...withShare({ up: Number(r.up), down: Number(r.down) }),
      })),
    });
  });

  // One session's runs with their votes, and which stored answer each run wrote (to mark it in the conversation).
  router.get('/console/api/sessions/:id/runs', async (req, res) => {
    const session = await runtime.store.getSession(String(req.params.id));
    if (!session) return sendError(res, 404, 'not_found', 'No session with that id.');
    const [runs, messages] = await Promise.all([runtime.store.listRuns(session.id), runtime.store.listMessages(session.id)]);
    const votes = await runtime.feedback.forRuns(runs.map((r) => r.id));
    const replies = messages.filter((m) => m.role === 'assistant');
    const replyOf = (runId: string, userMessageId: string | null) =>
      replies.find((m) => m.metadata.runId === runId) ?? (userMessageId ? replies.find((m) => m.replyTo === userMessageId) : undefined);
    res.json({
      session_id: session.id,
      data: runs.map((r) => ({
        run_id: r.id,
        status: r.status,
        input: r.input.slice(0, 200),
        started_at: r.startedAt.toISOString(),
        finished_at: r.finishedAt?.toISOString() ?? null,
        reply_message_id: replyOf(r.id, r.userMessageId)?.id ?? null,
        ...withShare(votes[r.id] ?? { up: 0, down: 0 }),
      })),
    });
  });

  router.get('/console/api/queue', async (_req, res) => {
    if (!queue && !bullQueue) return res.json({ available: false, reason: 'No queue is configured on this server.' });
    try {
      const counts = queue ? await queue.counts() : await bullQueue!.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      const failed = bullQueue ? await bullQueue.getFailed(0, 49) : [];
      res.json({
        available: true,
        counts,
        can_retry: Boolean(bullQueue),
        failed: failed.filter(Boolean).map((job) => {
          const data = (job.data ?? {}) as Record<string, unknown>;
          return {
            id: job.id,
            platform: data.platform,
            thread_key: data.threadKey,
            user: data.userName ?? data.userId,
            text: typeof data.text === 'string' ? data.text.slice(0, 200) : '',
            failed_reason: job.failedReason,
            attempts: job.attemptsMade,
            failed_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
          };
        }),
      });
    } catch {
      res.json({ available: false, reason: 'Redis is not reachable.' });
    }
  });

  router.post('/console/api/queue/jobs/:id/retry', async (req, res) => {
    if (!bullQueue) return sendError(res, 503, 'queue_unavailable', 'Retrying needs the queue on this server.');
    const job = await bullQueue.getJob(String(req.params.id));
    if (!job) return sendError(res, 404, 'not_found', 'No such job.');
    if ((await job.getState()) !== 'failed') return sendError(res, 409, 'conflict', 'Only failed jobs can be retried.');
    await job.retry('failed');
    res.json({ id: job.id, state: await job.getState() });
  });
  return router;
}
