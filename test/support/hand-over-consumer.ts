import type { LogBatch, LogConsumer } from '../../src/ports/log-consumer.js';

/** A consumer that hands the worker's handler to the test instead of reading a log. */
export function handOverConsumer(): LogConsumer & { deliver(batch: LogBatch): Promise<void> } {
  let handler: ((batch: LogBatch) => Promise<void>) | undefined;
  return {
    run: async (h) => {
      handler = h;
    },
    stop: async () => {},
    deliver: (batch) => {
      if (!handler) throw new Error('the worker has not started');
      return handler(batch);
    },
  };
}
