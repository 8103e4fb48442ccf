import type { Logger } from 'pino';
import type { LogBatch, LogConsumer } from '../ports/log-consumer.js';

export interface Worker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once start() has the consumer running; rejects if it could not start. */
  ready: Promise<void>;
}

/** A worker that hands every batch its consumer delivers to `handle`. */
export function runWorker(name: string, consumer: LogConsumer, handle: (batch: LogBatch) => Promise<void>, logger: Logger): Worker {
  let markReady!: () => void;
  let failReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Whoever awaits `ready` sees a failure; nobody awaiting it must not crash the process.
  ready.catch(() => {});
  return {
    ready,
    start: async () => {
      try {
        await consumer.run(handle);
        logger.info(`${name} started`);
        markReady();
      } catch (error) {
        failReady(error);
        throw error;
      }
    },
    stop: () => consumer.stop(),
  };
}
