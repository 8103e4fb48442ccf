import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AuctionLogMessage, BidLog } from '../../ports/bid-log.js';

/** How long one publish attempt may wait for the log's acknowledgement. */
export const PUBLISH_TIMEOUT_MS = 3_000;

/** Exponential from 100 ms, capped at 5 s: a log that is back is found quickly, one that is down is not hammered. */
export const finisherRetryDelayMs = (attempt: number): number => Math.min(100 * 2 ** (attempt - 1), 5_000);

export interface BidFinisherOptions {
  bidLog: BidLog;
  logger: Logger;
  attemptTimeoutMs?: number;
  /** The wait before retry `attempt` (1 for the first retry). */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * Gets every accepted bid into the bid log, whatever happens to the request that placed it.
 *
 * The price book's acceptance is the commit point. From that moment later bids are judged against
 * the bid (it holds a seq and raises the minimum), and a publish that failed or timed out may
 * still be in the log, or be republished by a retry of its key on another gateway. Undoing it is
 * therefore never safe: a withdrawn bid that reached the log anyway would be persisted after its
 * seq went to another bid, and one of the two would be lost. So nothing is undone: the accepted
 * message is published again, with the same bid id (the worker ignores a known one), until the log
 * acknowledges it.
 *
 * What the bidder hears stays true. "Accepted" comes only once the log holds the bid, so the request
 * of a bid whose publish fails waits for the retries; UNAVAILABLE would say nothing was accepted.
 * While any accepted bid waits on a failing log, `failing` is set and placeBid asks the price book
 * to pause new bids: they are answered UNAVAILABLE with nothing changed, which is then the truth,
 * while retried keys are still answered.
 *
 * The retries live in this process. One that stops with a bid still unlogged says so at error
 * level, bid by bid; such a bid stays in the price book, and the first retry of its key on any
 * gateway publishes it again (services/bids/place-bid.ts, DUPLICATE).
 */
export interface BidFinisher {
  /**
   * Resolves once the log holds the message, retrying until it does; callers for the same bid share
   * the attempts. Rejects only when the finisher is closed first.
   */
  publish(message: AuctionLogMessage): Promise<void>;
  /** Whether an accepted bid is waiting on a log that has refused or timed out at least once. */
  readonly failing: boolean;
  /** Whether a bid of this auction is still on its way to the log. */
  hasPending(auctionId: string): boolean;
  /**
   * Gives pending bids up to graceMs more to land (the gateway's drain gave them its own grace
   * already), then stops retrying and reports each one left at error level.
   */
  close(graceMs?: number): Promise<void>;
}

/** The bid could not be logged before the finisher was closed; it stays accepted in the price book. */
export class BidNotLoggedError extends Error {
  override name = 'BidNotLoggedError';
}

export function createBidFinisher(options: BidFinisherOptions): BidFinisher {
  const { bidLog, attemptTimeoutMs = PUBLISH_TIMEOUT_MS, retryDelayMs = finisherRetryDelayMs } = options;
  const logger = options.logger.child({ component: 'bid-finisher' });
  const pending = new Map<string, { auctionId: string; done: Promise<void> }>();
  const retrying = new Set<string>();
  const stopping = new AbortController();
  // An attempt still waiting for its acknowledgement at close is not waited for: shutdown is bounded.
  const closed = new Promise<never>((_, reject) => {
    stopping.signal.addEventListener('abort', () => reject(new BidNotLoggedError('the bid finisher is closed')), { once: true });
  });
  closed.catch(() => undefined);

  const finish = async (message: AuctionLogMessage): Promise<void> => {
    const context = { bidId: message.id, auctionId: message.auctionId, seq: message.seq };
    for (let attempt = 1; ; attempt++) {
      try {
        // Read from the log object on each attempt, so a log swapped in place (tests) is used.
        await Promise.race([bidLog.publish(message, { timeoutMs: attemptTimeoutMs }), closed]);
        if (attempt > 1) logger.warn({ ...context, attempts: attempt }, 'accepted bid reached the bid log after retries');
        return;
      } catch (error) {
        retrying.add(message.id);
        if (!stopping.signal.aborted) {
          const delayMs = retryDelayMs(attempt);
          logger.warn({ ...context, err: error, attempt, delayMs }, 'accepted bid not yet in the bid log; publishing it again');
          await delay(delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
        if (stopping.signal.aborted) {
          logger.error({ ...context, err: error, attempts: attempt }, 'accepted bid not confirmed in the bid log: stopped retrying; a retry of its key publishes it again');
          throw new BidNotLoggedError(`bid ${message.id} was accepted but is not yet in the bid log`);
        }
      }
    }
  };

  return {
    publish(message) {
      const known = pending.get(message.id);
      if (known) return known.done;
      if (stopping.signal.aborted) return Promise.reject(new BidNotLoggedError(`bid ${message.id}: the bid finisher is closed`));
      const done = finish(message).finally(() => {
        pending.delete(message.id);
        retrying.delete(message.id);
      });
      pending.set(message.id, { auctionId: message.auctionId, done });
      return done;
    },

    get failing() {
      return retrying.size > 0;
    },

    hasPending(auctionId) {
      for (const bid of pending.values()) if (bid.auctionId === auctionId) return true;
      return false;
    },

    async close(graceMs = 1_000) {
      const all = () => Promise.allSettled([...pending.values()].map((bid) => bid.done));
      if (pending.size > 0) await Promise.race([all(), delay(graceMs, undefined, { ref: false })]);
      stopping.abort();
      await all();
    },
  };
}
