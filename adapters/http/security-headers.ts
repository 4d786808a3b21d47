import type { Response } from 'express';

/**
 * Headers of every API and console response. The API's answers hold personal data (sessions, memories,
 * runs, the console's lists), so no cache, shared or private, may keep them (`no-store`), no page may
 * frame them, and no browser may sniff a JSON body into something it would run. The console page sets
 * its own Content-Security-Policy (with `frame-ancestors 'none'`); API bodies get one allowing nothing.
 */
export function setSecurityHeaders(res: Response, kind: 'api' | 'console-page'): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (kind === 'api') {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  }
}
