import type { Queue } from 'bullmq';
import type { TurnJob } from '../src/ports/turn-job.js';

/** Jobs looked at per page; finished jobs are kept for a day and failed ones for a week (QUEUE). */
const PAGE = 500;

/**
 * Part of "forget everything": BullMQ keeps finished and failed jobs (their message text included) in
 * Redis for a while; this removes those of one user. Returns how many were removed.
 */
export async function removeJobsOf(
  queue: Queue<TurnJob>,
  user: Pick<TurnJob, 'platform' | 'workspace' | 'userId'>,
  keep?: string,
): Promise<number> {
  let removed = 0;
  for (const state of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += PAGE) {
      const jobs = await queue.getJobs([state], start, start + PAGE - 1);
      if (jobs.length === 0) break;
      const theirs = jobs.filter(
        (j) =>
          j?.id !== keep &&
          j?.data?.platform === user.platform &&
          j.data.workspace === user.workspace &&
          j.data.userId === user.userId,
      );
      await Promise.all(theirs.map((j) => j.remove()));
      removed += theirs.length;
      // Removing shifts later jobs into this page's range.
      start -= theirs.length;
    }
  }
  return removed;
}
