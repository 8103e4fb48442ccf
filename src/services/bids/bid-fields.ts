import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import { bidStatus, type BidStatus, type BidView } from '../../domain/bid.js';
import { getAuction } from '../auctions/read-auctions.js';
import { getUser } from '../users/get-user.js';

/** The bid's standing in its auction as it is now. */
export async function bidStatusOf(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, bid: BidView): Promise<BidStatus> {
  const auction = await getAuction(deps, bid.auctionId);
  if (!auction) throw new Error(`bid ${bid.id} refers to a missing auction ${bid.auctionId}`);
  return bidStatus(bid, auction);
}

/** The bidder, shown only to the bidder themself and to the auction's seller. */
export async function bidderOf(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, viewer: Viewer, bid: BidView) {
  if (!viewer) return null;
  if (viewer.id !== bid.bidderId) {
    const sellerId = bid.sellerId ?? (await getAuction(deps, bid.auctionId))?.sellerId;
    if (sellerId !== viewer.id) return null;
  }
  return getUser(deps, viewer, bid.bidderId);
}
