import type { LiveState } from '../domain/auction.js';
import type { BidPlacedMessage } from './bid-log.js';

/** What the price book needs to know of an auction to judge bids on it. */
export interface BookEntry {
  auctionId: string;
  sellerId: string;
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  startsAt: Date;
  endsAt: Date;
  startingPrice: number;
  currentPrice: number;
  bidCount: number;
  lastSeq: number;
  leadingBidId: string | null;
  leaderId: string | null;
  leaderAmount: number | null;
  /** Bids already accepted, so that a retried idempotency key keeps its answer after a reload. */
  acceptedBids: Array<{ bidderId: string; idempotencyKey: string; message: BidPlacedMessage }>;
}

export interface BidCommand {
  auctionId: string;
  bidderId: string;
  bidId: string;
  amount: number;
  maxAmount: number | null;
  idempotencyKey: string;
  /** Answer a retried key as usual, but accept no new bid: PAUSED instead, with nothing changed. */
  pauseNewBids?: boolean;
}

export type BidDecision =
  | { outcome: 'ACCEPTED'; message: BidPlacedMessage }
  /** The same key and input as an earlier accepted bid: its message, unchanged. */
  | { outcome: 'DUPLICATE'; message: BidPlacedMessage }
  | { outcome: 'MISSING' }
  | { outcome: 'NOT_ACTIVE'; status: 'SCHEDULED' | 'ENDED' | 'CANCELLED' }
  | { outcome: 'OWN_AUCTION' }
  | { outcome: 'TOO_LOW'; minimumNextBid: number }
  | { outcome: 'KEY_REUSED' }
  /** A new bid while the caller asked for new bids to be paused; nothing was judged or changed. */
  | { outcome: 'PAUSED' };

/**
 * The live, strongly consistent state of running auctions: one atomic decision per bid, on the
 * price book's own clock. Redis in production, an in-process map by default.
 */
export interface PriceBook {
  /** Loads an auction unless it is already there; true when this call loaded it. */
  load(entry: BookEntry): Promise<boolean>;
  /**
   * Accepts or refuses a bid atomically; on acceptance assigns the next seq and records the leader.
   * An acceptance is final: there is no undo, since a bid may be in the log before its publish
   * reports failure, and later bids are judged against it at once (services/bids/bid-finisher.ts).
   */
  placeBid(command: BidCommand): Promise<BidDecision>;
  /** The live state of the auctions it holds (missing ones are absent from the map). */
  peek(auctionIds: string[]): Promise<Map<string, LiveState>>;
  /** Marks an auction cancelled so no further bid is accepted; false when it already ended. */
  cancel(auctionId: string): Promise<void>;
  /** Moves the end of an auction that has no bid yet; false when a bid got there first. */
  reschedule(auctionId: string, endsAt: Date): Promise<boolean>;
  /** A bid accepted recently, before the worker persisted it (read-your-writes). */
  recentBid(bidId: string): Promise<BidPlacedMessage | null>;
  close(): Promise<void>;
}
