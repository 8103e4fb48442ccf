import type { ServiceDeps } from '../deps.js';
import type { BookEntry } from '../../ports/price-book.js';
import { randomUUID } from 'node:crypto';
import type { AuctionCancelledMessage, AuctionEndedMessage, BidPlacedMessage } from '../../ports/bid-log.js';
import type { AuctionEvent } from '../../domain/events.js';
import { reserveStatus } from '../../domain/auction.js';
import { toStoredEvent } from '../auctions/list-events.js';
import { notFound, unavailable } from '../../domain/errors.js';
import { minimumNextBid } from '../../domain/increments.js';
import type { BidKind } from '../../domain/bid.js';

/**
 * How long a first bid on an auction not in the price book waits for the persister to reach what
 * the auction's partition held when the bid came: about one of its batches under load. Past that
 * the bid is refused UNAVAILABLE, to be retried with its key.
 */
const CAUGHT_UP_WAIT_MS = 1_000;

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
    (await deps.bidLog.isCaughtUp(auctionId, { waitMs: CAUGHT_UP_WAIT_MS }).catch((error: unknown) => {
      deps.logger.warn({ err: error, auctionId }, 'could not tell whether the bid log is persisted');
      return false;
    }));
  if (!caughtUp) {
    deps.logger.warn({ auctionId }, 'price book lacks the auction and the log is not yet persisted; refusing bids until it is');
    throw unavailable('Bidding on this auction resumes in a moment; nothing was accepted. Retry with the same idempotencyKey.');
  }
  const [fresh, bids, final] = await Promise.all([
    deps.db.auction.findUnique({ where: { id: auctionId } }),
    deps.db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } }),
    // An ended or cancelled auction keeps answering with the event that closed it.
    deps.db.auctionEvent.findFirst({ where: { auctionId, type: { in: ['AuctionEnded', 'AuctionCancelled'] } }, orderBy: { seq: 'desc' } }),
  ]);
  const row = fresh ?? auction;
  const leading = bids.find((bid) => bid.id === row.leadingBidId);
  // What each request asked for, so a retried key is judged as before; automatic bids had no request.
  const acceptedBids = bids.flatMap(({ bidderId, idempotencyKey, amount, requestedAmount, maxAmount, kind, seq }) =>
    idempotencyKey === null ? [] : [{ bidderId, idempotencyKey, amount: requestedAmount ?? amount, maxAmount, buyNow: kind === 'BUY_NOW', seq }],
  );
  const entry: BookEntry = {
    auctionId: row.id,
    sellerId: row.sellerId,
    state: row.state,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    scheduledEndsAt: row.scheduledEndsAt,
    softCloseSeconds: row.softCloseSeconds,
    startingPrice: row.startingPrice,
    reservePrice: row.reservePrice,
    buyNowPrice: row.buyNowPrice,
    currentPrice: row.currentPrice,
    bidCount: row.bidCount,
    lastSeq: row.lastSeq,
    leadingBidId: row.leadingBidId,
    leaderId: row.leaderId,
    leaderMaxAmount: leading ? (leading.maxAmount ?? leading.amount) : null,
    finalMessage: row.state === 'OPEN' ? null : finalMessageOf(row, final ? toStoredEvent(final) : recordedClose(row)),
    acceptedBids,
  };
  await deps.priceBook.load(entry);
}

/**
 * The answer to a retried key whose bid the price book knows to be persisted: the bid as Postgres
 * holds it, found by the key it was placed with.
 */
export async function persistedBidMessage(
  deps: Pick<ServiceDeps, 'db'>,
  key: { auctionId: string; bidderId: string; idempotencyKey: string; seq: number },
): Promise<BidPlacedMessage> {
  const { auctionId, bidderId, idempotencyKey } = key;
  const [auction, bid] = await Promise.all([
    deps.db.auction.findUnique({ where: { id: auctionId } }),
    deps.db.bid.findUnique({ where: { auctionId_bidderId_idempotencyKey: { auctionId, bidderId, idempotencyKey } } }),
  ]);
  // Marked persisted only after the persister committed it: a missing row is a broken invariant.
  if (!auction || !bid || bid.seq !== key.seq) throw new Error(`bid of auction ${auctionId} at seq ${key.seq} is marked persisted but Postgres lacks it`);
  const bidCount = await deps.db.bid.count({ where: { auctionId, seq: { lte: bid.seq } } });
  return storedMessage(auction, { ...bid, idempotencyKey }, bidCount);
}

