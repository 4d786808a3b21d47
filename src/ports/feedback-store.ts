/** A thumbs up or down on one answer. */
export type Rating = 'up' | 'down';

/** Votes for or against a set of answers. */
export interface FeedbackCounts {
  up: number;
  down: number;
}

/** Feedback on answers: one vote per user per run, kept with the run (Postgres `run_feedback`). */
export interface FeedbackStore {
  /**
   * Records `userId`'s vote on `runId`; a second click replaces their first. Returns their previous
   * rating (null for a first vote), or undefined when the run does not exist.
   */
  record(vote: { runId: string; userId: string; rating: Rating }): Promise<{ previous: Rating | null } | undefined>;
  /** Current votes over all runs, for `/metrics` (`movebot_feedback_total{rating}`). */
  totals(): Promise<FeedbackCounts>;
  /** Votes cast (or last changed) per UTC day over the last `days` days, oldest first; days without votes are left out. */
  daily(days: number): Promise<Array<FeedbackCounts & { day: string }>>;
  /** Votes on each of these runs (runs without votes are left out). */
  forRuns(runIds: string[]): Promise<Record<string, FeedbackCounts>>;
}
