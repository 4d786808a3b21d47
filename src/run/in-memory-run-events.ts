import { EventEmitter, on } from 'node:events';
import type { RunCancellation, RunEvent, RunEventLog, StoredRunEvent } from '../ports/run-events.js';
import { isTerminal } from '../ports/run-events.js';

/**
 * The run event log and stop requests inside one process: the CLI, which runs its turn in-process
 * without Redis. Ids count up per run, as Redis Stream ids do.
 */
export function createInMemoryRunEvents(): RunEventLog & { cancellation: RunCancellation } {
  const logs = new Map<string, StoredRunEvent[]>();
  const appended = new EventEmitter();
  appended.setMaxListeners(0);
  const requested = new Set<string>();
  const cancelled = new EventEmitter();
  cancelled.setMaxListeners(0);

  const after = (runId: string, afterId?: string) => {
    const log = logs.get(runId) ?? [];
    if (afterId === undefined) return [...log];
    return log.filter((e) => Number(e.id) > Number(afterId));
  };

  return {
    async append(runId: string, event: RunEvent) {
      const log = logs.get(runId) ?? [];
      logs.set(runId, log);
      const stored = { id: String(log.length + 1), at: Date.now(), event };
      log.push(stored);
      appended.emit(runId, stored);
      return stored.id;
    },
    async read(runId: string, afterId?: string) {
      return after(runId, afterId);
    },
    async *follow(runId: string, afterId: string | undefined, signal: AbortSignal) {
      // Subscribe before reading what is there, so nothing appended in between is missed.
      const stop = new AbortController();
      const live = on(appended, runId, { signal: AbortSignal.any([signal, stop.signal]) }) as AsyncIterableIterator<[StoredRunEvent]>;
      let last = afterId;
      try {
        for (const e of after(runId, afterId)) {
          last = e.id;
          yield e;
          if (isTerminal(e.event)) return;
        }
        for await (const [e] of live) {
          if (last !== undefined && Number(e.id) <= Number(last)) continue;
          yield e;
          if (isTerminal(e.event)) return;
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      } finally {
        stop.abort(); // drops the listener, also when the replay alone reached the end
      }
    },
    async close() {
      appended.removeAllListeners();
      cancelled.removeAllListeners();
    },
    cancellation: {
      async request(runId) {
        requested.add(runId);
        cancelled.emit(runId);
      },
      async isRequested(runId) {
        return requested.has(runId);
      },
      watch(runId, onCancel) {
        const once = () => onCancel();
        cancelled.once(runId, once);
        return () => cancelled.off(runId, once);
      },
      async close() {},
    },
  };
}