// A retried key after its bid was persisted answers with the bid as stored; price fields are those it set.
function storedMessage(
  auction: { id: string; endsAt: Date; startingPrice: number },
  bid: { id: string; bidderId: string; amount: number; maxAmount: number | null; requestedAmount: number | null; kind: BidKind; seq: number; idempotencyKey: string; placedAt: Date },
  bidCount: number,
): BidPlacedMessage {
  return {
    v: 1,
    type: 'BidPlaced',
    id: bid.id,
    auctionId: auction.id,
    seq: bid.seq,
    at: bid.placedAt.toISOString(),
    bid: {
      id: bid.id,
      bidderId: bid.bidderId,
      amount: bid.amount,
      maxAmount: bid.maxAmount,
      requestedAmount: bid.requestedAmount ?? bid.amount,
      ...(bid.kind === 'BUY_NOW' ? { kind: 'BUY_NOW' as const } : {}),
      idempotencyKey: bid.idempotencyKey,
      placedAt: bid.placedAt.toISOString(),
    },
    currentPrice: bid.amount,
    bidCount,
    minimumNextBid: minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: bid.amount, bidCount }),
    endsAt: auction.endsAt.toISOString(),
    previousLeader: null,
  };
}

/**
 * The close of an auction recorded before its events were (cancelled under an earlier version):
 * built from the row, at its last seq, so publishing it again adds nothing.
 */
function recordedClose(row: {
  id: string;
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  lastSeq: number;
  endsAt: Date;
  cancelledAt: Date | null;
  cancelReason: string | null;
  winnerId: string | null;
  leadingBidId: string | null;
  currentPrice: number;
  bidCount: number;
  reservePrice: number | null;
}): AuctionEvent {
  const base = { auctionId: row.id, seq: row.lastSeq };
  if (row.state === 'CANCELLED') {
    return { ...base, type: 'AuctionCancelled', at: (row.cancelledAt ?? row.endsAt).toISOString(), payload: { reason: row.cancelReason, afterEnd: false } };
  }
  const sold = row.winnerId !== null;
  return {
    ...base,
    type: 'AuctionEnded',
    at: row.endsAt.toISOString(),
    payload: {
      sold,
      finalPrice: sold ? row.currentPrice : null,
      winnerId: row.winnerId,
      winningBidId: sold ? row.leadingBidId : null,
      reserveStatus: reserveStatus(row),
      bidCount: row.bidCount,
    },
  };
}

/** The closing message as the stored event records it; its id is new, which only names the copy. */
function finalMessageOf(
  auction: { id: string; currentPrice: number; leadingBidId: string | null; leaderId: string | null },
  event: AuctionEvent,
): AuctionEndedMessage | AuctionCancelledMessage | null {
  const base = { v: 1 as const, id: randomUUID(), auctionId: auction.id, seq: event.seq, at: event.at };
  switch (event.type) {
    case 'AuctionEnded':
      return {
        ...base,
        type: 'AuctionEnded',
        ...event.payload,
        currentPrice: auction.currentPrice,
        leadingBidId: auction.leadingBidId,
        leaderId: auction.leaderId,
      };
    case 'AuctionCancelled':
      return { ...base, type: 'AuctionCancelled', ...event.payload };
    default:
      return null;
  }
}

/** Runs one price book call; an unreachable price book is UNAVAILABLE, since nothing was decided. */
export async function askPriceBook<T>(deps: Pick<ServiceDeps, 'logger'>, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    deps.logger.error({ err: error }, 'price book unreachable');
    throw unavailable();
  }
}
