import type { LiveState } from '../../domain/auction.js';
import { minimumNextBid } from '../../domain/increments.js';
import type { BidCommand, BidDecision, BookEntry, PriceBook } from '../../ports/price-book.js';
import type { BidPlacedMessage } from '../../ports/bid-log.js';

export interface MemoryPriceBookOptions {
  /** Epoch milliseconds: the one clock bids are judged against, as the Redis server's is there. */
  clock?: () => number;
  recentBidTtlSeconds?: number;
}

interface Auction extends Omit<BookEntry, 'acceptedBids'> {
  /** bidderId + '\n' + idempotencyKey -> the message the key was accepted with. */
  keys: Map<string, BidPlacedMessage>;
}

const keyField = (bidderId: string, idempotencyKey: string) => `${bidderId}\n${idempotencyKey}`;

/**
 * The in-process price book, used when no Redis is configured. It mirrors the Redis scripts
 * decision for decision; each method runs without awaiting, so it is as atomic as a script.
 * Messages are copied in and out so no caller can alter what the book holds.
 */
export function createMemoryPriceBook(options: MemoryPriceBookOptions = {}): PriceBook {
  const { clock = Date.now, recentBidTtlSeconds = 600 } = options;
  const auctions = new Map<string, Auction>();
  const recent = new Map<string, { message: BidPlacedMessage; expiresAt: number }>();

  function placeBid(command: BidCommand): BidDecision {
    const auction = auctions.get(command.auctionId);
    if (!auction) return { outcome: 'MISSING' };

    const field = keyField(command.bidderId, command.idempotencyKey);
    const earlier = auction.keys.get(field);
    if (earlier) {
      const same = earlier.bid.amount === command.amount && earlier.bid.maxAmount === command.maxAmount;
      return same ? { outcome: 'DUPLICATE', message: structuredClone(earlier) } : { outcome: 'KEY_REUSED' };
    }
    if (command.pauseNewBids) return { outcome: 'PAUSED' };

    const now = clock();
    if (auction.state !== 'OPEN') return { outcome: 'NOT_ACTIVE', status: auction.state };
    if (now < auction.startsAt.getTime()) return { outcome: 'NOT_ACTIVE', status: 'SCHEDULED' };
    if (now >= auction.endsAt.getTime()) return { outcome: 'NOT_ACTIVE', status: 'ENDED' };
    if (command.bidderId === auction.sellerId) return { outcome: 'OWN_AUCTION' };
    const minimum = minimumNextBid(auction);
    if (command.amount < minimum) return { outcome: 'TOO_LOW', minimumNextBid: minimum };

    const at = new Date(now).toISOString();
    const previousLeader =
      auction.leadingBidId === null
        ? null
        : { bidId: auction.leadingBidId, bidderId: auction.leaderId!, amount: auction.leaderAmount! };
    Object.assign(auction, {
      currentPrice: command.amount,
      bidCount: auction.bidCount + 1,
      lastSeq: auction.lastSeq + 1,
      leadingBidId: command.bidId,
      leaderId: command.bidderId,
      leaderAmount: command.amount,
    });
    const message: BidPlacedMessage = {
      v: 1,
      type: 'BidPlaced',
      id: command.bidId,
      auctionId: command.auctionId,
      seq: auction.lastSeq,
      at,
      bid: {
        id: command.bidId,
        bidderId: command.bidderId,
        amount: command.amount,
        maxAmount: command.maxAmount,
        idempotencyKey: command.idempotencyKey,
        placedAt: at,
      },
      currentPrice: auction.currentPrice,
      bidCount: auction.bidCount,
      minimumNextBid: minimumNextBid(auction),
      endsAt: auction.endsAt.toISOString(),
      previousLeader,
    };
    auction.keys.set(field, message);
    // Insertion order is expiry order, so the expired copies are all at the front.
    for (const [id, held] of recent) {
      if (held.expiresAt > now) break;
      recent.delete(id);
    }
    recent.set(message.id, { message, expiresAt: now + recentBidTtlSeconds * 1000 });
    return { outcome: 'ACCEPTED', message: structuredClone(message) };
  }

  return {
    async load({ acceptedBids, ...entry }) {
      if (auctions.has(entry.auctionId)) return false;
      const keys = new Map(acceptedBids.map((b) => [keyField(b.bidderId, b.idempotencyKey), structuredClone(b.message)]));
      auctions.set(entry.auctionId, { ...structuredClone(entry), keys });
      return true;
    },

    placeBid: async (command) => placeBid(command),

    async peek(auctionIds) {
      const live = new Map<string, LiveState>();
      for (const id of auctionIds) {
        const a = auctions.get(id);
        if (!a) continue;
        const { currentPrice, bidCount, lastSeq, leadingBidId, leaderId } = a;
        live.set(id, { currentPrice, bidCount, lastSeq, leadingBidId, leaderId, endsAt: new Date(a.endsAt) });
      }
      return live;
    },

    async cancel(auctionId) {
      const auction = auctions.get(auctionId);
      if (auction) auction.state = 'CANCELLED';
    },

    async reschedule(auctionId, endsAt) {
      const auction = auctions.get(auctionId);
      // Nothing held here: the database is then the only record, so there is nothing to refuse.
      if (!auction) return true;
      if (auction.bidCount !== 0) return false;
      auction.endsAt = new Date(endsAt);
      return true;
    },

    async recentBid(bidId) {
      const held = recent.get(bidId);
      return held && held.expiresAt > clock() ? structuredClone(held.message) : null;
    },

    async close() {},
  };
}
