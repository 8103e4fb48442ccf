/** An auction event as subscribers receive it: a plain JSON DTO with ISO dates and its seq. */
export interface LiveAuctionEvent {
  type: 'BidPlaced' | 'AuctionExtended' | 'AuctionEnded' | 'AuctionCancelled';
  auctionId: string;
  seq: number;
  at: string;
  payload: Record<string, unknown>;
}

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

/**
 * Live fan-out to subscribers on every gateway (Redis pub/sub in production, in-process by
 * default). Delivery is at least once and in publish order per auction; subscribers drop replays by seq.
 */
export interface LiveEvents {
  /** Resolves once the events are handed to the bus. */
  publishAuctionEvents(events: LiveAuctionEvent[]): Promise<void>;
  publishOutbids(notices: LiveOutbid[]): Promise<void>;
  /** Starts listening at once; throws UNAVAILABLE when the bus cannot be reached. */
  auctionEvents(auctionId: string): Promise<AsyncIterableIterator<LiveAuctionEvent>>;
  outbids(userId: string): Promise<AsyncIterableIterator<LiveOutbid>>;
  close(): Promise<void>;
}
