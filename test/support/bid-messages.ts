import { randomUUID } from 'node:crypto';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';

/** A well-formed BidPlaced log message for the seq-th bid on an auction, by a new bidder, now. */
export function bidPlacedNow(auctionId: string, seq: number): BidPlacedMessage {
  const id = randomUUID();
  const now = new Date().toISOString();
  return {
    v: 1,
    type: 'BidPlaced',
    id,
    auctionId,
    seq,
    at: now,
    bid: { id, bidderId: randomUUID(), amount: 1000 + seq, maxAmount: null, idempotencyKey: id, placedAt: now },
    currentPrice: 1000 + seq,
    bidCount: seq,
    minimumNextBid: 1100 + seq,
    endsAt: now,
    previousLeader: null,
  };
}
