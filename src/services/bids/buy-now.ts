import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import { AppError, ErrorCode, unauthenticated } from '../../domain/errors.js';
import * as v from '../validate.js';
import { getAuction } from '../auctions/read-auctions.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, finish, judge } from './place-bid.js';

/**
 * Buys the item at its Buy It Now price, as eBay offers it: while the auction runs and nobody has
 * bid (or, with a reserve, until a bid meets it). The price book decides atomically against bids,
 * other buyers and the close: the purchase is a bid, and the auction ends with it in the same step.
 * Both are in the log before the buyer hears "bought", and the winner pays through the same flow as
 * any sold auction. A retried key answers with the auction as it is now.
 */
export async function buyNow(
  deps: Pick<ServiceDeps, 'db' | 'clock' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher' | 'metrics'>,
  viewer: Viewer,
  input: { auctionId: string; idempotencyKey: string },
): Promise<AuctionView> {
  if (!viewer) throw unauthenticated();
  const auctionId = v.uuid('auctionId', input.auctionId);
  const idempotencyKey = v.text('idempotencyKey', input.idempotencyKey, { max: MAX_IDEMPOTENCY_KEY_LENGTH });
  const command = {
    auctionId,
    bidderId: viewer.id,
    bidId: randomUUID(),
    eventId: randomUUID(),
    idempotencyKey,
    pauseNewBids: deps.bidFinisher.failing,
  };
  const decision = await judge(deps, auctionId, () => deps.priceBook.buyNow(command));
  if (decision.outcome === 'NOT_OFFERED') {
    throw new AppError(ErrorCode.BUY_NOW_UNAVAILABLE, 'Buy It Now is not offered on this auction: it has no Buy It Now price, or bidding has passed it.');
  }
  const { replayed } = await finish(deps, decision, { auctionId, bidderId: viewer.id, idempotencyKey });
  if (!replayed) deps.metrics.bidAccepted();
  return (await getAuction(deps, auctionId))!;
}

/** The row-lock engine (a benchmark baseline) decides bids in Postgres, where a purchase could not see them. */
export const buyNowWithoutPriceBook = () => new AppError(ErrorCode.BUY_NOW_UNAVAILABLE, 'Buy It Now needs the price-book bid engine; this server runs BID_ENGINE=row-lock.');
