import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import { bidStatus, type BidStatus, type BidView } from '../../domain/bid.js';
import { getUser } from '../users/get-user.js';

/** How a bid's auction is read: batched per request by the resolvers (resolvers/loaders.ts). */
export type AuctionOf = (id: string) => Promise<AuctionView | null>;

/** The bid's standing in its auction as it is now. */
export async function bidStatusOf(auctionOf: AuctionOf, bid: BidView): Promise<BidStatus> {
  const auction = await auctionOf(bid.auctionId);
  if (!auction) throw new Error(`bid ${bid.id} refers to a missing auction ${bid.auctionId}`);
  return bidStatus(bid, auction);
}

/** The bidder, shown only to the bidder themself and to the auction's seller. */
export async function bidderOf(deps: Pick<ServiceDeps, 'db'>, auctionOf: AuctionOf, viewer: Viewer, bid: BidView) {
  if (!viewer) return null;
  if (viewer.id !== bid.bidderId) {
    const sellerId = bid.sellerId ?? (await auctionOf(bid.auctionId))?.sellerId;
    if (sellerId !== viewer.id) return null;
  }
  return getUser(deps, viewer, bid.bidderId);
}
