import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import * as v from '../validate.js';
import { assertNotOver, sellersAuction } from './auction-access.js';
import { getAuction } from './read-auctions.js';

/**
 * Withdraws a scheduled or running auction; ended or cancelled ones are AUCTION_NOT_ACTIVE.
 * If the database write fails after the price book stopped bidding, a retry completes it.
 */
export async function cancelAuction(
  deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>,
  viewer: Viewer,
  id: string,
  reason?: string | null,
): Promise<AuctionView> {
  const auction = await sellersAuction(deps, viewer, id);
  assertNotOver(auction);
  const cancelReason = reason == null ? null : v.text('reason', reason, { min: 0, max: 500 }) || null;
  const now = deps.clock.now();
  // The price book first: from here on no bid is accepted, whatever happens to the write below.
  await deps.priceBook.cancel(auction.id);
  const updated = await deps.db.auction.updateMany({
    where: { id: auction.id, state: 'OPEN', endsAt: { gt: now } },
    data: { state: 'CANCELLED', cancelledAt: now, cancelReason },
  });
  const latest = (await getAuction(deps, auction.id))!;
  if (updated.count === 0) assertNotOver(latest);
  return latest;
}
