/**
 * What the API fakes (openai, firecrawl, brave) keep about the requests they serve, built on fake-http.ts:
 *
 *   const recorder = createFakeRecorder<MyRequest>('my-fake');
 *   const reply = recorder.track(record, res);       // logs it, counts it in flight, records the reply
 *   const failure = recorder.failures.take();
 *   if (failure) return recorder.serveFailure(record, res, failure, (status) => ({ error: 'x' }));
 *   reply(200, { ok: true });
 *
 * - `createRequestLog<T>()`: an append-only list of recorded requests with `waitFor(n)`, which resolves
 *   when n entries exist (event-driven, bounded by a timeout) so tests never sleep to synchronise.
 * - `createFailureQueue()`: `failNext(status | 'reset', body?, count?)` bookkeeping; 'reset' destroys the
 *   socket without a response, which clients see as a network error.
 * - `createInFlight()`: counts concurrent requests and remembers the peak (`maxInFlight`).
 */
import type { ServerResponse } from 'node:http';
import { preciseNow, sendJson } from './fake-http.js';

export interface RequestLog<T> {
  /** Every recorded entry, oldest first. The array is live: it grows as requests arrive. */
  readonly entries: T[];
  /** Appends an entry and wakes the `waitFor` callers it satisfies. */
  add(entry: T): void;
  /** Resolves with the entries once at least `count` exist; rejects after `timeoutMs` (default 5 s). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Forgets every entry (the `entries` array stays the same object). */
  clear(): void;
}

export function createRequestLog<T>(name: string): RequestLog<T> {
  const entries: T[] = [];
  const waiters = new Set<() => void>();
  return {
    entries,
    add(entry) {
      entries.push(entry);
      for (const wake of [...waiters]) wake();
    },
    waitFor(count, timeoutMs = 5_000) {
      if (entries.length >= count) return Promise.resolve(entries);
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (entries.length < count) return;
          cleanup();
          resolve(entries);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: waited ${timeoutMs} ms for ${count} requests, saw ${entries.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    clear() {
      entries.length = 0;
    },
  };
}

/** One injected failure: an HTTP status with a body, or a dropped connection. */
export interface InjectedFailure {
  /** The HTTP status to answer, or 'reset' to destroy the connection without a response. */
  status: number | 'reset';
  /** The JSON error body; the fake's default for the status when absent. */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Only requests of this kind consume the failure (e.g. 'chat' vs 'embeddings'); any when absent. */
  only?: string;
}

/** What `failNext` accepts besides the status. */
export interface FailNextOptions {
  /** The JSON error body; each fake has a realistic default per status. */
  body?: unknown;
  /** How many consecutive requests fail (default 1). */
  count?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

export interface FailureQueue {
  /** Queues `count` failures, served to the next requests before any normal reply. */
  push(failure: InjectedFailure, count: number): void;
  /** The next queued failure that applies to `kind`, consumed; undefined when none is queued. */
  take(kind?: string): InjectedFailure | undefined;
  /** Drops every queued failure. */
  clear(): void;
  /** How many failures are still queued. */
  readonly pending: number;
}

export function createFailureQueue(): FailureQueue {
  const queue: InjectedFailure[] = [];
  return {
    push(failure, count) {
      for (let i = 0; i < count; i++) queue.push(failure);
    },
    take(kind) {
      const index = queue.findIndex((f) => f.only === undefined || f.only === kind);
      return index < 0 ? undefined : queue.splice(index, 1)[0];
    },
    clear() {
      queue.length = 0;
    },
    get pending() {
      return queue.length;
    },
  };
}

/** Serves an injected failure: JSON body (or `defaultBody(status)`), or a destroyed socket for 'reset'. */
export function serveFailure(
  res: ServerResponse,
  failure: InjectedFailure,
  defaultBody: (status: number) => unknown,
): void {
  if (failure.status === 'reset') {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  sendJson(res, failure.status, failure.body ?? defaultBody(failure.status), failure.headers);
}

export interface InFlight {
  /** Counts a request that has started. */
  enter(): void;
  /** Counts a request that has finished (or whose client left). */
  leave(): void;
  /** Requests being handled right now. */
  readonly current: number;
  /** The largest number of requests the fake was handling at once since start (or `resetPeak`). */
  readonly peak: number;
  /** Starts measuring the peak again from the current count. */
  resetPeak(): void;
}

export function createInFlight(): InFlight {
  let current = 0;
  let peak = 0;
  return {
    enter() {
      current++;
      peak = Math.max(peak, current);
    },
    leave() {
      current--;
    },
    get current() {
      return current;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = current;
    },
  };
}

/** What every API fake records about the reply to a request. */
export interface RecordedReply {
  /** Epoch ms (sub-ms precision) when the request arrived. */
  receivedAt: number;
  /** Epoch ms when the reply was written; undefined while in flight or when the client left. */
  repliedAt?: number;
  /** The HTTP status sent (undefined until replied, and for a 'reset'). */
  status?: number;
}

/** Writes a JSON reply and records its status and time on the request's record. */
export type RecordedReplyFn = (status: number, body: unknown, headers?: Record<string, string>) => void;

/** The request log, failure queue and in-flight count of one API fake. */
export interface FakeRecorder<T extends RecordedReply> {
  /** Every request the fake has recorded. */
  log: RequestLog<T>;
  /** Failures queued by `failNext`. */
  failures: FailureQueue;
  /** Concurrent requests and their peak. */
  inFlight: InFlight;
  /** Logs `record`, counts it in flight until `res` closes, and returns the reply function for it. */
  track(record: T, res: ServerResponse): RecordedReplyFn;
  /** Serves an injected failure and records it on `record`. */
  serveFailure(
    record: T,
    res: ServerResponse,
    failure: InjectedFailure,
    defaultBody: (status: number) => unknown,
  ): void;
  /** Queues `options.count` (default 1) failures with `status`. */
  failNext(status: number | 'reset', options?: FailNextOptions & { only?: string }): void;
  /** Forgets recorded requests and queued failures, and restarts the in-flight peak. */
  reset(): void;
}

export function createFakeRecorder<T extends RecordedReply>(name: string): FakeRecorder<T> {
  const log = createRequestLog<T>(name);
  const failures = createFailureQueue();
  const inFlight = createInFlight();
  return {
    log,
    failures,
    inFlight,
    track(record, res) {
      log.add(record);
      inFlight.enter();
      res.once('close', () => inFlight.leave());
      return (status, body, headers) => {
        record.status = status;
        sendJson(res, status, body, headers);
        record.repliedAt = preciseNow();
      };
    },
    serveFailure(record, res, failure, defaultBody) {
      record.status = failure.status === 'reset' ? undefined : failure.status;
      serveFailure(res, failure, defaultBody);
      record.repliedAt = preciseNow();
    },
    failNext(status, options = {}) {
      const { count = 1, ...rest } = options;
      failures.push({ status, ...rest }, count);
    },
    reset() {
      log.clear();
      failures.clear();
      inFlight.resetPeak();
    },
  };
}
