import { randomUUID } from 'node:crypto';
import type { LiveState } from '../../domain/auction.js';
import { bidIncrement, minimumNextBid } from '../../domain/increments.js';
import type { BidCommand, BidDecision, BookEntry, BuyNowCommand, BuyNowDecision, CancelCommand, CancelDecision, CloseDecision, PriceBook } from '../../ports/price-book.js';
import { buyNowOffered, decideProxyBid, maximumAbove } from '../../domain/proxy-bidding.js';
import { bidIdsOf } from '../../services/bids/decision-bids.js';
import type { AuctionEndedMessage, AuctionCancelledMessage, BidPlacedMessage } from '../../ports/bid-log.js';
import { EXTENSION_CAP_MS } from '../../domain/auction-rules.js';
import { reserveStatus } from '../../domain/auction.js';

export interface MemoryPriceBookOptions {
  /** Epoch milliseconds: the one clock bids are judged against, as the Redis server's is there. */
  clock?: () => number;
  recentBidTtlSeconds?: number;
}

interface Auction extends Omit<BookEntry, 'acceptedBids'> {
  winnerId: string | null;
  /** bidderId + '\n' + idempotencyKey -> what a retry of the key is compared with and answered. */
  keys: Map<string, { amount: number; tag: string; seq: number }>;
  /** seq -> the message of an accepted bid not yet known to be persisted. */
  unpersisted: Map<number, BidPlacedMessage>;
  persistedSeq: number;
  /** When anything last used it, on the book's clock: what eviction measures idleness by. */
  touchedAt: number;
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

  /** The auction, marked as used now, as any access to a Redis key does. */
  function touch(auctionId: string): Auction | undefined {
    const auction = auctions.get(auctionId);
    if (auction) auction.touchedAt = clock();
    return auction;
  }

  /** The checks placing a bid and buying now share, before the judgement: null to go on. */
  function prelude(auction: Auction | undefined, command: { bidderId: string; idempotencyKey: string; pauseNewBids?: boolean }, request: { amount: number; tag: string }) {
    if (!auction) return { outcome: 'MISSING' } as const;
    const earlier = auction.keys.get(keyField(command.bidderId, command.idempotencyKey));
    if (earlier) {
      if (earlier.amount !== request.amount || earlier.tag !== request.tag) return { outcome: 'KEY_REUSED' } as const;
      const message = auction.unpersisted.get(earlier.seq);
      return message ? ({ outcome: 'DUPLICATE', message: structuredClone(message) } as const) : ({ outcome: 'DUPLICATE_PERSISTED', seq: earlier.seq } as const);
    }
    if (command.pauseNewBids) return { outcome: 'PAUSED' } as const;
    const now = clock();
    if (auction.state !== 'OPEN') return { outcome: 'NOT_ACTIVE', status: auction.state } as const;
    if (now < auction.startsAt.getTime()) return { outcome: 'NOT_ACTIVE', status: 'SCHEDULED' } as const;
    if (now >= auction.endsAt.getTime()) return { outcome: 'NOT_ACTIVE', status: 'ENDED' } as const;
    if (command.bidderId === auction.sellerId) return { outcome: 'OWN_AUCTION' } as const;
    return null;
  }

  /** Records an accepted decision's message: its key's record, the copy a retry republishes, the read-your-writes copies. */
  function remember(auction: Auction, command: { bidderId: string; idempotencyKey: string }, request: { amount: number; tag: string }, message: BidPlacedMessage) {
    auction.keys.set(keyField(command.bidderId, command.idempotencyKey), { ...request, seq: message.seq });
    auction.unpersisted.set(message.seq, message);
    const now = clock();
    // Insertion order is expiry order, so the expired copies are all at the front.
    for (const [id, held] of recent) {
      if (held.expiresAt > now) break;
      recent.delete(id);
    }
    for (const id of bidIdsOf(message)) recent.set(id, { message, expiresAt: now + recentBidTtlSeconds * 1000 });
  }

  const previousLeaderOf = (auction: Auction) =>
    auction.leadingBidId === null ? null : { bidId: auction.leadingBidId, bidderId: auction.leaderId!, amount: auction.currentPrice };

