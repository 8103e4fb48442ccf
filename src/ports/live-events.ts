import type { AuctionEvent } from '../domain/events.js';

/** An auction event as subscribers receive it: a plain JSON DTO with ISO dates and its seq. */
export type LiveAuctionEvent = AuctionEvent;

/** A bid of `userId` that stopped leading, as the outbid subscription receives it. */
export interface LiveOutbid {
  userId: string;
  auctionId: string;
  /** The seq of the bid that took the lead: with auctionId, what makes a replay recognisable. */
  seq: number;
  yourBidId: string;
  currentPrice: number;
  minimumNextBid: number;
  at: string;
}

/** What a lifecycle notice tells its user: an auction of theirs won, sold, unsold or cancelled, or a payment overdue. */
export type NoticeKind = 'WON' | 'SOLD' | 'UNSOLD' | 'CANCELLED' | 'PAYMENT_OVERDUE';

/** A lifecycle notice for `userId`, as the notices subscription receives it. */
export interface LiveNotice {
  userId: string;
  kind: NoticeKind;
  auctionId: string;
  /** The seq of the auction event it is about: with auctionId and kind, what makes a replay recognisable. */
  seq: number;
  /** The price it is about, in minor units; null when there is none (a cancellation, an auction without bids). */
  amount: number | null;
  at: string;
}

/**
 * Live fan-out to subscribers on every gateway (Redis pub/sub in production, in-process by
 * default). Delivery is at least once and in publish order per auction; subscribers drop replays by seq.
 */
export interface LiveEvents {
  /** Resolves once the events are handed to the bus. */
  publishAuctionEvents(events: LiveAuctionEvent[]): Promise<void>;
  publishOutbids(notices: LiveOutbid[]): Promise<void>;
  publishNotices(notices: LiveNotice[]): Promise<void>;
  /** Starts listening at once; throws UNAVAILABLE when the bus cannot be reached. */
  auctionEvents(auctionId: string): Promise<AsyncIterableIterator<LiveAuctionEvent>>;
  outbids(userId: string): Promise<AsyncIterableIterator<LiveOutbid>>;
  notices(userId: string): Promise<AsyncIterableIterator<LiveNotice>>;
  close(): Promise<void>;
}
