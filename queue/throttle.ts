/**
 * Sends the latest text at most once per interval (leading and trailing edge). Platforms rate-limit
 * message edits (Slack chat.update ~50/min, Discord about one edit a second), and only the newest
 * progress matters, so intermediate texts are dropped, never queued.
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
  let inflight: Promise<void> = Promise.resolve();
  let stopped = false;

  const fire = () => {
    timer = undefined;
    if (stopped || pending === undefined || pending === lastSent) return;
    const text = pending;
    pending = undefined;
    lastSentAt = Date.now();
    lastSent = text;
    inflight = inflight.then(() => send(text)).catch(onError);
  };

  return {
    push(text) {
      if (stopped) return;
      pending = text;
      if (timer) return;
      const wait = Math.max(0, lastSentAt + minIntervalMs - Date.now());
      timer = setTimeout(fire, wait);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inflight;
    },
  };
}
