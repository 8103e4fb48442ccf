export interface ProduceBatcherOptions<T> {
  /**
   * Sends one batch in one produce call and resolves once the broker acknowledged all of it;
   * timeoutMs is the longest any of its callers still waits.
   */
  send(items: T[], timeoutMs: number): Promise<void>;
  /** How long the first item waits for others to share its request. */
  lingerMs: number;
  /** The most items one request carries; a full batch goes out without waiting for the linger. */
  maxItems: number;
}

export interface ProduceBatcher<T> {
  /** Resolves or rejects with the outcome of the request that carried this item. */
  add(item: T, timeoutMs: number): Promise<void>;
  /** Sends what is queued and waits for every request in flight to settle. */
  drain(): Promise<void>;
}

interface Queued<T> {
  item: T;
  deadline: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Nothing was sent: the caller's deadline passed while the item waited for the request before it. */
export class ExpiredBeforeSendError extends Error {
  override name = 'ExpiredBeforeSendError';
}

/**
 * Groups concurrent sends into shared produce requests. Exactly one request is in flight at a
 * time, and items go out in the order they were added: a request that fails after the broker
 * took part of it, and is retried by the client, can then never land behind a later request of
 * the same key. Under load the queue fills while a request is in flight, so the batches grow with
 * the rate and the round trip is paid once per batch, not once per item.
 */
export function createProduceBatcher<T>({ send, lingerMs, maxItems }: ProduceBatcherOptions<T>): ProduceBatcher<T> {
  const queue: Queued<T>[] = [];
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight || queue.length === 0) return;
    const now = Date.now();
    const batch: Queued<T>[] = [];
    while (batch.length < maxItems && queue.length > 0) {
      const next = queue.shift()!;
      // Its caller has been told it failed and publishes it again; sending it now only makes a copy.
      if (next.deadline <= now) next.reject(new ExpiredBeforeSendError('the publish deadline passed before the message was sent'));
      else batch.push(next);
    }
    if (batch.length === 0) return;
    const timeoutMs = Math.max(...batch.map((q) => q.deadline - now));
    inFlight = send(
      batch.map((q) => q.item),
      timeoutMs,
    ).then(
      () => batch.forEach((q) => q.resolve()),
      (error: unknown) => batch.forEach((q) => q.reject(error)),
    );
    void inFlight.finally(() => {
      inFlight = undefined;
      // What queued up during the round trip has waited at least as long as a linger would have.
      flush();
    });
  };

  return {
    add(item, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ item, deadline: Date.now() + timeoutMs, resolve, reject });
        if (inFlight) return;
        if (queue.length >= maxItems || lingerMs <= 0) flush();
        else timer ??= setTimeout(flush, lingerMs);
      });
    },
    async drain() {
      while (inFlight || queue.length > 0) {
        flush();
        await inFlight;
      }
    },
  };
}
