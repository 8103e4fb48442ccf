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
