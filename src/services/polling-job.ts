import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';

/** A job of the workers role that claims due rows in batches and works on them. */
export interface PollingJob<T> {
  /** Starts polling in the background. */
  start(): void;
  /** Stops polling and waits for the rows in hand. */
  stop(): Promise<void>;
  /** Claims and works on one batch; resolves with what became of each row. */
  runOnce(): Promise<T[]>;
}

export interface PollingOptions {
  /** The pause between polls when fewer than a full batch were due (jittered by up to half either way). */
  intervalMs: number;
  batchSize: number;
  /** Says what failed to be claimed, in the log. */
  what: string;
  logger: Pick<Logger, 'error'>;
  /** Aborted by stop(); the job's own waits may listen to it. */
  stopping?: AbortController;
}

/** Polls `runOnce` until stopped: without a pause while batches come back full. */
export function pollingJob<T>(options: PollingOptions, runOnce: () => Promise<T[]>): PollingJob<T> {
  const { intervalMs, batchSize, what, logger, stopping = new AbortController() } = options;
  let loop: Promise<void> | undefined;

  async function poll(): Promise<void> {
    while (!stopping.signal.aborted) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).length;
      } catch (error) {
        logger.error({ err: error }, `claiming ${what} failed`);
      }
      // Jitter keeps several workers from polling in step.
      if (claimed < batchSize) await delay(intervalMs * (0.5 + Math.random()), undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  return {
    start() {
      loop ??= poll();
    },
    async stop() {
      stopping.abort();
      await loop;
    },
    runOnce,
  };
}
