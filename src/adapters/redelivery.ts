// How both log consumers (Kafka's and the in-process one) keep the LogConsumer promise that a
// failed batch comes back after a backoff.

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** Delay before redelivering a failed batch for the n-th time (1-based): exponential, capped at 5 s. */
export function redeliveryDelayMs(attempt: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
}

/** Waits ms, or less when the signal aborts (a stopping consumer should not sit out a backoff). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
