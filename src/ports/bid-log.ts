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
