/**
 * The one way we give work a deadline. `work` settles as usual if it is in time; otherwise the promise
 * rejects with `onTimeout()`'s error, and `abort` (when given) is aborted with that same error first, so
 * the work itself stops (a model call, a fetch) instead of running on unseen.
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  abort?: AbortController,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = onTimeout();
      abort?.abort(err);
      reject(err);
    }, ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `work` settles (either way) within `ms`; for shutdowns that escalate when it does not. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return withTimeout(settled, ms, () => new Error('timeout')).catch(() => false);
}
