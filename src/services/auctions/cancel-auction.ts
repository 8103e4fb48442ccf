import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import { CANCEL_WITH_BIDS_MIN_REMAINING_MS, SALE_CANCEL_WINDOW_MS } from '../../domain/auction-rules.js';
import { AppError, ErrorCode, forbidden, unavailable } from '../../domain/errors.js';
import * as v from '../validate.js';
import { sellersAuction } from './auction-access.js';
import { getAuction } from './read-auctions.js';
import { askPriceBook as decide, loadIntoPriceBook } from '../bids/load-price-book.js';

/**
 * Withdraws an auction, as eBay allows: while it has no bid, or with bids while more than 12 hours
 * remain; or cancels the sale of a sold auction within 30 days of its end (its payment is then
 * refunded). The price book decides atomically against bids and the close, with the next seq; the
 * AuctionCancelled message is in the log before the seller hears "cancelled", and the bid persister
 * records it (bids become CANCELLED, a paid sale is refunded by the payments job).
 */
export async function cancelAuction(
  deps: Pick<ServiceDeps, 'db' | 'clock' | 'logger' | 'priceBook' | 'bidLog' | 'bidFinisher'>,
  viewer: Viewer,
  id: string,
  reason?: string | null,
): Promise<AuctionView> {
  const auction = await sellersAuction(deps, viewer, id);
  // Recorded as cancelled: the log has its message. (Cancelled in the price book only, a retry republishes it below.)
  if (auction.cancelledAt) throw notActive('cancelled');
  // Over on the app's clock and never sold: nothing left to cancel, whatever the closing job has done yet.
  if (auction.status === 'ENDED' && !auction.winnerId) throw notActive('ended', 'Only a sold auction may be cancelled after its end, within 30 days.');
  const cancelReason = reason == null ? null : v.text('reason', reason, { min: 0, max: 500 }) || null;
  const command = {
    auctionId: auction.id,
    eventId: randomUUID(),
    reason: cancelReason,
    minRemainingWithBidsMs: CANCEL_WITH_BIDS_MIN_REMAINING_MS,
    saleCancelWindowMs: SALE_CANCEL_WINDOW_MS,
  };
  let decision = await decide(deps, () => deps.priceBook.cancel(command));
  if (decision.outcome === 'MISSING') {
    await loadIntoPriceBook(deps, auction.id);
    decision = await decide(deps, () => deps.priceBook.cancel(command));
  }
  switch (decision.outcome) {
    case 'MISSING':
      throw unavailable();
    case 'NOT_ACTIVE':
      throw notActive('ended', 'Only a sold auction may be cancelled after its end, within 30 days.');
    case 'TOO_LATE':
      throw forbidden('An auction with bids cannot be cancelled in its last 12 hours.');
    case 'CANCELLED':
      // Before answering either way, the log must hold it: an earlier request may have cancelled
      // it and stopped before publishing.
      await deps.bidFinisher.publish(decision.message);
      if (!decision.now) throw notActive('cancelled');
      break;
  }
  const latest = (await getAuction(deps, auction.id))!;
  // The persister may not have recorded it yet; the price book already stops every bid.
  return { ...latest, status: 'CANCELLED', state: 'CANCELLED', cancelledAt: latest.cancelledAt ?? new Date(decision.message.at) };
}

function notActive(status: string, detail?: string): AppError {
  return new AppError(ErrorCode.AUCTION_NOT_ACTIVE, `The auction is ${status}.${detail ? ` ${detail}` : ''}`, { status: status.toUpperCase() });
}

