import { minimumNextBid } from './increments.js';
import { buyNowOffered } from './proxy-bidding.js';

export type AuctionStatus = 'SCHEDULED' | 'ACTIVE' | 'ENDED' | 'CANCELLED';
export type ReserveStatus = 'NO_RESERVE' | 'NOT_MET' | 'MET';

/** What Postgres holds of an auction (money in minor units). */
export interface AuctionRecord {
  id: string;
  sellerId: string;
  title: string;
  description: string;
  currency: string;
  startingPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
  startsAt: Date;
  endsAt: Date;
  softCloseSeconds: number;
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  cancelledAt: Date | null;
  currentPrice: number;
  bidCount: number;
  lastSeq: number;
  leadingBidId: string | null;
  leaderId: string | null;
  winnerId: string | null;
  createdAt: Date;
}

/** The live, bid-derived part of an auction: from the price book when it has it, else from Postgres. */
export interface LiveState {
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  winnerId: string | null;
  currentPrice: number;
  bidCount: number;
  lastSeq: number;
  leadingBidId: string | null;
  leaderId: string | null;
  endsAt: Date;
}

/** Everything a viewer may see of an auction, derived at one instant. */
export interface AuctionView extends AuctionRecord {
  status: AuctionStatus;
  minimumNextBid: number;
  reserveStatus: ReserveStatus;
  offeredBuyNowPrice: number | null;
}

/** Status as of `now`: only terminal states are stored, the rest follows from the clock. */
export function auctionStatus(auction: Pick<AuctionRecord, 'state' | 'startsAt' | 'endsAt'>, now: Date): AuctionStatus {
  if (auction.state === 'CANCELLED') return 'CANCELLED';
  if (auction.state === 'ENDED' || now >= auction.endsAt) return 'ENDED';
  return now < auction.startsAt ? 'SCHEDULED' : 'ACTIVE';
}

export function reserveStatus(auction: Pick<AuctionRecord, 'reservePrice' | 'currentPrice' | 'bidCount'>): ReserveStatus {
  if (auction.reservePrice === null) return 'NO_RESERVE';
  return auction.bidCount > 0 && auction.currentPrice >= auction.reservePrice ? 'MET' : 'NOT_MET';
}

/** Derives the view of an auction at `now`, with live bid state laid over the stored record. */
export function viewAuction(record: AuctionRecord, now: Date, live?: LiveState | null): AuctionView {
  const merged: AuctionRecord = live && live.lastSeq >= record.lastSeq ? { ...record, ...live } : record;
  const status = auctionStatus(merged, now);
  const offeredBuyNowPrice = (status === 'ACTIVE' || status === 'SCHEDULED') && buyNowOffered(merged) ? merged.buyNowPrice : null;
  return {
    ...merged,
    status,
    minimumNextBid: minimumNextBid(merged),
    reserveStatus: reserveStatus(merged),
    offeredBuyNowPrice,
  };
}