  function placeBid(command: BidCommand): BidDecision {
    const auction = touch(command.auctionId);
    const maxAmount = maximumAbove(command.amount, command.maxAmount);
    const request = { amount: command.amount, tag: maxAmount === null ? '' : String(maxAmount) };
    const refused = prelude(auction, command, request);
    if (refused) return refused;
    const book = auction!;
    const leader = book.leaderId === null ? null : { bidderId: book.leaderId, maxAmount: book.leaderMaxAmount ?? book.currentPrice };
    const decision = decideProxyBid({ ...book, leader }, { bidderId: command.bidderId, amount: command.amount, maxAmount: maxAmount ?? command.amount });
    if (decision.outcome === 'TOO_LOW') return decision;

    const now = clock();
    const at = new Date(now).toISOString();
    const automaticBidId = command.automaticBidId ?? randomUUID();
    const ids = decision.bids.map((_, i) => (i === decision.own ? command.bidId : automaticBidId));
    const firstSeq = book.lastSeq + 1;
    const seqOf = (i: number) => firstSeq + i;
    const mine = decision.bids[decision.own]!;
    const otherIndex = decision.bids.findIndex((_, i) => i !== decision.own);
    const other = decision.bids[otherIndex];
    const extendedTo = softCloseEnd(book, now);
    const lastBidSeq = seqOf(decision.bids.length - 1);
    const previousLeader = previousLeaderOf(book);
    Object.assign(book, {
      currentPrice: decision.book.currentPrice,
      bidCount: decision.book.bidCount,
      lastSeq: extendedTo === null ? lastBidSeq : lastBidSeq + 1,
      leadingBidId: ids.at(-1),
      leaderId: decision.book.leader!.bidderId,
      leaderMaxAmount: decision.book.leader!.maxAmount,
      endsAt: extendedTo === null ? book.endsAt : new Date(extendedTo),
    });
    const message: BidPlacedMessage = {
      v: 1,
      type: 'BidPlaced',
      id: command.bidId,
      auctionId: command.auctionId,
      seq: seqOf(decision.own),
      at,
      bid: {
        id: command.bidId,
        bidderId: command.bidderId,
        amount: mine.amount,
        maxAmount: mine.maxAmount,
        requestedAmount: command.amount,
        idempotencyKey: command.idempotencyKey,
        placedAt: at,
      },
      currentPrice: book.currentPrice,
      bidCount: book.bidCount,
      minimumNextBid: minimumNextBid(book),
      endsAt: book.endsAt.toISOString(),
      previousLeader,
      automatic: other ? { id: automaticBidId, bidderId: other.bidderId, amount: other.amount, maxAmount: other.maxAmount, seq: seqOf(otherIndex) } : null,
      extension: extendedTo === null ? null : { seq: lastBidSeq + 1, endsAt: book.endsAt.toISOString() },
    };
    remember(book, command, request, message);
    return { outcome: 'ACCEPTED', message: structuredClone(message) };
  }

  function buyNow(command: BuyNowCommand): BuyNowDecision {
    const auction = touch(command.auctionId);
    const request = { amount: auction?.buyNowPrice ?? 0, tag: 'b' };
    const refused = prelude(auction, command, request);
    if (refused) return refused;
    const book = auction!;
    const price = book.buyNowPrice;
    if (price === null || !buyNowOffered(book)) return { outcome: 'NOT_OFFERED' };

    const now = clock();
    const at = new Date(now).toISOString();
    const seq = book.lastSeq + 1;
    const previousLeader = previousLeaderOf(book);
    const ended: AuctionEndedMessage = {
      v: 1,
      type: 'AuctionEnded',
      id: command.eventId,
      auctionId: command.auctionId,
      seq: seq + 1,
      at,
      sold: true,
      finalPrice: price,
      winnerId: command.bidderId,
      winningBidId: command.bidId,
      reserveStatus: book.reservePrice === null ? 'NO_RESERVE' : 'MET',
      bidCount: book.bidCount + 1,
      currentPrice: price,
      leadingBidId: command.bidId,
      leaderId: command.bidderId,
    };
    Object.assign(book, {
      state: 'ENDED',
      currentPrice: price,
      bidCount: ended.bidCount,
      lastSeq: ended.seq,
      leadingBidId: command.bidId,
      leaderId: command.bidderId,
      leaderMaxAmount: price,
      endsAt: new Date(now),
      finalMessage: ended,
      winnerId: command.bidderId,
    });
    const message: BidPlacedMessage = {
      v: 1,
      type: 'BidPlaced',
      id: command.bidId,
      auctionId: command.auctionId,
      seq,
      at,
      bid: { id: command.bidId, bidderId: command.bidderId, amount: price, maxAmount: price, requestedAmount: price, kind: 'BUY_NOW', idempotencyKey: command.idempotencyKey, placedAt: at },
      currentPrice: price,
      bidCount: ended.bidCount,
      minimumNextBid: price + bidIncrement(price),
      endsAt: at,
      previousLeader,
      ended,
    };
    remember(book, command, request, message);
    return { outcome: 'ACCEPTED', message: structuredClone(message) };
  }

