import type { LiveState } from '../domain/auction.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, BidPlacedMessage } from './bid-log.js';

/** What the price book needs to know of an auction to judge bids on it. */
export interface BookEntry {
  auctionId: string;
  sellerId: string;
  state: 'OPEN' | 'ENDED' | 'CANCELLED';
  startsAt: Date;
  /** The effective end: a bid in the soft-close window moves it. */
  endsAt: Date;
  /** The end the seller set; extensions stop 24 hours after it. */
  scheduledEndsAt: Date;
  softCloseSeconds: number;
  startingPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
  currentPrice: number;
  bidCount: number;
  lastSeq: number;
  leadingBidId: string | null;
  leaderId: string | null;
  /** The leader's secret maximum (null without a leader); the price when they set none above it. */
  leaderMaxAmount: number | null;
  /** The AuctionEnded or AuctionCancelled message that closed the auction, kept so a retry republishes it. */
  finalMessage: AuctionEndedMessage | AuctionCancelledMessage | null;
  /**
   * Bids already accepted and persisted, so that a retried idempotency key keeps its answer after a
   * reload: what a retry is compared with, and the seq that finds the bid in Postgres.
   */
  acceptedBids: AcceptedBid[];
}

export interface AcceptedBid {
  bidderId: string;
  idempotencyKey: string;
  /** What the request asked for: the amount, and the maximum when above it. */
  amount: number;
  maxAmount: number | null;
  /** A Buy It Now purchase (at `amount`), not a bid. */
  buyNow?: boolean;
  seq: number;
}

export interface BidCommand {
  auctionId: string;
  bidderId: string;
  bidId: string;
  /** The id of the automatic bid the decision may place for the other bidder (absent: a new one). */
  automaticBidId?: string;
  amount: number;
  /** An automatic bid's maximum; null (or the amount) for a plain bid. */
  maxAmount: number | null;
  idempotencyKey: string;
  /** Answer a retried key as usual, but accept no new bid: PAUSED instead, with nothing changed. */
  pauseNewBids?: boolean;
}

export interface BuyNowCommand {
  auctionId: string;
  bidderId: string;
  /** The purchase's bid. */
  bidId: string;
  /** The AuctionEnded event's id. */
  eventId: string;
  idempotencyKey: string;
  pauseNewBids?: boolean;
}

export type BidDecision =
  | { outcome: 'ACCEPTED'; message: BidPlacedMessage }
  /** The same key and input as an earlier accepted bid not yet known to be persisted: its message, unchanged. */
  | { outcome: 'DUPLICATE'; message: BidPlacedMessage }
  /** The same key and input as an earlier accepted bid that Postgres holds: its seq there. */
  | { outcome: 'DUPLICATE_PERSISTED'; seq: number }
  | { outcome: 'MISSING' }
  | { outcome: 'NOT_ACTIVE'; status: 'SCHEDULED' | 'ENDED' | 'CANCELLED' }
  | { outcome: 'OWN_AUCTION' }
  | { outcome: 'TOO_LOW'; minimumNextBid: number }
  | { outcome: 'KEY_REUSED' }
  /** A new bid while the caller asked for new bids to be paused; nothing was judged or changed. */
  | { outcome: 'PAUSED' };

/** The purchase is a bid whose message carries the AuctionEnded it caused (`message.ended`). */
export type BuyNowDecision =
  | Exclude<BidDecision, { outcome: 'TOO_LOW' }>
  /** The auction has no Buy It Now price, or it is no longer offered. */
  | { outcome: 'NOT_OFFERED' };

export type CloseDecision =
  | { outcome: 'MISSING' }
  /** The auction ended now (`now`), or earlier: the message to publish (the same one every time). */
  | { outcome: 'ENDED'; message: AuctionEndedMessage; now: boolean }
  /** Its end is later than the price book's clock (a bid extended it): try again at endsAt. */
  | { outcome: 'NOT_DUE'; endsAt: Date }
  | { outcome: 'CANCELLED'; message: AuctionCancelledMessage };

export interface CancelCommand {
  auctionId: string;
  eventId: string;
  reason: string | null;
  /** With bids, a running auction may be withdrawn only while more than this remains. */
  minRemainingWithBidsMs: number;
  /** How long after the end a sold auction's sale may still be cancelled. */
  saleCancelWindowMs: number;
}

export type CancelDecision =
  | { outcome: 'MISSING' }
  /** Cancelled now, or earlier (the same message): publish it. */
  | { outcome: 'CANCELLED'; message: AuctionCancelledMessage; now: boolean }
  | { outcome: 'NOT_ACTIVE'; status: 'ENDED' }
  /** Bids exist and the end is too near to withdraw the auction. */
  | { outcome: 'TOO_LATE'; endsAt: Date };

export interface PersistedEntry {
  auctionId: string;
  /** The highest seq of the auction's log that is now persisted. */
  seq: number;
  bidIds: string[];
}

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
  /** Buys the item at its Buy It Now price and ends the auction, atomically, while that is offered. */
  buyNow(command: BuyNowCommand): Promise<BuyNowDecision>;
  /** The live state of the auctions it holds (missing ones are absent from the map). */
  peek(auctionIds: string[]): Promise<Map<string, LiveState>>;
  /**
   * Ends the auction if its end has come on the price book's clock: from then on no bid is
   * accepted, and every call answers with the same AuctionEnded message (its seq and id fixed).
   */
  close(auctionId: string, eventId: string): Promise<CloseDecision>;
  /** Cancels a running auction (or the sale of a sold one, within the window) atomically with its seq. */
  cancel(command: CancelCommand): Promise<CancelDecision>;
  /** Changes what the seller may change of an auction that has no bid yet; false when a bid got there first. */
  reschedule(auctionId: string, change: { endsAt: Date; reservePrice: number | null; buyNowPrice: number | null }): Promise<boolean>;
  /** A bid accepted recently, before the worker persisted it (read-your-writes). */
  recentBid(bidId: string): Promise<BidPlacedMessage | null>;
  /**
   * The persister has stored these auctions' log up to `seq` and these bids: each held book's
   * persisted seq moves up to it (never down), and what was kept only until then (the bids' full
   * messages, their read-your-writes copies) is dropped. Books not held are left absent.
   */
  markPersisted(entries: PersistedEntry[]): Promise<void>;
  /**
   * Drops the auction if untouched for `idleSeconds` and everything it accepted is persisted,
   * atomically with that check; true when it did. Its next use rebuilds it from Postgres.
   */
  evict(auctionId: string, options: { idleSeconds: number }): Promise<boolean>;
  /**
   * One step of a pass over the books held, evicting the idle, persisted ones among about `count`
   * of them. A pass starts with cursor '0' and ends when '0' comes back.
   */
  sweep(cursor: string, options: { idleSeconds: number; count: number }): Promise<{ cursor: string; evicted: string[] }>;
  /** Releases the book's connection. */
  dispose(): Promise<void>;
}
