import type { ServiceDeps } from '../deps.js';
import { pollingJob, type PollingJob } from '../polling-job.js';

export interface EvictionJobOptions {
  /** How long a book must go untouched before it may be evicted. */
  idleSeconds: number;
  /** The pause between steps of a pass (jittered by up to half either way). */
  intervalMs?: number;
  /** Books looked at per step: the SCAN count. */
  batchSize?: number;
}

export type EvictionJob = PollingJob<string>;

const DEFAULTS = { intervalMs: 1_000, batchSize: 500 };

/**
 * Keeps cold auctions out of the price book: a slow, endless pass over the books held, evicting
 * each one idle for `idleSeconds` whose every accepted bid is persisted (the price book re-checks
 * both atomically as it evicts). An evicted auction is rebuilt from Postgres on its next use, and
 * only once nothing of it is on its way to Postgres (load-price-book.ts), so nothing it decided is
 * lost and no stale price comes back. Each step returns the auctions it evicted; a step that
 * evicts a full batch is followed at once by the next, any other after a pause.
 */
export function createEvictionJob(deps: Pick<ServiceDeps, 'logger' | 'priceBook'>, options: EvictionJobOptions): EvictionJob {
  const { idleSeconds, intervalMs, batchSize } = { ...DEFAULTS, ...options };
  const logger = deps.logger.child({ component: 'price-book-eviction' });
  let cursor = '0';

  return pollingJob({ intervalMs, batchSize, what: 'idle price books', logger }, async () => {
    const step = await deps.priceBook.sweep(cursor, { idleSeconds, count: batchSize });
    cursor = step.cursor;
    if (step.evicted.length > 0) logger.debug({ evicted: step.evicted.length }, 'evicted idle price books');
    return step.evicted;
  });
}
