// The bid engine most auction code has: one Postgres transaction per bid that locks the auction's
// row, judges the bid against it and writes the bid, its event and the new state before it commits.
// It is selected with BID_ENGINE=row-lock as the baseline the price book is measured against
// (bench/bids.ts); it has no price book, bid log or worker in its path, so live subscribers and the
// closing job do not see its bids.
import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { BidView } from '../../domain/bid.js';
import type { AuctionExtendedPayload, BidPlacedPayload } from '../../domain/events.js';
import { auctionStatus, viewAuction } from '../../domain/auction.js';
import { EXTENSION_CAP_MS } from '../../domain/auction-rules.js';
import { AppError, ErrorCode, badInput, forbidden, notFound, unauthenticated } from '../../domain/errors.js';
import { minimumNextBid } from '../../domain/increments.js';
import { assertPositiveMoney, formatMoney } from '../../domain/money.js';
import { Prisma } from '../../generated/prisma/client.js';
import { aliasOf } from '../users/view-user.js';
import * as v from '../validate.js';
import { toBidView } from './list-bids.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, type PlaceBidCommand, type PlacedBid } from './place-bid.js';

type Deps = Pick<ServiceDeps, 'db' | 'clock' | 'metrics'>;

interface LockedAuction {
  sellerId: string;
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  startsAt: Date;
  endsAt: Date;
  scheduledEndsAt: Date;
  softCloseSeconds: number;
  startingPrice: number;
  currentPrice: number;
  bidCount: number;
  lastSeq: number;
  bidderName: string | null;
}

// 64 bidders on one auction queue for its lock and for a connection: Prisma's defaults (2 s to get
// a connection, 5 s per transaction) would turn that queue into errors instead of latency.
const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 30_000 };

/**
 * Places a bid in one Postgres transaction under the auction's row lock (SELECT ... FOR UPDATE):
 * the same answers and refusals as placeBid, with the bid persisted when it is accepted.
 */
export async function placeBidWithRowLock(deps: Deps, viewer: Viewer, input: PlaceBidCommand): Promise<PlacedBid> {
  try {
    const { replayed, ...placed } = await decideBid(deps, viewer, input);
    if (!replayed) deps.metrics.bidAccepted();
    return placed;
  } catch (error) {
    deps.metrics.bidRefused(error instanceof AppError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR);
    throw error;
  }
}

async function decideBid(deps: Deps, viewer: Viewer, input: PlaceBidCommand): Promise<PlacedBid & { replayed: boolean }> {
  if (!viewer) throw unauthenticated();
  const auctionId = v.uuid('auctionId', input.auctionId);
  assertPositiveMoney('amount', input.amount);
  if (input.maxAmount != null) throw badInput('maxAmount', 'The row-lock engine (BID_ENGINE=row-lock) places plain bids only; leave maxAmount out.');
  const idempotencyKey = v.text('idempotencyKey', input.idempotencyKey, { max: MAX_IDEMPOTENCY_KEY_LENGTH });
  const key = { auctionId, bidderId: viewer.id, idempotencyKey, amount: input.amount };

  try {
    const placed = await deps.db.$transaction((tx) => acceptUnderLock(deps, tx, viewer.id, key), TRANSACTION_OPTIONS);
    return { ...placed, replayed: false };
  } catch (error) {
    // A retried key is looked up only once the bid is refused, after the lock is released: the
    // refusal path is the common one on a busy auction, and the key's bid, if any, was committed
    // before this transaction took the lock, so the lookup cannot miss it.
    const retried = isRefusalAKeyCanExplain(error) ? await earlierBid(deps, key) : null;
    if (retried) return { ...retried, replayed: true };
    throw error;
  }
}

