import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { sendError } from './http-errors.js';

/** Where the web role may listen, and what to tell the operator about it. */
export interface ListenPolicy {
  host: string;
  /** Set when the API is keyless: the start-up log must say the API is loopback-only. */
  warning?: string;
}

/**
 * Never open to the network by default: without AGENTOS_API_KEY the server binds to 127.0.0.1. An
 * operator who sets HOST explicitly (e.g. for Slack's HTTP events) gets that host, but the API paths
 * still refuse every non-loopback caller in the guard middleware.
 */
export function apiListenPolicy(config: Pick<Config, 'agentosApiKey' | 'host'>): ListenPolicy {
  if (config.agentosApiKey) return { host: config.host ?? '0.0.0.0' };
  const host = config.host ?? '127.0.0.1';
  return {
    host,
    warning:
      'AGENTOS_API_KEY is not set: the HTTP API and console answer only requests from this machine (loopback). ' +
      (isLoopback(host) ? '' : `HOST=${host} exposes /health and platform endpoints only. `) +
      'Set AGENTOS_API_KEY to serve API clients over the network.',
  };
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || a === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export interface GuardOptions {
  /** AGENTOS_API_KEY; undefined means loopback-only without a key. */
  apiKey: string | undefined;
  clock: Clock;
  /** Token bucket per key (or per address when keyless): burst size and sustained rate. */
  rateLimit?: { burst: number; perSecond: number };
}

/**
 * Authentication, the keyless loopback rule and rate limiting, in that order, for the API paths.
 * The key is compared as SHA-256 digests with timingSafeEqual, so neither its length nor its
 * prefix leaks through response times. Wrong keys spend from their address's bucket, so guessing
 * is rate limited too.
 */
export function createApiGuard(options: GuardOptions) {
  const expected = options.apiKey ? digest(options.apiKey) : undefined;
  const limiter = createRateLimiter(options.clock, options.rateLimit ?? { burst: 120, perSecond: 2 });
  const limited = (res: Response, bucket: string): boolean => {
    const wait = limiter.take(bucket);
    if (wait <= 0) return false;
    res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
    sendError(res, 429, 'rate_limited', 'Too many requests; slow down and retry after a moment.');
    return true;
  };

  return (req: Request, res: Response, next: NextFunction) => {
    let bucket: string;
    if (expected) {
      const token = bearer(req.headers.authorization);
      if (!token || !timingSafeEqual(digest(token), expected)) {
        if (limited(res, `fail:${req.socket.remoteAddress}`)) return;
        res.setHeader('WWW-Authenticate', 'Bearer');
        return sendError(res, 401, 'unauthorized', 'Send Authorization: Bearer <AGENTOS_API_KEY>.');
      }
      bucket = `key:${expected.toString('hex').slice(0, 16)}`;
    } else {
      // A reverse proxy on this machine connects from loopback for every caller on the network.
      if (proxiedRequest(req)) return sendError(res, 403, 'forbidden', PROXIED_KEYLESS);
      if (!isLoopback(req.socket.remoteAddress)) {
        return sendError(
          res,
          403,
          'forbidden',
          'The API has no key configured and answers only on this machine. Set AGENTOS_API_KEY to use it remotely.',
        );
      }
      // A loopback socket is not enough: a web page open in this machine's browser reaches loopback
      // too (directly, or through a rebound DNS name), so keyless calls must also name loopback.
      if (!isLoopbackName(hostOf(req.headers.host)) || (req.headers.origin && !isLoopbackName(hostOf(req.headers.origin)))) {
        return sendError(
          res,
          403,
          'forbidden',
          'Without AGENTOS_API_KEY the API answers only pages and clients on this machine (localhost, 127.0.0.1).',
        );
      }
      bucket = `addr:${req.socket.remoteAddress}`;
    }
    if (limited(res, bucket)) return;
    next();
  };
}

/**
 * Headers a proxy adds to say whom it forwards for. Keyless, the API trusts the loopback socket; a
 * request through a proxy on this machine comes from loopback whoever sent it, so it is refused.
 */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

export const PROXIED_KEYLESS =
  'This request came through a proxy, and the API has no key configured: behind a reverse proxy every caller looks local. ' +
  'Set AGENTOS_API_KEY (at least 32 characters) to serve the API through a proxy.';

/** True when the request carries any header a forwarding proxy adds. */
export function proxiedRequest(req: Pick<Request, 'headers'>): boolean {
  return PROXY_HEADERS.some((name) => req.headers[name] !== undefined);
}

/** The host name of a Host header or an Origin ("http://localhost:3000" → "localhost"). */
function hostOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

function isLoopbackName(host: string | undefined): boolean {
  return host === 'localhost' || host?.endsWith('.localhost') === true || isLoopback(host);
}

/** Browsers send a preflight for every call carrying Authorization or a JSON Content-Type. */
export function cors(req: Request, res: Response, next: NextFunction): void {
  const origin = req.headers.origin;
  // Credentials travel in a header, never a cookie, so any origin may call: the key is the gate.
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  res.setHeader('Vary', 'Origin');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-User-ID');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
    return;
  }
  next();
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1]?.trim() || undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A token bucket per name; `take` returns 0 when allowed, else the ms until a token is available. */
function createRateLimiter(clock: Clock, limits: { burst: number; perSecond: number }) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(name: string): number {
      const now = clock.now();
      const b = buckets.get(name) ?? { tokens: limits.burst, at: now };
      b.tokens = Math.min(limits.burst, b.tokens + ((now - b.at) / 1000) * limits.perSecond);
      b.at = now;
      if (buckets.size > 10_000) buckets.clear(); // keyless mode keys by address: bound the memory
      buckets.set(name, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return ((1 - b.tokens) / limits.perSecond) * 1000;
    },
  };
}
