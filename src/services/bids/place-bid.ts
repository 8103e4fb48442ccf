import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/clock.js';
import type { BidPlacedMessage, BidDecision } from '../ports.js';
import { AppError, badInput, forbidden, notFound, unauthenticated, unavailable } from '../../domain/errors.js';
import { assertPositiveMoney, formatMoney } from '../../domain/money.js';
import { ErrorCode } from '../../schema/error-code.js';
import * as v from '../validate.js';
import { loadIntoPriceBook } from './load-price-book.js';
import { bidViewOf } from './get-bid.js';
import { getAuction } from '../auctions/read-auctions.js';
import type { BidView } from '../../domain/bid.js';
import type { AuctionView } from '../../domain/auction.js';

export interface PlaceBidCommand {
  auctionId: string;
  amount: number;
  maxAmount?: number | null;
  idempotencyKey: string;
}

/** How long a bid may wait for the log before it is withdrawn and answered UNAVAILABLE. */
export const PUBLISH_TIMEOUT_MS = 3_000;

/**
 * Places a bid: one atomic decision in the price book, then the log; "accepted" is only ever
 * answered for a bid the log holds.
 */
export async function placeBid(deps: ServiceDeps, viewer: Viewer, input: PlaceBidCommand): Promise<{ bid: BidView; auction: AuctionView }> {
  const message = await acceptBid(deps, viewer, input);
  const [bid, auction] = await Promise.all([bidViewOf(deps, message), getAuction(deps, message.auctionId)]);
  return { bid, auction: auction! };
}

/** The decision half of placeBid: the accepted bid's log message, or the contract error. */
export async function acceptBid(deps: ServiceDeps, viewer: Viewer, input: PlaceBidCommand): Promise<BidPlacedMessage> {
  if (!viewer) throw unauthenticated();
  const auctionId = v.uuid('auctionId', input.auctionId);
  assertPositiveMoney('amount', input.amount);
  if (input.maxAmount != null) throw badInput('maxAmount', 'Automatic bidding is not offered yet; leave maxAmount out.');
  const idempotencyKey = v.text('idempotencyKey', input.idempotencyKey, { max: 100 });
  const command = { auctionId, bidderId: viewer.id, bidId: randomUUID(), amount: input.amount, maxAmount: null, idempotencyKey };

  let decision = await decide(deps, () => deps.priceBook.placeBid(command));
  if (decision.outcome === 'MISSING') {
    await loadIntoPriceBook(deps, auctionId);
    decision = await decide(deps, () => deps.priceBook.placeBid(command));
  }
  switch (decision.outcome) {
    case 'ACCEPTED':
      await publishOrWithdraw(deps, decision.message);
      return decision.message;
    case 'DUPLICATE':
      // The first attempt may still be on its way to the log: publishing again (the worker ignores
      // a known bid id) guarantees the log has it before this answer says "accepted".
      await deps.bidLog.publish(decision.message, { timeoutMs: PUBLISH_TIMEOUT_MS }).catch((error: unknown) => {
        deps.logger.warn({ err: error, bidId: decision.message.id }, 'republishing a duplicate bid failed');
        throw unavailable();
      });
      return decision.message;
    case 'MISSING':
      throw notFound('Auction');
    case 'NOT_ACTIVE':
      throw new AppError(ErrorCode.AUCTION_NOT_ACTIVE, `The auction is ${decision.status.toLowerCase()}.`, { status: decision.status });
    case 'OWN_AUCTION':
      throw forbidden('You cannot bid on your own auction.');
    case 'TOO_LOW':
      throw new AppError(ErrorCode.BID_TOO_LOW, `The bid must be at least ${formatMoney(decision.minimumNextBid)}.`, {
        minimumNextBid: formatMoney(decision.minimumNextBid),
      });
    case 'KEY_REUSED':
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotencyKey was already used for a different bid.');
  }
}

async function decide(deps: ServiceDeps, attempt: () => Promise<BidDecision>): Promise<BidDecision> {
  try {
    return await attempt();
  } catch (error) {
    deps.logger.error({ err: error }, 'price book unreachable');
    throw unavailable();
  }
}

async function publishOrWithdraw(deps: ServiceDeps, message: BidPlacedMessage): Promise<void> {
  try {
    await deps.bidLog.publish(message, { timeoutMs: PUBLISH_TIMEOUT_MS });
  } catch (error) {
    const reverted = await deps.priceBook.revert(message).catch((revertError: unknown) => {
      deps.logger.error({ err: revertError, bidId: message.id }, 'could not withdraw a bid the log refused');
      return false;
    });
    deps.logger.warn({ err: error, bidId: message.id, auctionId: message.auctionId, reverted }, 'bid log unavailable; bid withdrawn');
    throw unavailable();
  }
}