  function close(auctionId: string, eventId: string): CloseDecision {
    const auction = touch(auctionId);
    if (!auction) return { outcome: 'MISSING' };
    const final = auction.finalMessage;
    if (final) return final.type === 'AuctionEnded' ? { outcome: 'ENDED', message: structuredClone(final), now: false } : { outcome: 'CANCELLED', message: structuredClone(final) };
    if (clock() < auction.endsAt.getTime()) return { outcome: 'NOT_DUE', endsAt: new Date(auction.endsAt) };
    const reserve = reserveStatus(auction);
    const sold = auction.bidCount > 0 && reserve !== 'NOT_MET';
    const message: AuctionEndedMessage = {
      v: 1,
      type: 'AuctionEnded',
      id: eventId,
      auctionId,
      seq: auction.lastSeq + 1,
      at: auction.endsAt.toISOString(),
      sold,
      finalPrice: sold ? auction.currentPrice : null,
      winnerId: sold ? auction.leaderId : null,
      winningBidId: sold ? auction.leadingBidId : null,
      reserveStatus: reserve,
      bidCount: auction.bidCount,
      currentPrice: auction.currentPrice,
      leadingBidId: auction.leadingBidId,
      leaderId: auction.leaderId,
    };
    Object.assign(auction, { state: 'ENDED', lastSeq: message.seq, finalMessage: message, winnerId: message.winnerId });
    return { outcome: 'ENDED', message: structuredClone(message), now: true };
  }

  function cancel(command: CancelCommand): CancelDecision {
    const auction = touch(command.auctionId);
    if (!auction) return { outcome: 'MISSING' };
    const final = auction.finalMessage;
    if (final?.type === 'AuctionCancelled') return { outcome: 'CANCELLED', message: structuredClone(final), now: false };
    const now = clock();
    const endsAt = auction.endsAt.getTime();
    if (final) {
      if (!final.sold || now - endsAt > command.saleCancelWindowMs) return { outcome: 'NOT_ACTIVE', status: 'ENDED' };
    } else if (now >= endsAt) {
      return { outcome: 'NOT_ACTIVE', status: 'ENDED' };
    } else if (auction.bidCount > 0 && endsAt - now <= command.minRemainingWithBidsMs) {
      return { outcome: 'TOO_LATE', endsAt: new Date(endsAt) };
    }
    const message: AuctionCancelledMessage = {
      v: 1,
      type: 'AuctionCancelled',
      id: command.eventId,
      auctionId: command.auctionId,
      seq: auction.lastSeq + 1,
      at: new Date(now).toISOString(),
      // An empty reason is none, as in the Redis book, whose script cannot tell the two apart.
      reason: command.reason || null,
      afterEnd: final !== null,
    };
    Object.assign(auction, { state: 'CANCELLED', lastSeq: message.seq, finalMessage: message });
    return { outcome: 'CANCELLED', message: structuredClone(message), now: true };
  }

