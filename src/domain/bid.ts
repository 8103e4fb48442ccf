import type { AuctionView } from './auction.js';

export type BidStatus = 'LEADING' | 'OUTBID' | 'WON' | 'LOST' | 'CANCELLED';

/** Placed by the bidder's request, by the system up to the bidder's maximum, or a Buy It Now purchase. */
export type BidKind = 'PLACED' | 'AUTOMATIC' | 'BUY_NOW';

export interface BidView {
  id: string;
  auctionId: string;
  bidderId: string;
  amount: number;
  seq: number;
  placedAt: Date;
  bidderAlias: string;
  kind: BidKind;
  /** The bidder's secret maximum as it stood with this bid: only the bidder may see it. */
  maxAmount: number | null;
  /** The auction's seller, when the source already knows it (saves a lookup per viewer). */
  sellerId?: string;
}

/** A bid's standing within its auction as the auction is now. */
export function bidStatus(bid: Pick<BidView, 'id'>, auction: Pick<AuctionView, 'status' | 'leadingBidId' | 'reserveStatus'>): BidStatus {
  const leading = auction.leadingBidId === bid.id;
  switch (auction.status) {
    case 'CANCELLED':
      return 'CANCELLED';
    case 'ENDED':
      return leading && auction.reserveStatus !== 'NOT_MET' ? 'WON' : 'LOST';
    default:
      return leading ? 'LEADING' : 'OUTBID';
  }
}
