/**
 * Sends the latest text, one send at a time and at most once per interval (leading and trailing
 * edge). Platforms rate-limit message edits (Slack chat.update ~50/min; Discord by the rate-limit
 * headers its REST queue honours), and only the newest progress matters, so intermediate texts are
 * dropped, never queued: while a send is in flight, newer texts replace each other and the newest goes
 * next. With an interval of 0 the pace is the platform's own (each send waits for the one before).
 */
export interface ThrottledSender {
  push(text: string): void;
  /** Cancels anything scheduled and waits for a send in flight. */
  stop(): Promise<void>;
}

export function createThrottledSender(
  send: (text: string) => Promise<void>,
  minIntervalMs: number,
  onError: (err: unknown) => void = () => {},
): ThrottledSender {
  let lastSentAt = 0;
  let pending: string | undefined;
  let lastSent: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped || timer || inflight || pending === undefined) return;
    timer = setTimeout(fire, Math.max(0, lastSentAt + minIntervalMs - Date.now()));
  };

  const fire = () => {
    timer = undefined;
    if (stopped || pending === undefined) return;
    const text = pending;
    pending = undefined;
    if (text === lastSent) return;
    lastSentAt = Date.now();
    lastSent = text;
    inflight = send(text)
      .catch(onError)
      .finally(() => {
        inflight = undefined;
        schedule();
      });
  };

  return {
    push(text) {
      if (stopped) return;
      pending = text;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inflight;
    },
  };
}
