import type { ReserveStatus } from './auction.js';
import type { BidKind } from './bid.js';

/**
 * The events of an auction, one gap-free seq sequence per auction across every kind. They travel as
 * plain JSON (money in minor units, times as ISO strings): through the log, into Postgres
 * (auction_events.payload), over the live bus and into `Auction.events` and `auctionEvents`.
 */
interface EventOf<T extends string, P> {
  type: T;
  auctionId: string;
  seq: number;
  at: string;
  payload: P;
}

export interface BidPlacedPayload {
  /** The bid as every subscriber needs it; sellerId lets the seller see the bidder without a lookup. */
  bid: {
    id: string;
    auctionId: string;
    bidderId: string;
    bidderAlias: string;
    sellerId: string | undefined;
    amount: number;
    seq: number;
    placedAt: string;
    /** Absent in events stored before automatic bidding: PLACED. */
    kind?: BidKind;
  };
  currentPrice: number;
  minimumNextBid: number;
  bidCount: number;
  endsAt: string;
}

export interface AuctionExtendedPayload {
  endsAt: string;
}

export interface AuctionEndedPayload {
  sold: boolean;
  finalPrice: number | null;
  winnerId: string | null;
  winningBidId: string | null;
  reserveStatus: ReserveStatus;
  bidCount: number;
}

export interface AuctionCancelledPayload {
  reason: string | null;
  /** A sale cancelled after the auction ended (a paid one is refunded), rather than a running auction. */
  afterEnd: boolean;
}

export type BidPlacedEvent = EventOf<'BidPlaced', BidPlacedPayload>;
export type AuctionExtendedEvent = EventOf<'AuctionExtended', AuctionExtendedPayload>;
export type AuctionEndedEvent = EventOf<'AuctionEnded', AuctionEndedPayload>;
export type AuctionCancelledEvent = EventOf<'AuctionCancelled', AuctionCancelledPayload>;

export type AuctionEvent = BidPlacedEvent | AuctionExtendedEvent | AuctionEndedEvent | AuctionCancelledEvent;
export type AuctionEventType = AuctionEvent['type'];
