// The small event-log interface workers consume through, so that kafkajs (or the in-process log)
// stays an adapter detail and another client can replace it.

/** One message as it was read from the log; key and value are untouched bytes. */
export interface LogMessage {
  offset: string;
  key: string | null;
  value: Buffer | null;
}

/** Consecutive messages of one partition, oldest first. */
export interface LogBatch {
  partition: number;
  messages: LogMessage[];
}

/**
 * A consumer-group member. The handler's batch is committed only after the handler resolves; when
 * it throws, the same batch is delivered again after a backoff, so nothing is ever skipped.
 */
export interface LogConsumer {
  /** Starts consuming in the background; resolves once started. */
  run(handler: (batch: LogBatch) => Promise<void>): Promise<void>;
  /** Stops after the batch in hand, committing nothing it did not finish. */
  stop(): Promise<void>;
}

/** Where messages that can never be processed go, so they do not block their partition. */
export interface DeadLetterQueue {
  publish(raw: DeadLetter, reason: string): Promise<void>;
}

/** A message as it was read, with where it came from. */
export interface DeadLetter extends LogMessage {
  partition: number;
}

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
