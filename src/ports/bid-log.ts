import type { AuctionCancelledPayload, AuctionEndedPayload } from '../domain/events.js';

/** A bid as it travels through the log (money in minor units, dates as ISO strings). */
export interface BidPlacedMessage {
  v: 1;
  type: 'BidPlaced';
  /** The bid id: reprocessing a message with a known id changes nothing. */
  id: string;
  auctionId: string;
  seq: number;
  at: string;
  bid: {
    id: string;
    bidderId: string;
    /** The price the bid stands at. */
    amount: number;
    /** The bidder's maximum (null in messages from before automatic bidding: the amount). */
    maxAmount: number | null;
    /** What the request asked for, which a retry of its key is compared with; absent: the amount. */
    requestedAmount?: number;
    /** A Buy It Now purchase rather than a bid. */
    kind?: 'BUY_NOW';
    idempotencyKey: string;
    placedAt: string;
  };
  /** The auction after the whole decision (the automatic bid included). */
  currentPrice: number;
  bidCount: number;
  minimumNextBid: number;
  /** The end after this bid: later than before when the bid extended the auction. */
  endsAt: string;
  previousLeader: { bidId: string; bidderId: string; amount: number } | null;
  /**
   * The automatic bid the same decision placed for the other bidder: at seq - 1 the old leader's
   * maximum, spent before this bid beat it; at seq + 1 the leader answering this bid.
   */
  automatic?: AutomaticBid | null;
  /** Set when the bid came within the soft-close window and moved the end: the AuctionExtended event after the bids. */
  extension?: { seq: number; endsAt: string } | null;
  /** Set on a Buy It Now purchase: the auction ended with it, the event after the bid. */
  ended?: AuctionEndedMessage | null;
}

/** A bid the system placed for a bidder, up to their maximum. */
export interface AutomaticBid {
  id: string;
  bidderId: string;
  amount: number;
  maxAmount: number;
  seq: number;
}

/** The auction's close, decided atomically in the price book: no bid is accepted after it. */
export interface AuctionEndedMessage extends AuctionEndedPayload {
  v: 1;
  type: 'AuctionEnded';
  /** The event's id, fixed when the price book closed the auction: a republished copy carries the same. */
  id: string;
  auctionId: string;
  seq: number;
  at: string;
  /** The price and leader at the close, sold or not: the auction's persisted state moves to them. */
  currentPrice: number;
  leadingBidId: string | null;
  leaderId: string | null;
}

/** The seller withdrew the auction, or cancelled the sale after it ended. */
export interface AuctionCancelledMessage extends AuctionCancelledPayload {
  v: 1;
  type: 'AuctionCancelled';
  id: string;
  auctionId: string;
  seq: number;
  at: string;
}

/** Everything the auction log carries, keyed by auction: each message is one seq (a bid that extends, two). */
export type AuctionLogMessage = BidPlacedMessage | AuctionEndedMessage | AuctionCancelledMessage;

/** The durable, ordered bid log (Kafka in production, an in-process log by default). */
export interface BidLog {
  /**
   * Appends a message keyed by its auction and resolves once every in-sync replica has it. A
   * rejection does not mean the log lacks it (a timeout may still land): the only safe next step
   * is to publish the same message again, which the persisting worker ignores by id and seq.
   */
  publish(message: AuctionLogMessage, options: { timeoutMs: number }): Promise<void>;
  /**
   * Whether the persisting consumer has committed everything this auction's partition held when
   * asked. With `waitMs`, waits up to that long for it rather than answering false at once: under
   * steady load a partition is never empty, but what it held at one moment is persisted soon after.
   */
  isCaughtUp(auctionId: string, options?: { waitMs?: number }): Promise<boolean>;
  close(): Promise<void>;
}
