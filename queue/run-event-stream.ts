import { Redis } from 'ioredis';
import { RUN_EVENTS } from '../src/constants.js';
import { describeError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import {
  isTerminal,
  type RunCancellation,
  RunEventSchema,
  type RunEventLog,
  type StoredRunEvent,
} from '../src/ports/run-events.js';

const eventsKey = (runId: string) => `movebot:run:${runId}:events`;
const cancelKey = (runId: string) => `movebot:run:${runId}:cancel`;
const CANCEL_CHANNEL = 'movebot:run-cancel';

type StreamEntry = [id: string, fields: string[]];

/**
 * The run event log on Redis Streams: one stream per run, bounded in length and expiring an hour
 * after its last event, so any web replica can replay a run from its first event or from the
 * `Last-Event-ID` a client reconnects with, and follow it live.
 */
export function createRedisRunEventLog(options: { redisUrl: string; logger: Logger }): RunEventLog {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'run event log redis error'));
  // Each live reader blocks on XREAD on its own connection; closing the log ends them all.
  const readers = new Set<Redis>();

  async function read(runId: string, afterId?: string): Promise<StoredRunEvent[]> {
    const entries = (await redis.xrange(eventsKey(runId), afterId ? `(${afterId}` : '-', '+')) as StreamEntry[];
    return entries.map(toStored);
  }

  return {
    async append(runId, event) {
      const key = eventsKey(runId);
      const result = await redis
        .pipeline()
        .xadd(key, 'MAXLEN', '~', String(RUN_EVENTS.maxLength), '*', 'e', JSON.stringify(event))
        .expire(key, RUN_EVENTS.ttlSeconds)
        .exec();
      const [err, id] = result?.[0] ?? [new Error('no reply')];
      if (err) throw err;
      return String(id);
    },

    read,

    async *follow(runId, afterId, signal) {
      if (signal.aborted) return;
      // What is there already comes on the shared connection: replaying a finished run needs no other.
      let last = afterId ?? '0-0';
      for (const stored of await read(runId, afterId)) {
        last = stored.id;
        yield stored;
        if (isTerminal(stored.event)) return;
      }
      // Live events: a blocking XREAD on a connection of its own, ended by the signal.
      const reader = redis.duplicate({ maxRetriesPerRequest: null });
      reader.on('error', (err) => options.logger.debug({ err: err.message }, 'run event reader error'));
      readers.add(reader);
      const stop = () => reader.disconnect();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for (;;) {
          const reply = (await reader.xread('BLOCK', RUN_EVENTS.blockMs, 'STREAMS', eventsKey(runId), last)) as
            | Array<[string, StreamEntry[]]>
            | null;
          for (const entry of reply?.[0]?.[1] ?? []) {
            const stored = toStored(entry);
            last = stored.id;
            yield stored;
            if (isTerminal(stored.event)) return;
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      } finally {
        signal.removeEventListener('abort', stop);
        readers.delete(reader);
        reader.disconnect();
      }
    },

    async close() {
      for (const reader of readers) reader.disconnect();
      redis.disconnect();
    },
  };
}

/** Stop requests: a key any process can check (also before the run starts) and a broadcast to workers. */
export function createRedisRunCancellation(options: { redisUrl: string; logger: Logger }): RunCancellation {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'run cancellation redis error'));
  const watchers = new Map<string, Set<() => void>>();
  let subscriber: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;

  // Workers subscribe once, on their first watch; a request published before that is found by the key.
  function subscribe() {
    if (subscriber) return;
    subscriber = redis.duplicate({ maxRetriesPerRequest: null });
    subscriber.on('error', (err) => options.logger.warn({ err: err.message }, 'run cancellation subscriber error'));
    subscriber.on('message', (_channel: string, runId: string) => {
      for (const onCancel of watchers.get(runId) ?? []) onCancel();
    });
    subscribed = subscriber.subscribe(CANCEL_CHANNEL).catch((err) => {
      options.logger.warn({ err: describeError(err) }, 'could not subscribe to stop requests');
    });
  }

  return {
    async request(runId) {
      await redis
        .multi()
        .set(cancelKey(runId), '1', 'EX', RUN_EVENTS.ttlSeconds)
        .publish(CANCEL_CHANNEL, runId)
        .exec();
    },
    async isRequested(runId) {
      // After the subscription is live, a request is either already in the key or will be heard.
      await subscribed;
      return (await redis.exists(cancelKey(runId))) === 1;
    },
    watch(runId, onCancel) {
      subscribe();
      let fired = false;
      const once = () => {
        if (fired) return;
        fired = true;
        onCancel();
      };
      const set = watchers.get(runId) ?? new Set();
      set.add(once);
      watchers.set(runId, set);
      return () => {
        set.delete(once);
        if (set.size === 0) watchers.delete(runId);
      };
    },
    async close() {
      subscriber?.disconnect();
      redis.disconnect();
    },
  };
}

function toStored([id, fields]: StreamEntry): StoredRunEvent {
  const json = fields[fields.indexOf('e') + 1] ?? '{}';
  return { id, at: Number(id.split('-')[0]), event: RunEventSchema.parse(JSON.parse(json)) };
}
