import type { ServiceDeps } from '../deps.js';
import type { BookEntry } from '../../ports/price-book.js';
import type { BidPlacedMessage } from '../../ports/bid-log.js';
import { notFound, unavailable } from '../../domain/errors.js';
import { minimumNextBid } from '../../domain/increments.js';

/**
 * Loads an auction's live state from Postgres into the price book, but only once the bid worker
 * has persisted everything the log holds for it and no bid of it is still on its way to the log: a
 * price book rebuilt from a stale row could accept a bid below one already accepted.
 */
export async function loadIntoPriceBook(deps: Pick<ServiceDeps, 'db' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher'>, auctionId: string): Promise<void> {
  const auction = await deps.db.auction.findUnique({ where: { id: auctionId } });
  if (!auction) throw notFound('Auction');
  // A bid this gateway is still publishing is in neither the log nor Postgres: a book rebuilt
  // without it would give its seq to another bid.
  const caughtUp =
    !deps.bidFinisher.hasPending(auctionId) &&
    (await deps.bidLog.isCaughtUp(auctionId).catch((error: unknown) => {
      deps.logger.warn({ err: error, auctionId }, 'could not tell whether the bid log is persisted');
      return false;
    }));
  if (!caughtUp) {
    deps.logger.warn({ auctionId }, 'price book lacks the auction and the log is not yet persisted; refusing bids until it is');
    throw unavailable('Bidding on this auction resumes in a moment; nothing was accepted. Retry with the same idempotencyKey.');
  }
  const [fresh, bids, leading] = await Promise.all([
    deps.db.auction.findUnique({ where: { id: auctionId } }),
    deps.db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } }),
    auction.leadingBidId ? deps.db.bid.findUnique({ where: { id: auction.leadingBidId } }) : null,
  ]);
  const row = fresh ?? auction;
  const acceptedBids = bids.map((bid) => ({
    bidderId: bid.bidderId,
    idempotencyKey: bid.idempotencyKey,
    message: storedMessage(row, bid),
  }));
  const entry: BookEntry = {
    auctionId: row.id,
    sellerId: row.sellerId,
    state: row.state,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    startingPrice: row.startingPrice,
    currentPrice: row.currentPrice,
    bidCount: row.bidCount,
    lastSeq: row.lastSeq,
    leadingBidId: row.leadingBidId,
    leaderId: row.leaderId,
    leaderAmount: leading?.amount ?? null,
    acceptedBids,
  };
  await deps.priceBook.load(entry);
}

// A retried key after a reload answers with the bid as persisted; price fields are those it set.
function storedMessage(
  auction: { id: string; endsAt: Date; startingPrice: number },
  bid: { id: string; bidderId: string; amount: number; maxAmount: number | null; seq: number; idempotencyKey: string; placedAt: Date },
): BidPlacedMessage {
  return {
    v: 1,
    type: 'BidPlaced',
    id: bid.id,
    auctionId: auction.id,
    seq: bid.seq,
    at: bid.placedAt.toISOString(),
    bid: { id: bid.id, bidderId: bid.bidderId, amount: bid.amount, maxAmount: bid.maxAmount, idempotencyKey: bid.idempotencyKey, placedAt: bid.placedAt.toISOString() },
    currentPrice: bid.amount,
    bidCount: bid.seq,
    minimumNextBid: minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: bid.amount, bidCount: bid.seq }),
    endsAt: auction.endsAt.toISOString(),
    previousLeader: null,
  };
}
