/**
 * The Discord fake's per-route rate limit on message edits, off until `setEditRateLimit` is called.
 * Like Discord it answers with `X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket` so that
 * @discordjs/rest queues requests on `remaining: 0` until the reset, and with 429 `{ message,
 * retry_after, global: false }` plus `Retry-After` when a client sends more than `limit` requests in
 * a window. Buckets: a channel message edit (`editMessage`) per channel, an interaction webhook edit
 * (`editOriginal`) per interaction token; each window starts at its first request.
 */
import type { RestReply } from './discord-message-ops.js';

export interface EditRateLimit {
  /** Requests per window and bucket. */
  limit: number;
  windowMs: number;
}

/** A 429 the edit rate limit served. */
export interface RateLimitRecord {
  route: string;
  /** `channel:<id>` or `webhook:<token>`. */
  bucket: string;
  at: number;
  retryAfterSec: number;
}

/** Discord-style opaque bucket hashes, one per route. */
const HASHES: Record<string, string> = {
  editMessage: 'f4ke0ed17c4a5e1b7e55a9e5',
  editOriginal: 'f4ke0b00c0ed17e55a9e5c4f',
};

function checked(limit: EditRateLimit | undefined): EditRateLimit | undefined {
  if (limit && (!(limit.limit >= 1) || !(limit.windowMs > 0))) {
    throw new Error(`editRateLimit: need limit >= 1 and windowMs > 0, got ${JSON.stringify(limit)}`);
  }
  return limit;
}

export function createEditRateLimiter(initial?: EditRateLimit) {
  let config = checked(initial);
  const windows = new Map<string, { start: number; count: number }>();
  const rateLimited: RateLimitRecord[] = [];

  function bucketOf(route: string, params: Record<string, string>): string | undefined {
    if (route === 'editMessage') return `channel:${params.channel ?? ''}`;
    if (route === 'editOriginal') return `webhook:${params.token ?? ''}`;
    return undefined;
  }

  /**
   * Counts a request against its bucket. Returns the rate-limit headers for the route's answer and,
   * when the bucket is exhausted, the 429 to send instead; undefined for routes without a limit.
   */
  function take(
    route: string,
    params: Record<string, string>,
  ): { headers: Record<string, string>; limited?: RestReply } | undefined {
    const bucket = bucketOf(route, params);
    if (!config || bucket === undefined) return undefined;
    const now = Date.now();
    let window = windows.get(bucket);
    if (!window || now >= window.start + config.windowMs) {
      window = { start: now, count: 0 };
      windows.set(bucket, window);
    }
    const resetAt = window.start + config.windowMs;
    const resetAfterSec = Math.ceil(resetAt - now) / 1_000;
    const exhausted = window.count >= config.limit;
    if (!exhausted) window.count += 1;
    const headers = {
      'x-ratelimit-limit': String(config.limit),
      'x-ratelimit-remaining': String(Math.max(0, config.limit - window.count)),
      'x-ratelimit-reset': (resetAt / 1_000).toFixed(3),
      'x-ratelimit-reset-after': resetAfterSec.toFixed(3),
      'x-ratelimit-bucket': HASHES[route] ?? route,
    };
    if (!exhausted) return { headers };
    rateLimited.push({ route, bucket, at: now, retryAfterSec: resetAfterSec });
    return {
      headers,
      limited: {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: resetAfterSec, global: false },
        // Discord's Retry-After header is whole seconds, rounded up; the body has the precise value.
        headers: { ...headers, 'retry-after': String(Math.ceil(resetAfterSec)), 'x-ratelimit-scope': 'user' },
      },
    };
  }

  return {
    take,
    rateLimited,
    /** Turns the limit on (fresh windows) or, with undefined, off. */
    set(next: EditRateLimit | undefined) {
      config = checked(next);
      windows.clear();
    },
  };
}
