import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DATABASE } from '../src/constants.js';
import { describeError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { PlaceholderSchema } from '../src/ports/reply-state.js';
import { userFacingError } from '../src/user-errors.js';
import type { ChatDelivery } from './chat-delivery.js';

/** A job waiting for the database: since when (epoch ms), how many looks, and the message it shows. */
const DatabaseWaitSchema = z.object({
  since: z.number(),
  tries: z.number(),
  placeholder: PlaceholderSchema.optional(),
});
export type DatabaseWait = z.infer<typeof DatabaseWaitSchema>;

/** What a thread shows while its job waits for the database. */
export const DATABASE_WAIT_TEXT = "⏳ My storage is unavailable at the moment. I'll answer here as soon as it's back.";
/** How long a database wait's record outlives the wait itself (a job delayed past it starts a new wait). */
const DATABASE_WAIT_KEEP_MS = 3600_000;

/**
 * A job that found the database unreachable waits in the queue (backoff, no attempt spent) and says
 * so in its thread, through the platform alone. Redis keeps when its wait began and the message it
 * shows, so any worker's re-run adopts that message. Once the wait is over the thread is told it
 * failed, still without the database.
 */
export function createDatabaseWaits(deps: { redis: Redis; queueName: string; outageWaitMs: number; logger: Logger }) {
  const { redis, outageWaitMs, logger } = deps;
  const key = (jobId: string) => `movebot:${deps.queueName}:db-wait:${jobId}`;

  return {
    /** The job's wait so far, if it is waiting. */
    async of(jobId: string): Promise<DatabaseWait | undefined> {
      const raw = await redis.get(key(jobId));
      if (!raw) return undefined;
      try {
        const parsed = DatabaseWaitSchema.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },

    /** The wait is over (the database answered). */
    async clear(jobId: string): Promise<void> {
      await redis.del(key(jobId));
    },

    /**
     * Records one more look at an unreachable database and shows the wait in the thread; returns how
     * long the job should sleep before looking again, or undefined once the wait is over (the thread
     * has been told, and the job fails for good).
     */
    async wait(
      jobId: string,
      previous: DatabaseWait | undefined,
      delivery: ChatDelivery | undefined,
      err: unknown,
    ): Promise<number | undefined> {
      const now = Date.now();
      const since = previous?.since ?? now;
      const tries = (previous?.tries ?? 0) + 1;
      await delivery?.settle();
      if (now - since >= outageWaitMs) {
        logger.error({ jobId, err: describeError(err), waitedMs: now - since }, 'database still unreachable; telling the thread');
        await delivery
          ?.notice(`⚠️ ${userFacingError(err)}`)
          .catch((e) => logger.error({ jobId, err: describeError(e) }, 'could not post the database notice'));
        await redis.del(key(jobId));
        return undefined;
      }
      logger.warn({ jobId, err: describeError(err), tries, waitedMs: now - since }, 'database unreachable; the job waits for it');
      await delivery
        ?.notice(DATABASE_WAIT_TEXT)
        .catch((e) => logger.warn({ jobId, err: describeError(e) }, 'could not show the database wait'));
      const wait: DatabaseWait = { since, tries, placeholder: delivery?.posted() };
      await redis.set(key(jobId), JSON.stringify(wait), 'PX', outageWaitMs + DATABASE_WAIT_KEEP_MS);
      // The last look is when the wait ends, so the job gives up on time.
      const backoff = DATABASE.outageRetryMs * 2 ** Math.min(tries - 1, 16);
      return Math.max(0, Math.min(backoff, DATABASE.outageRetryMaxMs, since + outageWaitMs - now));
    },
  };
}
