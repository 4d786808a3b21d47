import type { Redis, RedisOptions } from 'ioredis';
import type { Clock } from '../src/clock.js';

/**
 * A token bucket per workspace for progress edits. Platforms limit edits per workspace, not per
 * message (Slack's chat.update is Tier 3, ~50 a minute per workspace), so a per-message interval
 * alone lets 200 busy threads send thousands of edits a minute, and the rate-limit retries would then
 * delay the edits that matter: the answers. Progress spends from this budget and is skipped when it is
 * empty; answers never wait for it.
 *
 * The bucket lives in Redis because the limit is the platform's, not the process's: a bucket per
 * worker process would give a workspace N times the budget with N workers. A bucket rather than a
 * per-minute counter because a fixed window lets one minute's allowance end a window and the next
 * start the following one, twice the budget within seconds (60 on Slack, over its ~50); the bucket
 * never spends more than a quarter-minute burst plus the rate in any minute (38 on Slack).
 */
export interface EditBudget {
  /**
   * Takes one edit from `key`'s budget (e.g. `slack:T123`); false when there is none left now, and
   * also when Redis does not answer in time: a skipped progress edit costs little, a waiting one
   * holds up the answer.
   */
  tryTake(key: string): Promise<boolean>;
}

/**
 * For the budget's own Redis client. The answer waits for a progress edit in flight, so a budget
 * command must neither wait for a lost connection (no retries across reconnects) nor long for a
 * reply; the offline queue stays so the first edits after start-up wait for the connection instead
 * of failing.
 */
export const EDIT_BUDGET_REDIS_OPTIONS = {
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
} satisfies RedisOptions;

// KEYS[1]: the bucket, a hash of what is left and when that was counted. ARGV: now (ms), the
// allowance a minute, the capacity in tokens, TTL (ms). Counted in 1/60000ths of a token, so a
// millisecond refills `perMinute` whole units: in fractions of a token, float rounding left 2999 ms
// plus 1 ms of refill a hair short of the token 3000 ms had earned. One script, so two workers
// taking at once cannot both spend the last token.
const TAKE = `
local now = tonumber(ARGV[1])
local full = tonumber(ARGV[3]) * 60000
local state = redis.call('HMGET', KEYS[1], 'units', 'at')
local units = tonumber(state[1]) or full
local at = tonumber(state[2]) or now
-- Workers' clocks differ a little; a lagging one must not move the bucket back in time, or the next
-- take would refill the same span twice.
if now > at then
  units = math.min(full, units + (now - at) * tonumber(ARGV[2]))
  at = now
end
local granted = 0
if units >= 60000 then
  units = units - 60000
  granted = 1
end
redis.call('HSET', KEYS[1], 'units', units, 'at', at)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return granted
`;

export function createEditBudget(options: {
  /** A client made with EDIT_BUDGET_REDIS_OPTIONS. */
  redis: Redis;
  perMinute: number;
  clock: Clock;
  /** Prepended to every budget key, e.g. `movebot:<queue>:edit-budget:`. */
  keyPrefix: string;
  /** Told about Redis failures; the take is skipped either way. */
  onError?: (err: unknown) => void;
}): EditBudget {
  const { redis, clock, keyPrefix, perMinute } = options;
  // A quiet workspace gets live progress at once; only sustained load runs the bucket down.
  const capacity = Math.max(1, Math.round(perMinute / 4));
  // Once the bucket would be full again, a missing key says the same: let Redis drop it.
  const ttlMs = Math.ceil((capacity * 60_000) / perMinute);
  return {
    async tryTake(key) {
      try {
        const now = Math.floor(clock.now());
        const granted = await redis.eval(TAKE, 1, keyPrefix + key, now, perMinute, capacity, ttlMs);
        return granted === 1;
      } catch (err) {
        options.onError?.(err);
        return false;
      }
    },
  };
}
