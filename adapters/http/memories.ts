import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { findUser } from '../../db/repositories/run-stats.js';
import { describeError } from '../../src/errors.js';
import type { Embedder } from '../../src/memory/embedder.js';
import type { Memory, MemoryStore } from '../../src/ports/memory-store.js';
import type { User } from '../../src/ports/session-store.js';
import type { Runtime } from '../server/runtime.js';
import { sendError } from './http-errors.js';
import { UserQuerySchema, userKeyOf } from './sessions.js';

const MemoryBodySchema = UserQuerySchema.extend({
  memory: z.string().trim().min(1, 'memory is required').max(2_000, 'memory is too long (max 2000 characters)'),
  topics: z.array(z.string().trim().min(1).max(40)).max(5).optional(),
});

/** Memory ids are bigint row ids; anything else cannot exist (and must not reach SQL as a bad cast). */
const validId = (id: unknown): id is string => typeof id === 'string' && /^\d{1,18}$/.test(id);

const memoryView = (m: Memory, user: User) => ({
  memory_id: m.id,
  memory: m.content,
  topics: [m.topic],
  user_id: user.platformUserId,
  platform: user.platform,
  workspace: user.workspace,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

/**
 * GET/POST/PATCH/DELETE /memories: always about one user, named by `user_id` (+ `platform` and
 * `workspace` for Slack/Discord people). There is deliberately no way to list memories across users.
 */
export function memoryRoutes(deps: { runtime: Runtime; memoryStore?: MemoryStore; embedder?: Embedder }): Router {
  const { runtime, memoryStore, embedder } = deps;
  const router = express.Router();
  router.use('/memories', express.json({ limit: '32kb' }), (_req, res, next) => {
    if (!memoryStore) return sendError(res, 503, 'memory_unavailable', 'User memories are not enabled on this server.');
    next();
  });
  const store = memoryStore as MemoryStore;

  /** A vector for similarity recall; without one the memory is still found by full-text search. */
  async function embed(text: string): Promise<number[] | null> {
    if (!embedder) return null;
    try {
      return (await embedder.embed([text]))[0] ?? null;
    } catch (err) {
      runtime.logger.warn({ err: describeError(err) }, 'embedding a memory failed; storing it without a vector');
      return null;
    }
  }

  /** Resolves the user from query (GET/DELETE) or body (POST/PATCH); answers 400 itself when unnamed. */
  async function user(res: Response, input: unknown, create = false): Promise<User | null | undefined> {
    const parsed = UserQuerySchema.safeParse(input ?? {});
    const key = parsed.success ? userKeyOf(parsed.data) : undefined;
    if (!parsed.success || typeof key === 'string' || !key) {
      sendError(res, 400, 'bad_request', typeof key === 'string' ? key : 'user_id is required: memories always belong to one user.');
      return undefined;
    }
    if (create) return runtime.store.upsertUser(key);
    return (await findUser(runtime.db, key)) ?? null;
  }

  router.get('/memories', async (req, res) => {
    const page = z.coerce.number().int().min(1).max(100_000).catch(1).parse(req.query.page ?? 1);
    const limit = z.coerce.number().int().min(1).max(100).catch(20).parse(req.query.limit ?? 20);
    const u = await user(res, req.query);
    if (u === undefined) return;
    if (u === null) return res.json({ data: [], meta: { page, limit, total_pages: 0, total_count: 0 } });
    const topic = typeof req.query.topics === 'string' && req.query.topics ? req.query.topics.split(',')[0] : undefined;
    const { memories, total } = await store.list(u.id, { limit, offset: (page - 1) * limit, topic });
    res.json({
      data: memories.map((m) => memoryView(m, u)),
      meta: { page, limit, total_pages: Math.ceil(total / limit), total_count: total },
    });
  });

  router.get('/memories/:id', async (req, res) => {
    if (!validId(req.params.id)) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    const u = await user(res, req.query);
    if (u === undefined) return;
    const memory = u ? await store.get(u.id, String(req.params.id)) : undefined;
    if (!memory || !u) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    res.json(memoryView(memory, u));
  });

  router.post('/memories', async (req, res) => {
    const body = MemoryBodySchema.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'bad_request', body.error.issues[0]?.message ?? 'Invalid memory.');
    const u = await user(res, body.data, true);
    if (!u) return;
    const memory = await store.add(u.id, {
      content: body.data.memory,
      topic: body.data.topics?.[0] ?? 'general',
      embedding: await embed(body.data.memory),
    });
    // Written here, not learned from a message, so no forget watermark applies: it is always stored.
    res.status(201).json(memoryView(memory!, u));
  });

  router.patch('/memories/:id', async (req, res) => {
    const body = MemoryBodySchema.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'bad_request', body.error.issues[0]?.message ?? 'Invalid memory.');
    if (!validId(req.params.id)) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    const u = await user(res, body.data);
    if (u === undefined) return;
    const id = String(req.params.id);
    // A changed text needs a new vector (or none): the old one would recall it for the wrong questions.
    const ok = u
      ? await store.update(u.id, id, { content: body.data.memory, topic: body.data.topics?.[0], embedding: await embed(body.data.memory) })
      : false;
    const memory = ok && u ? await store.get(u.id, id) : undefined;
    if (!memory || !u) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    res.json(memoryView(memory, u));
  });

  router.delete('/memories/:id', async (req, res) => {
    if (!validId(req.params.id)) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    const u = await user(res, req.query);
    if (u === undefined) return;
    const removed = u ? await store.remove(u.id, [String(req.params.id)]) : 0;
    if (!removed) return sendError(res, 404, 'not_found', 'No such memory for this user.');
    res.status(204).end();
  });

  // Agno's bulk form: DELETE /memories with {"memory_ids": [...], "user_id": "..."}.
  router.delete('/memories', async (req, res) => {
    const body = UserQuerySchema.extend({ memory_ids: z.array(z.string().regex(/^\d{1,18}$/, 'memory ids are numbers')).min(1).max(500) }).safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'bad_request', 'Send {"memory_ids": [...], "user_id": "..."}.');
    const u = await user(res, body.data);
    if (u === undefined) return;
    const removed = u ? await store.remove(u.id, body.data.memory_ids) : 0;
    res.status(200).json({ deleted: removed });
  });
  return router;
}
