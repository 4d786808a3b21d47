import type { Clock } from '../src/clock.js';

/**
 * A token bucket per workspace for progress edits. Platforms limit edits per workspace, not per
 * message (Slack's chat.update is Tier 3, ~50 a minute per workspace), so a per-message interval
 * alone lets 200 busy threads send thousands of edits a minute, and the rate-limit retries would then
 * delay the edits that matter: the answers. Progress spends from this budget and is skipped when it is
 * empty; answers never wait for it.
 */
export interface EditBudget {
  /** Takes one edit from `key`'s budget (e.g. `slack:T123`); false when there is none left now. */
  tryTake(key: string): boolean;
}

export function createEditBudget(options: { perMinute: number; clock: Clock }): EditBudget {
  const perMs = options.perMinute / 60_000;
  // A quiet workspace gets live progress at once; only sustained load runs the bucket down.
  const capacity = Math.max(1, Math.round(options.perMinute / 4));
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    tryTake(key) {
      const now = options.clock.now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: now };
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
