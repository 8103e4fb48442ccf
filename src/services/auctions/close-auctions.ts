import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { CloseDecision } from '../../ports/price-book.js';
import { askPriceBook, loadIntoPriceBook } from '../bids/load-price-book.js';
import { inParallel } from '../in-parallel.js';
import { pollingJob, type PollingJob } from '../polling-job.js';

export type ClosingDeps = Pick<ServiceDeps, 'db' | 'clock' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher'> & Partial<Pick<ServiceDeps, 'metrics'>>;

export interface ClosingJobOptions {
  /** The pause between polls when nothing was due (jittered by up to half either way). */
  intervalMs?: number;
  /** Auctions claimed per poll. */
  batchSize?: number;
  /** Auctions closed at the same time. */
  concurrency?: number;
  /** How long a claim holds before another worker may take the auction over. */
  leaseMs?: number;
}

export type ClosingJob = PollingJob<CloseOutcome>;

/** `persisting`: ended by an earlier claim, its end not yet recorded while the persister is behind. */
export type CloseOutcome = 'ended' | 'cancelled' | 'not-due' | 'persisting' | 'failed';

const DEFAULTS = { intervalMs: 250, batchSize: 500, concurrency: 32, leaseMs: 15_000 };

/**
 * Ends auctions on time, exactly once, on any number of worker processes.
 *
 * A poll claims due auctions (OPEN, endsAt passed) with `FOR UPDATE SKIP LOCKED` and a lease, so
 * workers split them and one that dies hands its share over when the lease lapses. Closing one is
 * idempotent at every step: the price book ends it atomically (no bid is accepted after) and keeps
 * the AuctionEnded message with its seq, answering every later call with the same one; the message
 * is published until the log holds it; the bid persister records it only while the auction is OPEN.
 * A crash anywhere in between is repaired by the next claim, and the seq is the fencing token.
 * Auctions that fell due while no worker ran are simply the first claimed.
 */
export function createClosingJob(deps: ClosingDeps, options: ClosingJobOptions = {}): ClosingJob {
  const { intervalMs, batchSize, concurrency, leaseMs } = { ...DEFAULTS, ...options };
  const logger = deps.logger.child({ component: 'closing-job' });
  const stopping = new AbortController();
  // A publish still retrying when the job stops is left to the next claim (the price book keeps its
  // message), so that a log outage cannot hold up shutdown.
  const stopped = new Promise<never>((_, reject) => {
    stopping.signal.addEventListener('abort', () => reject(new Error('the closing job stopped')), { once: true });
  });
  stopped.catch(() => undefined);
  const publish = (message: Parameters<ClosingDeps['bidFinisher']['publish']>[0]) => Promise.race([deps.bidFinisher.publish(message), stopped]);

  async function claimDue(): Promise<string[]> {
    const now = deps.clock.now();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await deps.db.$queryRaw<Array<{ id: string }>>`
      UPDATE auctions SET close_lease_until = ${leaseUntil}
      WHERE id IN (
        SELECT id FROM auctions
        WHERE state = 'OPEN' AND ends_at <= ${now} AND (close_lease_until IS NULL OR close_lease_until <= ${now})
        ORDER BY ends_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id::text AS id`;
    return rows.map((row) => row.id);
  }

  async function closeOne(auctionId: string): Promise<CloseOutcome> {
    const close = () => askPriceBook(deps, () => deps.priceBook.close(auctionId, randomUUID()));
    let decision: CloseDecision = await close();
    if (decision.outcome === 'MISSING') {
      // Refused (UNAVAILABLE) while bids of it are still on their way to Postgres: the lease lapses
      // and the next claim tries again.
      await loadIntoPriceBook(deps, auctionId);
      decision = await close();
    }
    switch (decision.outcome) {
      case 'MISSING':
        throw new Error(`auction ${auctionId} is not in the price book after loading it`);
      case 'NOT_DUE':
        // A bid extended it and the persister has not recorded the new end yet: claim it again then.
        await deps.db.auction.updateMany({ where: { id: auctionId, state: 'OPEN' }, data: { closeLeaseUntil: decision.endsAt } });
        return 'not-due';
      case 'ENDED':
        // Ended by an earlier claim: its message is in the log unless that claim stopped first. While
        // the persister is behind, the message is most likely waiting there, and a copy would only
        // add to the backlog; once it has caught up without recording the end, the message was lost.
        if (!decision.now && !(await caughtUp(auctionId))) {
          await holdLease(auctionId);
          return 'persisting';
        }
        await publish(decision.message);
        deps.metrics?.auctionClosed('ended', Math.max(0, deps.clock.now().getTime() - Date.parse(decision.message.at)) / 1000);
        logger.debug({ auctionId, seq: decision.message.seq, sold: decision.message.sold }, 'auction ended');
        return 'ended';
      case 'CANCELLED':
        // Cancelled in the price book, and that message may never have reached the log.
        await publish(decision.message);
        return 'cancelled';
    }
  }

  const caughtUp = (auctionId: string) =>
    deps.bidLog.isCaughtUp(auctionId).catch((error: unknown) => {
      logger.warn({ err: error, auctionId }, 'could not tell whether the bid log is persisted');
      return false;
    });

  const holdLease = (auctionId: string) =>
    deps.db.auction.updateMany({ where: { id: auctionId, state: 'OPEN' }, data: { closeLeaseUntil: new Date(deps.clock.now().getTime() + leaseMs) } });

  async function runOnce(): Promise<CloseOutcome[]> {
    const ids = await claimDue();
    const outcomes: CloseOutcome[] = [];
    await inParallel(ids, concurrency, async (auctionId) => {
      const outcome = await closeOne(auctionId).catch((error: unknown): CloseOutcome => {
        logger.warn({ err: error, auctionId }, 'closing an auction failed; the next claim tries again once its lease lapses');
        return 'failed';
      });
      if (outcome !== 'ended') deps.metrics?.auctionClosed(outcome);
      outcomes.push(outcome);
    });
    return outcomes;
  }

  return pollingJob({ intervalMs, batchSize, what: 'due auctions', logger, stopping }, runOnce);
}