  /** Drops an idle book whose every event is persisted, as the Redis eviction script does. */
  function evict(auctionId: string, idleSeconds: number): boolean {
    const auction = auctions.get(auctionId);
    if (!auction || clock() - auction.touchedAt < idleSeconds * 1000) return false;
    if (auction.unpersisted.size > 0 || auction.persistedSeq !== auction.lastSeq) return false;
    auctions.delete(auctionId);
    return true;
  }

  return {
    async load({ acceptedBids, ...entry }) {
      if (auctions.has(entry.auctionId)) return false;
      const tagOf = (b: (typeof acceptedBids)[number]) => (b.buyNow ? 'b' : String(maximumAbove(b.amount, b.maxAmount) ?? ''));
      const keys = new Map(acceptedBids.map((b) => [keyField(b.bidderId, b.idempotencyKey), { amount: b.amount, tag: tagOf(b), seq: b.seq }]));
      const winnerId = entry.finalMessage?.type === 'AuctionEnded' ? entry.finalMessage.winnerId : null;
      // Rebuilt only from what Postgres holds: all of it is persisted.
      auctions.set(entry.auctionId, { ...structuredClone(entry), winnerId, keys, unpersisted: new Map(), persistedSeq: entry.lastSeq, touchedAt: clock() });
      return true;
    },

    placeBid: async (command) => placeBid(command),

    buyNow: async (command) => buyNow(command),

    async peek(auctionIds) {
      const live = new Map<string, LiveState>();
      for (const id of auctionIds) {
        const a = touch(id);
        if (!a) continue;
        const { state, winnerId, currentPrice, bidCount, lastSeq, leadingBidId, leaderId } = a;
        live.set(id, { state, winnerId, currentPrice, bidCount, lastSeq, leadingBidId, leaderId, endsAt: new Date(a.endsAt) });
      }
      return live;
    },

    close: async (auctionId, eventId) => close(auctionId, eventId),

    cancel: async (command) => cancel(command),

    async reschedule(auctionId, { endsAt, reservePrice, buyNowPrice }) {
      const auction = touch(auctionId);
      // Nothing held here: the database is then the only record, so there is nothing to refuse.
      if (!auction) return true;
      if (auction.bidCount !== 0 || auction.state !== 'OPEN') return false;
      Object.assign(auction, { endsAt: new Date(endsAt), scheduledEndsAt: new Date(endsAt), reservePrice, buyNowPrice });
      return true;
    },

    async recentBid(bidId) {
      const held = recent.get(bidId);
      return held && held.expiresAt > clock() ? structuredClone(held.message) : null;
    },

    async markPersisted(entries) {
      for (const { auctionId, seq, bidIds } of entries) {
        for (const bidId of bidIds) recent.delete(bidId);
        const auction = touch(auctionId);
        if (!auction) continue;
        auction.persistedSeq = Math.max(auction.persistedSeq, seq);
        // Only the bids named: one persisted out of order leaves an earlier one still waiting.
        const persisted = new Set(bidIds);
        for (const [held, message] of auction.unpersisted) if (persisted.has(message.id)) auction.unpersisted.delete(held);
      }
    },

    evict: async (auctionId, { idleSeconds }) => evict(auctionId, idleSeconds),

    async sweep(cursor, { idleSeconds, count }) {
      // The cursor is one past a position in insertion order ('0' being the start and the end);
      // evicting shifts later books down by as many.
      const from = cursor === '0' ? 0 : Number(cursor) - 1;
      const ids = [...auctions.keys()].slice(from, from + count);
      const evicted = ids.filter((id) => evict(id, idleSeconds));
      const next = from + ids.length - evicted.length;
      return { cursor: next >= auctions.size ? '0' : String(next + 1), evicted };
    },

    async dispose() {},
  };
}

/** The end a bid at `now` moves the auction to (soft close), or null when it does not move it. */
function softCloseEnd(auction: Auction, now: number): number | null {
  const window = auction.softCloseSeconds * 1000;
  const endsAt = auction.endsAt.getTime();
  if (window === 0 || endsAt - now > window) return null;
  const target = Math.min(now + window, auction.scheduledEndsAt.getTime() + EXTENSION_CAP_MS);
  return target > endsAt ? target : null;
}
