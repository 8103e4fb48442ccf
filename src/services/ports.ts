import type { LiveState } from '../domain/auction.js';

/** A bid as it travels through the log (money in minor units, dates as ISO strings). */
export interface BidPlacedMessage {
  v: 1;
  type: 'BidPlaced';
  /** The bid id: reprocessing a message with a known id changes nothing. */
  id: string;
  auctionId: string;
  seq: number;
  at: string;
  bid: { id: string; bidderId: string; amount: number; maxAmount: number | null; idempotencyKey: string; placedAt: string };
  currentPrice: number;
  bidCount: number;
  minimumNextBid: number;
  endsAt: string;
  previousLeader: { bidId: string; bidderId: string; amount: number } | null;
}

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

/** The price book entry of an auction that has no bid yet. */
export function freshBookEntry(auction: {
  id: string;
  sellerId: string;
  state: BookEntry['state'];
  startsAt: Date;
  endsAt: Date;
  startingPrice: number;
}): BookEntry {
  return {
    auctionId: auction.id,
    sellerId: auction.sellerId,
    state: auction.state,
    startsAt: auction.startsAt,
    endsAt: auction.endsAt,
    startingPrice: auction.startingPrice,
    currentPrice: auction.startingPrice,
    bidCount: 0,
    lastSeq: 0,
    leadingBidId: null,
    leaderId: null,
    leaderAmount: null,
    acceptedBids: [],
  };
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

/** The durable, ordered bid log (Kafka in production, an in-process log by default). */
export interface BidLog {
  /**
   * Appends a message keyed by its auction and resolves once every in-sync replica has it. A
   * rejection does not mean the log lacks it (a timeout may still land): the only safe next step
   * is to publish the same message again, which the persisting worker ignores by bid id.
   */
  publish(message: BidPlacedMessage, options: { timeoutMs: number }): Promise<void>;
  /** Whether the persisting consumer has committed everything in this auction's partition. */
  isCaughtUp(auctionId: string): Promise<boolean>;
  close(): Promise<void>;
}

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

export interface SmsMessage {
  to: string;
  body: string;
  /** Where the provider reports delivery status. */
  statusCallback?: string;
}

/**
 * A provider refused or failed a message; `permanent` ones must not be retried. `mayHaveBeenSent`
 * marks a request that got no answer after it left (a timeout, a reset): retrying could text twice.
 */
export class SmsError extends Error {
  override name = 'SmsError';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code?: string,
    readonly mayHaveBeenSent = false,
  ) {
    super(message);
  }
}

/** Sends text messages (Twilio in production; absent when no provider is configured). */
export interface SmsSender {
  /** Sends one message and resolves with the provider's message id; throws SmsError. */
  send(message: SmsMessage): Promise<{ providerMessageId: string }>;
  /** Whether a status callback was really signed by the provider. */
  verifyCallback(request: { signature: string | undefined; url: string; params: Record<string, string> }): boolean;
}

/** What the use cases count for operators (Prometheus in production); the domain never sees it. */
export interface UseCaseMetrics {
  /** A new bid the log holds; the replay of a retried idempotency key is not counted again. */
  bidAccepted(): void;
  /** A bid that was not accepted, by the contract code its bidder got. */
  bidRefused(code: string): void;
  /** What became of one outbid SMS notice (SENT, SUPPRESSED, FAILED, ...). */
  outbidSms(outcome: string): void;
  /** A bid-log message the bid worker dead-lettered: an accepted bid that will not be persisted. */
  bidDeadLettered(cause: DeadLetterCause): void;
}

/** Why the bid worker dead-lettered a message: it could not be read, or Postgres refused its data. */
export type DeadLetterCause = 'invalid' | 'refused';
