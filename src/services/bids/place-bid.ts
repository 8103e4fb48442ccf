import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { BidPlacedMessage } from '../../ports/bid-log.js';
import { AppError, ErrorCode, badInput, forbidden, notFound, unauthenticated, unavailable } from '../../domain/errors.js';
import { assertPositiveMoney, formatMoney } from '../../domain/money.js';
import * as v from '../validate.js';
import { askPriceBook as decide, loadIntoPriceBook, persistedBidMessage } from './load-price-book.js';
import type { BidDecision } from '../../ports/price-book.js';
import { leadingBidOf, lastSeqOf } from './decision-bids.js';
import { bidViewOf } from './get-bid.js';
import type { BidView } from '../../domain/bid.js';
import type { AuctionView } from '../../domain/auction.js';

export interface PlaceBidCommand {
  auctionId: string;
  amount: number;
  maxAmount?: number | null;
  idempotencyKey: string;
}

/** The longest idempotencyKey, in UTF-16 code units. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 100;

/** The auction's fields an accepted bid's log message carries, as the decision left them. */
export type LiveAuctionView = Pick<AuctionView, 'id' | 'status' | 'currentPrice' | 'bidCount' | 'minimumNextBid' | 'endsAt' | 'leadingBidId' | 'lastSeq'>;

/** The fields of LiveAuctionView as the schema names them: a selection of only these needs no read. */
export const LIVE_AUCTION_FIELDS: ReadonlySet<string> = new Set(['id', 'status', 'currentPrice', 'bidCount', 'minimumNextBid', 'endsAt']);

export interface PlacedBid {
  bid: BidView;
  /** The auction right after the decision; null for a retried key, whose auction may have moved on since. */
  live: LiveAuctionView | null;
}

/**
 * Places a bid: one atomic decision in the price book, then the log; "accepted" is only ever
 * answered for a bid the log holds, and UNAVAILABLE only when nothing was accepted. Nothing is read
 * after the decision: the price book's answer carries the bid and the auction's new price, and
 * the bidder's name comes with the signed-in viewer.
 */
export async function placeBid(
  deps: Pick<ServiceDeps, 'db' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher' | 'metrics'>,
  viewer: Viewer,
  input: PlaceBidCommand,
): Promise<PlacedBid> {
  const { message, replayed } = await acceptBid(deps, viewer, input);
  const bid = await bidViewOf(deps, message, { displayName: viewer?.displayName });
  return { bid, live: replayed ? null : liveAuctionAfter(message) };
}

/** The auction as an accepted bid left it: open, led by the decision's last bid (an automatic answer, maybe). */
function liveAuctionAfter(message: BidPlacedMessage): LiveAuctionView {
  return {
    id: message.auctionId,
    status: 'ACTIVE',
    currentPrice: message.currentPrice,
    bidCount: message.bidCount,
    minimumNextBid: message.minimumNextBid,
    endsAt: new Date(message.endsAt),
    leadingBidId: leadingBidOf(message).id,
    lastSeq: lastSeqOf(message),
  };
}

/** The decision half of placeBid: the accepted bid's log message (and whether it was a retried key), or the contract error. */
export async function acceptBid(
  deps: Pick<ServiceDeps, 'db' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher' | 'metrics'>,
  viewer: Viewer,
  input: PlaceBidCommand,
): Promise<{ message: BidPlacedMessage; replayed: boolean }> {
  try {
    const decided = await decideBid(deps, viewer, input);
    if (!decided.replayed) deps.metrics.bidAccepted();
    return decided;
  } catch (error) {
    deps.metrics.bidRefused(error instanceof AppError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR);
    throw error;
  }
}

async function decideBid(
  deps: Pick<ServiceDeps, 'db' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher'>,
  viewer: Viewer,
  input: PlaceBidCommand,
): Promise<{ message: BidPlacedMessage; replayed: boolean }> {
  if (!viewer) throw unauthenticated();
  const auctionId = v.uuid('auctionId', input.auctionId);
  assertPositiveMoney('amount', input.amount);
  const maxAmount = input.maxAmount ?? null;
  if (maxAmount !== null) {
    assertPositiveMoney('maxAmount', maxAmount);
    if (maxAmount < input.amount) throw badInput('maxAmount', 'maxAmount must not be below amount.');
  }
  // Everything the worker and Postgres would refuse is refused here, before the price book accepts
  // the bid: an accepted bid that cannot be persisted is a lost bid and a gap in the auction's seq.
  const idempotencyKey = v.text('idempotencyKey', input.idempotencyKey, { max: MAX_IDEMPOTENCY_KEY_LENGTH });
  const command = {
    auctionId,
    bidderId: viewer.id,
    bidId: randomUUID(),
    automaticBidId: randomUUID(),
    amount: input.amount,
    maxAmount,
    idempotencyKey,
    // See bid-finisher.ts: a bid accepted now could only wait with the ones already waiting.
    pauseNewBids: deps.bidFinisher.failing,
  };
  const decision = await judge(deps, auctionId, () => deps.priceBook.placeBid(command));
  if (decision.outcome === 'TOO_LOW') {
    throw new AppError(ErrorCode.BID_TOO_LOW, `The bid must be at least ${formatMoney(decision.minimumNextBid)}.`, {
      minimumNextBid: formatMoney(decision.minimumNextBid),
    });
  }
  return finish(deps, decision, { auctionId, bidderId: viewer.id, idempotencyKey });
}

/** Asks the price book, loading the auction into it first when it does not hold it. */
export async function judge<D extends { outcome: string }>(
  deps: Pick<ServiceDeps, 'db' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher'>,
  auctionId: string,
  ask: () => Promise<D>,
): Promise<D> {
  const decision = await decide(deps, ask);
  if (decision.outcome !== 'MISSING') return decision;
  await loadIntoPriceBook(deps, auctionId);
  return decide(deps, ask);
}

/**
 * What placing a bid and buying now answer alike: an accepted decision once the log holds it (a
 * retried key's as well), or the contract's error for a refusal.
 */
export async function finish(
  deps: Pick<ServiceDeps, 'db' | 'bidFinisher'>,
  decision: Exclude<BidDecision, { outcome: 'TOO_LOW' }>,
  key: { auctionId: string; bidderId: string; idempotencyKey: string },
): Promise<{ message: BidPlacedMessage; replayed: boolean }> {
  switch (decision.outcome) {
    case 'ACCEPTED':
      await deps.bidFinisher.publish(decision.message);
      return { message: decision.message, replayed: false };
    case 'DUPLICATE':
      // The first attempt may still be on its way to the log, or lost with a gateway that stopped:
      // publishing again (the worker ignores a known bid id) guarantees the log has it before this
      // answer says "accepted".
      await deps.bidFinisher.publish(decision.message);
      return { message: decision.message, replayed: true };
    case 'DUPLICATE_PERSISTED':
      // Postgres holds it, so the log has it: the answer comes from there, with nothing republished.
      return { message: await persistedBidMessage(deps, { ...key, seq: decision.seq }), replayed: true };
    case 'PAUSED':
      throw unavailable('The bid log is unavailable; nothing was accepted. Retry with the same idempotencyKey.');
    case 'MISSING':
      throw notFound('Auction');
    case 'NOT_ACTIVE':
      throw new AppError(ErrorCode.AUCTION_NOT_ACTIVE, `The auction is ${decision.status.toLowerCase()}.`, { status: decision.status });
    case 'OWN_AUCTION':
      throw forbidden('You cannot bid on your own auction.');
    case 'KEY_REUSED':
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotencyKey was already used for a different request.');
  }
}