async function acceptUnderLock(
  deps: Deps,
  tx: Prisma.TransactionClient,
  bidderId: string,
  bid: { auctionId: string; idempotencyKey: string; amount: number },
): Promise<PlacedBid> {
  const [auction] = await tx.$queryRaw<LockedAuction[]>`
    SELECT a.seller_id AS "sellerId", a.state::text AS state, a.starts_at AS "startsAt", a.ends_at AS "endsAt",
      a.scheduled_ends_at AS "scheduledEndsAt", a.soft_close_seconds AS "softCloseSeconds", a.starting_price AS "startingPrice",
      a.current_price AS "currentPrice", a.bid_count AS "bidCount", a.last_seq AS "lastSeq", u.display_name AS "bidderName"
    FROM auctions a LEFT JOIN users u ON u.id = ${bidderId}::uuid
    WHERE a.id = ${bid.auctionId}::uuid
    FOR UPDATE OF a`;
  if (!auction) throw notFound('Auction');
  // Read once the lock is held, so bids are judged in the order they are committed.
  const now = deps.clock.now();
  const status = auctionStatus(auction, now);
  if (status !== 'ACTIVE') throw new AppError(ErrorCode.AUCTION_NOT_ACTIVE, `The auction is ${status.toLowerCase()}.`, { status });
  if (bidderId === auction.sellerId) throw forbidden('You cannot bid on your own auction.');
  const minimum = minimumNextBid(auction);
  if (bid.amount < minimum) {
    throw new AppError(ErrorCode.BID_TOO_LOW, `The bid must be at least ${formatMoney(minimum)}.`, { minimumNextBid: formatMoney(minimum) });
  }

  const bidId = randomUUID();
  const seq = auction.lastSeq + 1;
  const bidCount = auction.bidCount + 1;
  const extendedTo = softCloseEnd(auction, now.getTime());
  const endsAt = extendedTo === null ? auction.endsAt : new Date(extendedTo);
  const placed: BidView = {
    id: bidId,
    auctionId: bid.auctionId,
    bidderId,
    amount: bid.amount,
    seq,
    placedAt: now,
    bidderAlias: aliasOf(auction.bidderName ?? ''),
    sellerId: auction.sellerId,
    kind: 'PLACED',
    maxAmount: null,
  };
  const { maxAmount: _hidden, ...shown } = placed;
  const payload: BidPlacedPayload = {
    bid: { ...shown, sellerId: auction.sellerId, placedAt: now.toISOString() },
    currentPrice: bid.amount,
    minimumNextBid: minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: bid.amount, bidCount }),
    bidCount,
    endsAt: endsAt.toISOString(),
  };
  const extended: AuctionExtendedPayload = { endsAt: endsAt.toISOString() };

  await tx.bid.create({
    data: { id: bidId, auctionId: bid.auctionId, bidderId, amount: bid.amount, maxAmount: null, seq, idempotencyKey: bid.idempotencyKey, placedAt: now },
  });
  await tx.auctionEvent.createMany({
    data: [
      { auctionId: bid.auctionId, seq, type: 'BidPlaced', payload: payload as unknown as Prisma.InputJsonObject, at: now },
      ...(extendedTo === null ? [] : [{ auctionId: bid.auctionId, seq: seq + 1, type: 'AuctionExtended', payload: { ...extended }, at: now }]),
    ],
  });
  const record = await tx.auction.update({
    where: { id: bid.auctionId },
    data: { currentPrice: bid.amount, bidCount, lastSeq: extendedTo === null ? seq : seq + 1, leadingBidId: bidId, leaderId: bidderId, endsAt },
  });
  return { bid: placed, live: viewAuction(record, now) };
}

/** Refusals a retry of an accepted key would get: the bid it placed raised the minimum, or the key is taken. */
function isRefusalAKeyCanExplain(error: unknown): boolean {
  if (error instanceof AppError) return error.code === ErrorCode.BID_TOO_LOW || error.code === ErrorCode.AUCTION_NOT_ACTIVE;
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/**
 * The bid this bidder already placed with this key, or IDEMPOTENCY_KEY_REUSED for another amount.
 * As with placeBid, a retried key carries no auction state: the auction may have moved on since.
 */
async function earlierBid(
  deps: Deps,
  key: { auctionId: string; bidderId: string; idempotencyKey: string; amount: number },
): Promise<PlacedBid | null> {
  const earlier = await deps.db.bid.findUnique({
    where: { auctionId_bidderId_idempotencyKey: { auctionId: key.auctionId, bidderId: key.bidderId, idempotencyKey: key.idempotencyKey } },
    include: { bidder: { select: { displayName: true } }, auction: { select: { sellerId: true } } },
  });
  if (!earlier) return null;
  if (earlier.amount !== key.amount || earlier.maxAmount !== null) {
    throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotencyKey was already used for a different bid.');
  }
  return { bid: { ...toBidView(earlier), sellerId: earlier.auction.sellerId }, live: null };
}

/** The end a bid at `now` moves the auction to (soft close), or null: the price book's rule. */
function softCloseEnd(auction: Pick<LockedAuction, 'softCloseSeconds' | 'endsAt' | 'scheduledEndsAt'>, now: number): number | null {
  const window = auction.softCloseSeconds * 1000;
  const endsAt = auction.endsAt.getTime();
  if (window === 0 || endsAt - now > window) return null;
  const target = Math.min(now + window, auction.scheduledEndsAt.getTime() + EXTENSION_CAP_MS);
  return target > endsAt ? target : null;
}
