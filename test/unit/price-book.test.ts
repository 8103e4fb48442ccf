import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { createRedisPriceBook } from '../../src/adapters/redis/redis-price-book.js';
import { CANCEL_LUA, CLOSE_LUA, PLACE_BID_LUA } from '../../src/adapters/redis/price-book-scripts.js';
import { REDIS_URL, deleteByPrefix, redisSkipReason as redisUnavailable } from '../support/redis.js';
import type { BidCommand, BidDecision, BookEntry, CancelCommand, CancelDecision, CloseDecision, PriceBook } from '../../src/ports/price-book.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, BidPlacedMessage } from '../../src/ports/bid-log.js';
import { CANCEL_WITH_BIDS_MIN_REMAINING_MS, SALE_CANCEL_WINDOW_MS } from '../../src/domain/auction-rules.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';

// One suite, two implementations: the in-process book must decide exactly as the Redis scripts do.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const redisSkipReason = await redisUnavailable('the Redis price book');

interface Harness {
  book: PriceBook;
  /** Another client of the same store, as a second gateway process would be. */
  open(): PriceBook;
  /** The Redis book's own connection and key prefix, to inspect what it stored. */
  redis?: Redis;
  prefix?: string;
  dispose(): Promise<void>;
}

const factories: Array<{ name: string; skipReason: string | null; create(): Harness }> = [
  {
    name: 'memory',
    skipReason: null,
    create() {
      const book = createMemoryPriceBook();
      return { book, open: () => book, dispose: () => book.dispose() };
    },
  },
  {
    name: 'redis',
    skipReason: redisSkipReason,
    create() {
      const prefix = `auction_test:price-book:${randomUUID()}:`;
      const redis = new Redis(REDIS_URL);
      const books: PriceBook[] = [];
      const open = () => {
        const book = createRedisPriceBook({ redis: new Redis(REDIS_URL), keyPrefix: prefix, ownsConnection: true });
        books.push(book);
        return book;
      };
      return {
        book: open(),
        open,
        redis,
        prefix,
        async dispose() {
          await deleteByPrefix(redis, prefix);
          await Promise.all(books.map((b) => b.dispose()));
          await redis.quit();
        },
      };
    },
  },
];

/** An auction without bids, running for an hour either side of now; its scheduled end follows endsAt unless given. */
function entry(overrides: Partial<BookEntry> = {}): BookEntry {
  const now = Date.now();
  const endsAt = overrides.endsAt ?? new Date(now + HOUR);
  const fresh = freshBookEntry({
    id: randomUUID(),
    sellerId: 'seller',
    state: 'OPEN',
    startsAt: new Date(now - HOUR),
    endsAt,
    scheduledEndsAt: endsAt,
    softCloseSeconds: 0,
    startingPrice: 10_00,
    reservePrice: null,
    buyNowPrice: null,
  });
  return { ...fresh, ...overrides };
}

function bid(auction: BookEntry, amount: number, overrides: Partial<BidCommand> = {}): BidCommand {
  return {
    auctionId: auction.auctionId,
    bidderId: 'alice',
    bidId: randomUUID(),
    amount,
    maxAmount: null,
    idempotencyKey: randomUUID(),
    ...overrides,
  };
}

/** A cancel under the rules the service applies (12 hours with bids, 30 days after a sale). */
function cancelOf(auction: BookEntry, overrides: Partial<CancelCommand> = {}): CancelCommand {
  return {
    auctionId: auction.auctionId,
    eventId: randomUUID(),
    reason: null,
    minRemainingWithBidsMs: CANCEL_WITH_BIDS_MIN_REMAINING_MS,
    saleCancelWindowMs: SALE_CANCEL_WINDOW_MS,
    ...overrides,
  };
}

function accepted(decision: BidDecision): BidPlacedMessage {
  if (decision.outcome !== 'ACCEPTED') throw new Error(`expected ACCEPTED, got ${JSON.stringify(decision)}`);
  return decision.message;
}

function ended(decision: CloseDecision): AuctionEndedMessage {
  if (decision.outcome !== 'ENDED') throw new Error(`expected ENDED, got ${JSON.stringify(decision)}`);
  return decision.message;
}

function cancelledNow(decision: CancelDecision): AuctionCancelledMessage {
  if (decision.outcome !== 'CANCELLED' || !decision.now) throw new Error(`expected CANCELLED now, got ${JSON.stringify(decision)}`);
  return decision.message;
}

describe.each(factories)('the $name price book', ({ skipReason, create }) => {
  let h: Harness;
  let book: PriceBook;

  beforeEach((ctx) => {
    if (skipReason !== null) ctx.skip(skipReason);
    h = create();
    book = h.book;
  });
  afterEach(async () => {
    await h?.dispose();
  });

  const liveOf = async (auctionId: string) => (await book.peek([auctionId])).get(auctionId);

  it('accepts a first bid equal to the starting price and describes it in full', async () => {
    const auction = entry({ endsAt: new Date(Date.UTC(2999, 1, 28, 23, 59, 59, 7)) });
    await book.load(auction);
    const command = bid(auction, 10_00, { maxAmount: 15_00 });
    const before = Date.now();

    const message = accepted(await book.placeBid(command));
    const after = Date.now();

    expect(message).toEqual({
      v: 1,
      type: 'BidPlaced',
      id: command.bidId,
      auctionId: auction.auctionId,
      seq: 1,
      at: message.bid.placedAt,
      bid: { id: command.bidId, bidderId: 'alice', amount: 10_00, maxAmount: 15_00, requestedAmount: 10_00, idempotencyKey: command.idempotencyKey, placedAt: message.at },
      currentPrice: 10_00,
      bidCount: 1,
      minimumNextBid: 10_50,
      endsAt: '2999-02-28T23:59:59.007Z',
      previousLeader: null,
      automatic: null,
      extension: null,
    });
    expect(new Date(message.at).toISOString()).toBe(message.at);
    // Stamped when the book decided, on its clock: the Redis server's, which is this machine's.
    expect(Date.parse(message.at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(message.at)).toBeLessThanOrEqual(after);
    expect(await liveOf(auction.auctionId)).toEqual({
      state: 'OPEN',
      winnerId: null,
      currentPrice: 10_00,
      bidCount: 1,
      lastSeq: 1,
      leadingBidId: command.bidId,
      leaderId: 'alice',
      endsAt: auction.endsAt,
    });
  });

  it('refuses a first bid below the starting price, naming the starting price', async () => {
    const auction = entry();
    await book.load(auction);
    expect(await book.placeBid(bid(auction, 9_99))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 10_00 });
  });

  it('refuses a bid equal to the current price, naming the minimum next bid', async () => {
    const auction = entry();
    await book.load(auction);
    accepted(await book.placeBid(bid(auction, 10_00)));
    expect(await book.placeBid(bid(auction, 10_00, { bidderId: 'bob' }))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 10_50 });
  });

  it.each([
    [99, 1_04],
    [1_00, 1_25],
    [4_99, 5_24],
    [5_00, 5_50],
    [24_99, 25_49],
    [25_00, 26_00],
    [99_99, 100_99],
    [100_00, 102_50],
    [249_99, 252_49],
    [250_00, 255_00],
    [499_99, 504_99],
    [500_00, 510_00],
    [999_99, 1_009_99],
    [1_000_00, 1_025_00],
    [2_500_00, 2_550_00],
    [5_000_00, 5_100_00],
    [9_999_999_00, 10_000_099_00],
  ])('requires the increment of the price band above a current price of %i: at least %i', async (price, minimum) => {
    const auction = entry({
      startingPrice: 50,
      currentPrice: price,
      bidCount: 3,
      lastSeq: 3,
      leadingBidId: 'earlier-bid',
      leaderId: 'carol',
      leaderMaxAmount: price,
    });
    await book.load(auction);
    expect(await book.placeBid(bid(auction, minimum - 1))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: minimum });
    const message = accepted(await book.placeBid(bid(auction, minimum)));
    expect(message.seq).toBe(4);
    expect(message.previousLeader).toEqual({ bidId: 'earlier-bid', bidderId: 'carol', amount: price });
  });

  it("takes the leader's higher bid as a higher maximum, leaving the price where it is", async () => {
    const auction = entry();
    await book.load(auction);
    const first = accepted(await book.placeBid(bid(auction, 10_00)));
    const raised = accepted(await book.placeBid(bid(auction, 20_00)));
    expect(raised.previousLeader).toEqual({ bidId: first.id, bidderId: 'alice', amount: 10_00 });
    expect(raised).toMatchObject({ seq: 2, bidCount: 2, currentPrice: 10_00, minimumNextBid: 10_50, automatic: null });
    expect(raised.bid).toMatchObject({ amount: 10_00, maxAmount: 20_00, requestedAmount: 20_00 });
    // Not lowered: a maximum at or below the one standing is refused, naming one just above it.
    expect(await book.placeBid(bid(auction, 15_00))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 20_01 });
  });

  it("refuses a bid on the bidder's own auction when the ids are UUIDs, and takes another UUID's", async () => {
    const sellerId = randomUUID();
    const auction = entry({ sellerId });
    await book.load(auction);
    expect(await book.placeBid(bid(auction, 10_00, { bidderId: sellerId }))).toEqual({ outcome: 'OWN_AUCTION' });
    expect(accepted(await book.placeBid(bid(auction, 10_00, { bidderId: randomUUID() }))).seq).toBe(1);
  });

  it("refuses a bid on the bidder's own auction", async () => {
    const auction = entry();
    await book.load(auction);
    expect(await book.placeBid(bid(auction, 10_00, { bidderId: 'seller' }))).toEqual({ outcome: 'OWN_AUCTION' });
  });

  it.each([
    ['SCHEDULED', () => entry({ startsAt: new Date(Date.now() + HOUR), endsAt: new Date(Date.now() + 2 * HOUR) })],
    ['ENDED', () => entry({ endsAt: new Date(Date.now() - 1_000) })],
    ['ENDED', () => entry({ state: 'ENDED' })],
    ['CANCELLED', () => entry({ state: 'CANCELLED' })],
  ] as const)('refuses a bid while the auction is %s', async (status, make) => {
    const auction = make();
    await book.load(auction);
    expect(await book.placeBid(bid(auction, 10_00))).toEqual({ outcome: 'NOT_ACTIVE', status });
    expect((await liveOf(auction.auctionId))?.bidCount).toBe(0);
  });

  it('refuses bids once the auction is cancelled', async () => {
    const auction = entry();
    await book.load(auction);
    cancelledNow(await book.cancel(cancelOf(auction)));
    expect(await book.placeBid(bid(auction, 10_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'CANCELLED' });
  });

  it('answers MISSING to a cancel or a close of an auction it does not hold, and holds nothing after', async () => {
    expect(await book.cancel(cancelOf(entry({ auctionId: 'unknown' })))).toEqual({ outcome: 'MISSING' });
    expect(await book.close('unknown', randomUUID())).toEqual({ outcome: 'MISSING' });
    expect(await book.peek(['unknown'])).toEqual(new Map());
  });

  it('keeps an empty cancel reason as none', async () => {
    const auction = entry();
    await book.load(auction);
    expect(cancelledNow(await book.cancel(cancelOf(auction, { reason: '' }))).reason).toBeNull();
  });

  it('keeps an auction loaded long after its end, so that its sale can still be cancelled within the window', async () => {
    const endsAt = new Date(Date.now() - 8 * DAY);
    const auction = entry({ state: 'ENDED', startsAt: new Date(endsAt.getTime() - DAY), endsAt, bidCount: 1, lastSeq: 2, currentPrice: 10_00 });
    const final: AuctionEndedMessage = {
      v: 1,
      type: 'AuctionEnded',
      id: randomUUID(),
      auctionId: auction.auctionId,
      seq: 2,
      at: endsAt.toISOString(),
      sold: true,
      finalPrice: 10_00,
      winnerId: 'alice',
      winningBidId: 'b1',
      reserveStatus: 'NO_RESERVE',
      bidCount: 1,
      currentPrice: 10_00,
      leadingBidId: 'b1',
      leaderId: 'alice',
    };
    await book.load({ ...auction, leadingBidId: 'b1', leaderId: 'alice', leaderMaxAmount: 10_00, finalMessage: final });

    expect(await liveOf(auction.auctionId)).toMatchObject({ state: 'ENDED', winnerId: 'alice', lastSeq: 2 });
    expect(cancelledNow(await book.cancel(cancelOf(auction)))).toMatchObject({ seq: 3, afterEnd: true });
  });

  it('reports an auction it does not hold as missing', async () => {
    expect(await book.placeBid(bid(entry(), 10_00))).toEqual({ outcome: 'MISSING' });
  });

  it('answers a retried key with the original message and changes nothing', async () => {
    const auction = entry();
    await book.load(auction);
    const command = bid(auction, 10_00);
    const original = accepted(await book.placeBid(command));
    const outbid = accepted(await book.placeBid(bid(auction, 11_00, { bidderId: 'bob' })));
    const before = await liveOf(auction.auctionId);

    const retry = await book.placeBid({ ...command, bidId: randomUUID() });

    expect(retry).toEqual({ outcome: 'DUPLICATE', message: original });
    expect(await liveOf(auction.auctionId)).toEqual(before);
    expect(before).toMatchObject({ lastSeq: 2, leadingBidId: outbid.id });
  });

  it('answers a retried key after the auction was cancelled with the original message, and accepts nothing new', async () => {
    // A day left: an auction with a bid may still be withdrawn.
    const auction = entry({ endsAt: new Date(Date.now() + DAY) });
    await book.load(auction);
    const command = bid(auction, 10_00);
    const original = accepted(await book.placeBid(command));
    cancelledNow(await book.cancel(cancelOf(auction)));
    const before = await liveOf(auction.auctionId);

    expect(await book.placeBid({ ...command, bidId: randomUUID() })).toEqual({ outcome: 'DUPLICATE', message: original });
    expect(await book.placeBid({ ...command, amount: 11_00 })).toEqual({ outcome: 'KEY_REUSED' });
    expect(await book.placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'CANCELLED' });
    expect(await liveOf(auction.auctionId)).toEqual(before);
  });

  it('accepts exactly one of two equal bids that race, refusing the other with the next minimum', async () => {
    const other = h.open();
    // Twenty rounds: either bid may win a round, never both.
    for (let round = 0; round < 20; round++) {
      const auction = entry();
      await book.load(auction);
      const [first, second] = [bid(auction, 10_00, { bidderId: 'alice' }), bid(auction, 10_00, { bidderId: 'bob' })];
      const decisions = await Promise.all([book.placeBid(first), other.placeBid(second)]);

      expect(decisions.map((d) => d.outcome).sort()).toEqual(['ACCEPTED', 'TOO_LOW']);
      expect(decisions.find((d) => d.outcome === 'TOO_LOW')).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 10_50 });
      const winner = decisions.flatMap((d) => (d.outcome === 'ACCEPTED' ? [d.message] : []))[0]!;
      expect(winner).toMatchObject({ seq: 1, bidCount: 1, previousLeader: null });
      expect(await liveOf(auction.auctionId)).toMatchObject({ currentPrice: 10_00, bidCount: 1, lastSeq: 1, leadingBidId: winner.id, leaderId: winner.bid.bidderId });
    }
  });

  it('refuses a key reused with a different amount or maximum', async () => {
    const auction = entry();
    await book.load(auction);
    const command = bid(auction, 10_00);
    accepted(await book.placeBid(command));
    expect(await book.placeBid({ ...command, amount: 12_00 })).toEqual({ outcome: 'KEY_REUSED' });
    expect(await book.placeBid({ ...command, maxAmount: 20_00 })).toEqual({ outcome: 'KEY_REUSED' });
  });

  it("keeps one bidder's keys apart from another's", async () => {
    const auction = entry();
    await book.load(auction);
    const command = bid(auction, 10_00);
    accepted(await book.placeBid(command));
    expect(accepted(await book.placeBid({ ...command, bidderId: 'bob', bidId: randomUUID(), amount: 11_00 })).seq).toBe(2);
  });

  it("scopes a bidder's key to one auction: the same key on another auction is a bid of its own", async () => {
    const first = entry();
    const second = entry();
    await book.load(first);
    await book.load(second);
    const command = bid(first, 10_00);
    const onFirst = accepted(await book.placeBid(command));
    const onSecond = accepted(await book.placeBid({ ...command, auctionId: second.auctionId, bidId: randomUUID() }));
    expect(onSecond).toMatchObject({ auctionId: second.auctionId, seq: 1, bid: { idempotencyKey: command.idempotencyKey } });
    expect(onSecond.id).not.toBe(onFirst.id);
  });

  it('answers PAUSED to a new bid while new bids are paused, and changes nothing', async () => {
    const auction = entry();
    await book.load(auction);
    accepted(await book.placeBid(bid(auction, 10_00)));
    const before = await liveOf(auction.auctionId);
    const paused = bid(auction, 12_00, { bidderId: 'bob' });

    expect(await book.placeBid({ ...paused, pauseNewBids: true })).toEqual({ outcome: 'PAUSED' });
    expect(await liveOf(auction.auctionId)).toEqual(before);
    expect(await book.recentBid(paused.bidId)).toBeNull();
    // Nothing of the paused attempt was kept: once resumed, its key places the bid as new.
    expect(accepted(await book.placeBid(paused))).toMatchObject({ id: paused.bidId, seq: 2, currentPrice: 12_00 });
  });

  it('still answers a retried key while new bids are paused', async () => {
    const auction = entry();
    await book.load(auction);
    const command = bid(auction, 10_00);
    const original = accepted(await book.placeBid(command));

    expect(await book.placeBid({ ...command, bidId: randomUUID(), pauseNewBids: true })).toEqual({ outcome: 'DUPLICATE', message: original });
    expect(await book.placeBid({ ...command, amount: 11_00, pauseNewBids: true })).toEqual({ outcome: 'KEY_REUSED' });
  });

  it('loads an auction only when absent, never overwriting what it holds', async () => {
    const auction = entry();
    expect(await book.load(auction)).toBe(true);
    accepted(await book.placeBid(bid(auction, 10_00)));

    expect(await book.load({ ...auction, currentPrice: 50_00, endsAt: new Date(Date.now() + DAY) })).toBe(false);
    expect(await liveOf(auction.auctionId)).toMatchObject({ currentPrice: 10_00, bidCount: 1, endsAt: auction.endsAt });
  });

  it('carries accepted keys and the leader across a reload, answering a retried key with its persisted seq', async () => {
    const source = entry();
    await book.load(source);
    const command = bid(source, 10_00);
    const message = accepted(await book.placeBid(command));

    const reloaded: BookEntry = {
      ...source,
      auctionId: randomUUID(),
      currentPrice: 10_00,
      bidCount: 1,
      lastSeq: 1,
      leadingBidId: message.id,
      leaderId: 'alice',
      leaderMaxAmount: 10_00,
      acceptedBids: [{ bidderId: 'alice', idempotencyKey: command.idempotencyKey, amount: 10_00, maxAmount: null, seq: 1 }],
    };
    expect(await book.load(reloaded)).toBe(true);
    expect(await book.placeBid({ ...command, auctionId: reloaded.auctionId })).toEqual({ outcome: 'DUPLICATE_PERSISTED', seq: 1 });
    expect(await book.placeBid({ ...command, auctionId: reloaded.auctionId, amount: 11_00 })).toEqual({ outcome: 'KEY_REUSED' });
    const next = accepted(await book.placeBid(bid(reloaded, 10_50, { bidderId: 'bob' })));
    expect(next).toMatchObject({ seq: 2, previousLeader: { bidId: message.id, bidderId: 'alice', amount: 10_00 } });
  });

  describe('once bids are persisted', () => {
    it('answers a retried key with its seq alone, and forgets its read-your-writes copy', async () => {
      const auction = entry();
      await book.load(auction);
      const command = bid(auction, 10_00, { maxAmount: 30_00 });
      const message = accepted(await book.placeBid(command));

      await book.markPersisted([{ auctionId: auction.auctionId, seq: 1, bidIds: [message.id] }]);

      expect(await book.placeBid({ ...command, bidId: randomUUID() })).toEqual({ outcome: 'DUPLICATE_PERSISTED', seq: 1 });
      expect(await book.placeBid({ ...command, maxAmount: null })).toEqual({ outcome: 'KEY_REUSED' });
      expect(await book.recentBid(message.id)).toBeNull();
      expect(await liveOf(auction.auctionId)).toMatchObject({ currentPrice: 10_00, bidCount: 1, lastSeq: 1 });
    });

    it('keeps the message of a bid persisted after a later one until it is persisted itself', async () => {
      const auction = entry();
      await book.load(auction);
      const firstCommand = bid(auction, 10_00);
      const first = accepted(await book.placeBid(firstCommand));
      const secondCommand = bid(auction, 11_00, { bidderId: 'bob' });
      accepted(await book.placeBid(secondCommand));

      await book.markPersisted([{ auctionId: auction.auctionId, seq: 2, bidIds: [secondCommand.bidId] }]);

      expect(await book.placeBid(firstCommand)).toEqual({ outcome: 'DUPLICATE', message: first });
      expect(await book.placeBid(secondCommand)).toEqual({ outcome: 'DUPLICATE_PERSISTED', seq: 2 });
      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(false);

      await book.markPersisted([{ auctionId: auction.auctionId, seq: 1, bidIds: [first.id] }]);
      expect(await book.placeBid(firstCommand)).toEqual({ outcome: 'DUPLICATE_PERSISTED', seq: 1 });
      // The persisted seq stayed at 2, the book's own: it may go now.
      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(true);
    });

    it('refuses to evict a book whose last bid is not yet persisted, and keeps it whole', async () => {
      const auction = entry();
      await book.load(auction);
      const first = accepted(await book.placeBid(bid(auction, 10_00)));
      await book.markPersisted([{ auctionId: auction.auctionId, seq: 1, bidIds: [first.id] }]);
      const command = bid(auction, 11_00, { bidderId: 'bob' });
      const second = accepted(await book.placeBid(command));

      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(false);
      expect(await liveOf(auction.auctionId)).toMatchObject({ currentPrice: 11_00, bidCount: 2, lastSeq: 2, leadingBidId: second.id });
      expect(await book.placeBid(command)).toEqual({ outcome: 'DUPLICATE', message: second });
    });

    it('refuses to evict a book that was touched within the idle time, however persisted', async () => {
      const auction = entry();
      await book.load(auction);
      const message = accepted(await book.placeBid(bid(auction, 10_00)));
      await book.markPersisted([{ auctionId: auction.auctionId, seq: 1, bidIds: [message.id] }]);

      expect(await book.evict(auction.auctionId, { idleSeconds: 3_600 })).toBe(false);
      expect(await liveOf(auction.auctionId)).toMatchObject({ lastSeq: 1 });
    });

    it('refuses to evict a closed auction until its end is persisted too', async () => {
      // Rebuilt from Postgres after its end: its one bid is persisted, its close not yet made.
      const auction = entry({ endsAt: new Date(Date.now() - 1_000), currentPrice: 10_00, bidCount: 1, lastSeq: 1, leadingBidId: 'b1', leaderId: 'alice', leaderMaxAmount: 10_00 });
      await book.load(auction);
      const end = ended(await book.close(auction.auctionId, randomUUID()));

      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(false);
      await book.markPersisted([{ auctionId: auction.auctionId, seq: end.seq, bidIds: [] }]);
      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(true);
    });

    it('evicts an idle, persisted book, which then answers MISSING and, reloaded, the same price, seq and retried keys', async () => {
      const auction = entry();
      await book.load(auction);
      const firstCommand = bid(auction, 10_00);
      const first = accepted(await book.placeBid(firstCommand));
      const second = accepted(await book.placeBid(bid(auction, 12_00, { bidderId: 'bob' })));
      await book.markPersisted([{ auctionId: auction.auctionId, seq: 2, bidIds: [first.id, second.id] }]);
      const before = await liveOf(auction.auctionId);

      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(true);
      expect(await book.peek([auction.auctionId])).toEqual(new Map());
      expect(await book.placeBid(bid(auction, 50_00, { bidderId: 'carol' }))).toEqual({ outcome: 'MISSING' });
      // A persister late with its report creates nothing.
      await book.markPersisted([{ auctionId: auction.auctionId, seq: 2, bidIds: [second.id] }]);
      expect(await book.peek([auction.auctionId])).toEqual(new Map());

      // As load-price-book.ts rebuilds it from Postgres.
      expect(
        await book.load({
          ...auction,
          currentPrice: 12_00,
          bidCount: 2,
          lastSeq: 2,
          leadingBidId: second.id,
          leaderId: 'bob',
          leaderMaxAmount: 12_00,
          acceptedBids: [
            { bidderId: 'alice', idempotencyKey: firstCommand.idempotencyKey, amount: 10_00, maxAmount: null, seq: 1 },
            { bidderId: 'bob', idempotencyKey: second.bid.idempotencyKey, amount: 12_00, maxAmount: null, seq: 2 },
          ],
        }),
      ).toBe(true);
      expect(await liveOf(auction.auctionId)).toEqual(before);
      expect(await book.placeBid(firstCommand)).toEqual({ outcome: 'DUPLICATE_PERSISTED', seq: 1 });
      expect(await book.placeBid(bid(auction, 12_49, { bidderId: 'carol' }))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 12_50 });
      expect(accepted(await book.placeBid(bid(auction, 12_50, { bidderId: 'carol' })))).toMatchObject({ seq: 3, previousLeader: { bidId: second.id, amount: 12_00 } });
      // Reloaded from Postgres, everything it held was persisted; the new bid is not yet.
      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(false);
    });

    it('evicts a reloaded book straight away when idle, since all it holds came from Postgres', async () => {
      const auction = entry({ currentPrice: 20_00, bidCount: 3, lastSeq: 4, leadingBidId: 'b3', leaderId: 'bob', leaderMaxAmount: 20_00 });
      await book.load(auction);
      expect(await book.evict(auction.auctionId, { idleSeconds: 0 })).toBe(true);
    });

    it('sweeps the books it holds, evicting only the idle, persisted ones', async () => {
      const persisted = [entry(), entry(), entry()];
      const waiting = entry();
      for (const auction of [...persisted, waiting]) await book.load(auction);
      accepted(await book.placeBid(bid(waiting, 10_00)));

      const evicted: string[] = [];
      let cursor = '0';
      let steps = 0;
      do {
        // The Redis book scans the shared database, whatever else it holds: larger steps there.
        const step = await book.sweep(cursor, { idleSeconds: 0, count: h.redis ? 1_000 : 2 });
        evicted.push(...step.evicted);
        cursor = step.cursor;
        steps++;
      } while (cursor !== '0' && steps < 10_000);

      expect(evicted.sort()).toEqual(persisted.map((a) => a.auctionId).sort());
      expect([...(await book.peek([...persisted, waiting].map((a) => a.auctionId))).keys()]).toEqual([waiting.auctionId]);
    });
  });

  it('serialises 200 concurrent bids: gapless seq, rising amounts, the highest wins', async () => {
    const auction = entry({ startingPrice: 1_00, currentPrice: 1_00 });
    await book.load(auction);
    const clients = [book, h.open(), h.open(), h.open()];
    // A rising ramp, with random bids around it that sometimes overtake it and mostly fall short.
    const commands = Array.from({ length: 200 }, (_, i) => {
      const ramp = 1_00 + i * 3_00;
      const amount = i % 2 === 0 ? ramp : ramp + Math.floor(Math.random() * 13_00) - 10_00;
      return bid(auction, Math.max(amount, 1), { bidderId: `bidder-${i % 7}` });
    });

    const decisions = await Promise.all(commands.map((c, i) => clients[i % clients.length]!.placeBid(c)));

    const messages = decisions.flatMap((d) => (d.outcome === 'ACCEPTED' ? [d.message] : [])).sort((a, b) => a.seq - b.seq);
    expect(decisions.filter((d) => d.outcome !== 'ACCEPTED' && d.outcome !== 'TOO_LOW')).toEqual([]);
    expect(messages.length).toBeGreaterThan(20);
    expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
    messages.slice(1).forEach((m, i) => {
      expect(m.bid.amount).toBeGreaterThanOrEqual(messages[i]!.minimumNextBid);
      expect(m.previousLeader?.bidId).toBe(messages[i]!.id);
    });
    const last = messages.at(-1)!;
    expect(await liveOf(auction.auctionId)).toMatchObject({
      currentPrice: Math.max(...messages.map((m) => m.bid.amount)),
      bidCount: messages.length,
      lastSeq: messages.length,
      leadingBidId: last.id,
    });
  });

  it('peeks at the auctions it holds and leaves out the others', async () => {
    const a = entry();
    const b = entry({ currentPrice: 30_00, bidCount: 2, lastSeq: 5, leadingBidId: 'b1', leaderId: 'bob', leaderMaxAmount: 30_00 });
    await book.load(a);
    await book.load(b);

    const live = await book.peek([a.auctionId, 'unknown', b.auctionId]);

    expect([...live.keys()].sort()).toEqual([a.auctionId, b.auctionId].sort());
    expect(live.get(a.auctionId)).toEqual({ state: 'OPEN', winnerId: null, currentPrice: 10_00, bidCount: 0, lastSeq: 0, leadingBidId: null, leaderId: null, endsAt: a.endsAt });
    expect(live.get(b.auctionId)).toEqual({ state: 'OPEN', winnerId: null, currentPrice: 30_00, bidCount: 2, lastSeq: 5, leadingBidId: 'b1', leaderId: 'bob', endsAt: b.endsAt });
    expect(await book.peek([])).toEqual(new Map());
  });

  it('reschedules an auction only while it has no bid', async () => {
    const auction = entry();
    await book.load(auction);
    const later = new Date(auction.endsAt.getTime() + HOUR);

    expect(await book.reschedule(auction.auctionId, { endsAt: later, reservePrice: null, buyNowPrice: null })).toBe(true);
    expect((await liveOf(auction.auctionId))?.endsAt).toEqual(later);
    expect(accepted(await book.placeBid(bid(auction, 10_00))).endsAt).toBe(later.toISOString());

    expect(await book.reschedule(auction.auctionId, { endsAt: new Date(later.getTime() + HOUR), reservePrice: null, buyNowPrice: null })).toBe(false);
    expect((await liveOf(auction.auctionId))?.endsAt).toEqual(later);
  });

  it('reschedules an auction it does not hold, leaving the database the only record', async () => {
    expect(await book.reschedule('unknown', { endsAt: new Date(), reservePrice: 20_00, buyNowPrice: null })).toBe(true);
    expect(await book.peek(['unknown'])).toEqual(new Map());
  });

  it('returns a recently accepted bid by id, and nothing for an unknown one', async () => {
    const auction = entry();
    await book.load(auction);
    const message = accepted(await book.placeBid(bid(auction, 10_00)));
    expect(await book.recentBid(message.id)).toEqual(message);
    expect(await book.recentBid('unknown')).toBeNull();
  });
});

// How the scripts read the time; the Redis book below swaps it for a time the test picks.
const REDIS_TIME = "local time = redis.call('TIME')";

/** A Redis price book on the shared store whose script reads `nowMs` instead of the Redis server's TIME. */
function redisBookAt(prefix: string, nowMs: number): PriceBook {
  const redis = new Redis(REDIS_URL);
  const define = redis.defineCommand.bind(redis);
  const fixed = `local time = {'${Math.floor(nowMs / 1000)}', '${(nowMs % 1000) * 1000}'}`;
  redis.defineCommand = (name, definition) => define(name, { ...definition, lua: definition.lua.replace(REDIS_TIME, fixed) });
  return createRedisPriceBook({ redis, keyPrefix: prefix, ownsConnection: true });
}

/** One store, judged at whatever instant a test asks for. */
interface ClockedHarness {
  at(nowMs: number): PriceBook;
  dispose(): Promise<void>;
}

const clockedFactories: Array<{ name: string; skipReason: string | null; create(): ClockedHarness }> = [
  {
    name: 'memory',
    skipReason: null,
    create() {
      let now = 0;
      const book = createMemoryPriceBook({ clock: () => now });
      return {
        at(nowMs) {
          now = nowMs;
          return book;
        },
        dispose: () => book.dispose(),
      };
    },
  },
  {
    name: 'redis',
    skipReason: redisSkipReason,
    create() {
      const prefix = `auction_test:price-book-clock:${randomUUID()}:`;
      const books: PriceBook[] = [];
      return {
        at(nowMs) {
          const book = redisBookAt(prefix, nowMs);
          books.push(book);
          return book;
        },
        async dispose() {
          const redis = new Redis(REDIS_URL);
          await deleteByPrefix(redis, prefix);
          await redis.quit();
          await Promise.all(books.map((b) => b.dispose()));
        },
      };
    },
  },
];

describe.each(clockedFactories)("the $name price book at the edges of an auction's time", ({ skipReason, create }) => {
  const T = Date.UTC(2030, 0, 1, 12);
  let h: ClockedHarness;
  beforeEach((ctx) => {
    if (skipReason !== null) ctx.skip(skipReason);
    h = create();
  });
  afterEach(async () => {
    await h?.dispose();
  });

  it('still reads the time the way this suite replaces it, once per script that judges time', () => {
    for (const lua of [PLACE_BID_LUA, CLOSE_LUA, CANCEL_LUA]) expect(lua.split(REDIS_TIME)).toHaveLength(2);
  });

  it('accepts a bid one millisecond before endsAt, stamped with that instant, and refuses one at exactly endsAt as ENDED', async () => {
    const auction = entry({ startsAt: new Date(T - HOUR), endsAt: new Date(T) });
    await h.at(T - HOUR).load(auction);

    const last = accepted(await h.at(T - 1).placeBid(bid(auction, 10_00)));
    expect(last.at).toBe(new Date(T - 1).toISOString());
    expect(await h.at(T).placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
  });

  it('refuses a bid one millisecond before startsAt as SCHEDULED, and accepts one at exactly startsAt', async () => {
    const auction = entry({ startsAt: new Date(T), endsAt: new Date(T + HOUR) });
    await h.at(T - HOUR).load(auction);

    expect(await h.at(T - 1).placeBid(bid(auction, 10_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'SCHEDULED' });
    expect(accepted(await h.at(T).placeBid(bid(auction, 10_00))).at).toBe(new Date(T).toISOString());
  });

  it('answers a retried key after the auction ended with the original message, and accepts nothing new', async () => {
    const auction = entry({ startsAt: new Date(T - HOUR), endsAt: new Date(T) });
    await h.at(T - HOUR).load(auction);
    const command = bid(auction, 10_00);
    const original = accepted(await h.at(T - 1_000).placeBid(command));

    const after = h.at(T + HOUR);
    expect(await after.placeBid({ ...command, bidId: randomUUID() })).toEqual({ outcome: 'DUPLICATE', message: original });
    expect(await after.placeBid({ ...command, amount: 12_00 })).toEqual({ outcome: 'KEY_REUSED' });
    expect(await after.placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
    expect((await after.peek([auction.auctionId])).get(auction.auctionId)).toMatchObject({ bidCount: 1, lastSeq: 1, leadingBidId: original.id });
  });

  const iso = (ms: number) => new Date(ms).toISOString();
  /** An auction running from a day before T until T, loaded before it starts. */
  async function running(overrides: Partial<BookEntry> = {}): Promise<BookEntry> {
    const auction = entry({ startsAt: new Date(T - DAY), endsAt: new Date(T), ...overrides });
    await h.at(T - 2 * DAY).load(auction);
    return auction;
  }
  const liveAt = async (nowMs: number, auction: BookEntry) => (await h.at(nowMs).peek([auction.auctionId])).get(auction.auctionId);

  describe('closing', () => {
    it('answers NOT_DUE with the end while the auction runs, and keeps accepting bids', async () => {
      const auction = await running();

      expect(await h.at(T - 1).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'NOT_DUE', endsAt: new Date(T) });
      expect(accepted(await h.at(T - 1).placeBid(bid(auction, 10_00))).seq).toBe(1);
      expect(await liveAt(T - 1, auction)).toMatchObject({ state: 'OPEN', winnerId: null, lastSeq: 1 });
    });

    it('ends an auction at exactly its end with the next seq, the leader as winner at their amount', async () => {
      const auction = await running();
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 10_00)));
      const lead = accepted(await h.at(T - 1).placeBid(bid(auction, 12_00, { bidderId: 'bob' })));
      const eventId = randomUUID();

      expect(await h.at(T).close(auction.auctionId, eventId)).toEqual({
        outcome: 'ENDED',
        now: true,
        message: {
          v: 1,
          type: 'AuctionEnded',
          id: eventId,
          auctionId: auction.auctionId,
          seq: 3,
          at: iso(T),
          sold: true,
          finalPrice: 12_00,
          winnerId: 'bob',
          winningBidId: lead.id,
          reserveStatus: 'NO_RESERVE',
          bidCount: 2,
          currentPrice: 12_00,
          leadingBidId: lead.id,
          leaderId: 'bob',
        },
      });
      expect(await liveAt(T, auction)).toMatchObject({ state: 'ENDED', winnerId: 'bob', lastSeq: 3, bidCount: 2, currentPrice: 12_00 });
    });

    it("stamps the end with the auction's end, not the moment a late worker closes it", async () => {
      const auction = await running();
      expect(ended(await h.at(T + HOUR).close(auction.auctionId, randomUUID())).at).toBe(iso(T));
    });

    it.each([
      ['MET', 12_00, { sold: true, finalPrice: 12_00, winnerId: 'alice' }],
      ['NOT_MET', 12_01, { sold: false, finalPrice: null, winnerId: null, winningBidId: null }],
      ['NO_RESERVE', null, { sold: true, finalPrice: 12_00, winnerId: 'alice' }],
    ] as const)('reports the reserve as %s when a top bid of 12.00 meets a reserve of %s, selling only then', async (reserveStatus, reservePrice, outcome) => {
      const auction = await running({ reservePrice });
      const top = accepted(await h.at(T - HOUR).placeBid(bid(auction, 12_00)));

      const message = ended(await h.at(T).close(auction.auctionId, randomUUID()));

      expect(message).toMatchObject({ reserveStatus, bidCount: 1, currentPrice: 12_00, leadingBidId: top.id, leaderId: 'alice', ...outcome });
      if (message.sold) expect(message.winningBidId).toBe(top.id);
      expect((await liveAt(T, auction))?.winnerId).toBe(outcome.winnerId);
    });

    it('ends an auction without bids unsold: no winner, no final price, the starting price as it was', async () => {
      const auction = await running();
      const eventId = randomUUID();

      expect(ended(await h.at(T).close(auction.auctionId, eventId))).toEqual({
        v: 1,
        type: 'AuctionEnded',
        id: eventId,
        auctionId: auction.auctionId,
        seq: 1,
        at: iso(T),
        sold: false,
        finalPrice: null,
        winnerId: null,
        winningBidId: null,
        reserveStatus: 'NO_RESERVE',
        bidCount: 0,
        currentPrice: 10_00,
        leadingBidId: null,
        leaderId: null,
      });
    });

    it('answers every later close with the identical message, whichever eventId it brings, taking no further seq', async () => {
      const auction = await running();
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 10_00)));
      const first = ended(await h.at(T).close(auction.auctionId, randomUUID()));

      expect(await h.at(T + DAY).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'ENDED', message: first, now: false });
      expect(await liveAt(T + DAY, auction)).toMatchObject({ state: 'ENDED', lastSeq: 2 });
    });

    it('refuses every new bid after the close as ENDED, even on a clock that steps back before the end', async () => {
      const auction = await running();
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 10_00)));
      ended(await h.at(T).close(auction.auctionId, randomUUID()));

      expect(await h.at(T + 1).placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await h.at(T - 1).placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await liveAt(T + 1, auction)).toMatchObject({ bidCount: 1, lastSeq: 2, currentPrice: 10_00 });
    });
  });

  describe('soft close', () => {
    it('moves the end to a window after a bid inside the window, announcing the extension as the next seq', async () => {
      const auction = await running({ softCloseSeconds: 120 });

      const first = accepted(await h.at(T - 60_000).placeBid(bid(auction, 10_00)));
      expect(first).toMatchObject({ seq: 1, endsAt: iso(T + 60_000), extension: { seq: 2, endsAt: iso(T + 60_000) } });
      expect(await liveAt(T - 60_000, auction)).toMatchObject({ lastSeq: 2, endsAt: new Date(T + 60_000) });

      // At the original end the auction still runs, and the next bid takes the seq after the extension.
      const second = accepted(await h.at(T).placeBid(bid(auction, 11_00, { bidderId: 'bob' })));
      expect(second).toMatchObject({ seq: 3, endsAt: iso(T + 120_000), extension: { seq: 4, endsAt: iso(T + 120_000) } });
      expect(await h.at(T + 60_000).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'NOT_DUE', endsAt: new Date(T + 120_000) });
    });

    it('leaves the end alone for a bid outside the window, and for one whose window ends no later than the end', async () => {
      const auction = await running({ softCloseSeconds: 120 });

      const outside = accepted(await h.at(T - 120_001).placeBid(bid(auction, 10_00)));
      expect(outside).toMatchObject({ seq: 1, endsAt: iso(T), extension: null });
      const atEdge = accepted(await h.at(T - 120_000).placeBid(bid(auction, 11_00, { bidderId: 'bob' })));
      expect(atEdge).toMatchObject({ seq: 2, endsAt: iso(T), extension: null });
      expect(await liveAt(T - 120_000, auction)).toMatchObject({ lastSeq: 2, endsAt: new Date(T) });

      const inside = accepted(await h.at(T - 119_999).placeBid(bid(auction, 12_00)));
      expect(inside).toMatchObject({ seq: 3, endsAt: iso(T + 1), extension: { seq: 4, endsAt: iso(T + 1) } });
    });

    it('never extends an auction without a soft-close window', async () => {
      const auction = await running({ softCloseSeconds: 0 });
      expect(accepted(await h.at(T - 1).placeBid(bid(auction, 10_00)))).toMatchObject({ endsAt: iso(T), extension: null });
      expect(await liveAt(T - 1, auction)).toMatchObject({ lastSeq: 1, endsAt: new Date(T) });
    });

    it('stops extending 24 hours after the scheduled end: a bid near the cap extends only to it, none once there', async () => {
      const cap = T + DAY;
      // Already extended, by bids, to 30 seconds before the cap.
      const auction = await running({
        softCloseSeconds: 120,
        scheduledEndsAt: new Date(T),
        endsAt: new Date(cap - 30_000),
        currentPrice: 10_00,
        bidCount: 3,
        lastSeq: 6,
        leadingBidId: 'earlier-bid',
        leaderId: 'carol',
        leaderMaxAmount: 10_00,
      });

      const toCap = accepted(await h.at(cap - 60_000).placeBid(bid(auction, 11_00)));
      expect(toCap).toMatchObject({ seq: 7, endsAt: iso(cap), extension: { seq: 8, endsAt: iso(cap) } });
      const atCap = accepted(await h.at(cap - 1_000).placeBid(bid(auction, 12_00, { bidderId: 'bob' })));
      expect(atCap).toMatchObject({ seq: 9, endsAt: iso(cap), extension: null });

      expect(await h.at(cap).placeBid(bid(auction, 13_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(ended(await h.at(cap).close(auction.auctionId, randomUUID()))).toMatchObject({ seq: 10, at: iso(cap), winnerId: 'bob', finalPrice: 12_00 });
    });

    it('accepts a bid after the scheduled end but before the extended one, and refuses one at the extended end as ENDED', async () => {
      const auction = await running({ softCloseSeconds: 60 });
      accepted(await h.at(T - 1_000).placeBid(bid(auction, 10_00)));

      const late = accepted(await h.at(T + 30_000).placeBid(bid(auction, 11_00, { bidderId: 'bob' })));
      expect(late).toMatchObject({ seq: 3, endsAt: iso(T + 90_000) });
      expect(await h.at(T + 90_000).placeBid(bid(auction, 12_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await liveAt(T + 90_000, auction)).toMatchObject({ bidCount: 2, lastSeq: 4, endsAt: new Date(T + 90_000), leaderId: 'bob' });
    });
  });

  describe('cancelling', () => {
    it('cancels an auction without bids however little time remains, with the next seq and the reason', async () => {
      const auction = await running();
      const command = cancelOf(auction, { reason: 'Damaged in storage' });

      expect(await h.at(T - 1).cancel(command)).toEqual({
        outcome: 'CANCELLED',
        now: true,
        message: { v: 1, type: 'AuctionCancelled', id: command.eventId, auctionId: auction.auctionId, seq: 1, at: iso(T - 1), reason: 'Damaged in storage', afterEnd: false },
      });
      expect(await liveAt(T - 1, auction)).toMatchObject({ state: 'CANCELLED', lastSeq: 1 });
    });

    it('cancels an auction with bids while more than 12 hours remain', async () => {
      const auction = await running();
      accepted(await h.at(T - 13 * HOUR).placeBid(bid(auction, 10_00)));

      expect(cancelledNow(await h.at(T - 12 * HOUR - 1).cancel(cancelOf(auction)))).toMatchObject({ seq: 2, afterEnd: false, at: iso(T - 12 * HOUR - 1) });
      expect(await liveAt(T - 12 * HOUR - 1, auction)).toMatchObject({ state: 'CANCELLED', lastSeq: 2 });
    });

    it('refuses as TOO_LATE to cancel an auction with bids once 12 hours or less remain, changing nothing', async () => {
      const auction = await running();
      accepted(await h.at(T - 13 * HOUR).placeBid(bid(auction, 10_00)));

      expect(await h.at(T - 12 * HOUR).cancel(cancelOf(auction))).toEqual({ outcome: 'TOO_LATE', endsAt: new Date(T) });
      expect(await liveAt(T - 12 * HOUR, auction)).toMatchObject({ state: 'OPEN', lastSeq: 1 });
      expect(accepted(await h.at(T - 12 * HOUR).placeBid(bid(auction, 11_00, { bidderId: 'bob' }))).seq).toBe(2);
    });

    it('refuses as NOT_ACTIVE to cancel an auction whose end has come unsold, closed or not', async () => {
      const due = await running();
      const unsold = await running({ reservePrice: 50_00 });
      accepted(await h.at(T - HOUR).placeBid(bid(unsold, 10_00)));
      const end = ended(await h.at(T).close(unsold.auctionId, randomUUID()));

      expect(await h.at(T).cancel(cancelOf(due))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await h.at(T + 1).cancel(cancelOf(unsold))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await liveAt(T + 1, unsold)).toMatchObject({ state: 'ENDED', lastSeq: 2 });
      expect(await h.at(T + 1).close(unsold.auctionId, randomUUID())).toEqual({ outcome: 'ENDED', message: end, now: false });
      expect(ended(await h.at(T + 1).close(due.auctionId, randomUUID()))).toMatchObject({ seq: 1, sold: false });
    });

    it('cancels the sale of a sold auction up to 30 days after its end, with the seq after the end', async () => {
      const auction = await running();
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 10_00)));
      ended(await h.at(T).close(auction.auctionId, randomUUID()));
      const command = cancelOf(auction, { reason: 'Buyer and seller agreed' });

      const cancel = cancelledNow(await h.at(T + 30 * DAY).cancel(command));

      expect(cancel).toEqual({
        v: 1,
        type: 'AuctionCancelled',
        id: command.eventId,
        auctionId: auction.auctionId,
        seq: 3,
        at: iso(T + 30 * DAY),
        reason: 'Buyer and seller agreed',
        afterEnd: true,
      });
      expect(await liveAt(T + 30 * DAY, auction)).toMatchObject({ state: 'CANCELLED', lastSeq: 3 });
      expect(await h.at(T + 30 * DAY).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'CANCELLED', message: cancel });
    });

    it('refuses as NOT_ACTIVE to cancel a sale more than 30 days after the end, keeping the end', async () => {
      const auction = await running();
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 10_00)));
      const end = ended(await h.at(T).close(auction.auctionId, randomUUID()));

      expect(await h.at(T + 30 * DAY + 1).cancel(cancelOf(auction))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(await h.at(T + 30 * DAY + 1).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'ENDED', message: end, now: false });
    });

    it('answers a repeated cancel with the first message and now false, taking no further seq', async () => {
      const auction = await running();
      const first = cancelledNow(await h.at(T - HOUR).cancel(cancelOf(auction, { reason: 'first' })));

      expect(await h.at(T - 1).cancel(cancelOf(auction, { reason: 'second' }))).toEqual({ outcome: 'CANCELLED', message: first, now: false });
      expect(await h.at(T + 31 * DAY).cancel(cancelOf(auction))).toEqual({ outcome: 'CANCELLED', message: first, now: false });
      expect(await liveAt(T + 31 * DAY, auction)).toMatchObject({ state: 'CANCELLED', lastSeq: 1 });
    });

    it('refuses every new bid after a cancel, and answers a close, due or not, with the cancel message', async () => {
      const auction = await running();
      accepted(await h.at(T - DAY).placeBid(bid(auction, 10_00)));
      const cancel = cancelledNow(await h.at(T - 13 * HOUR).cancel(cancelOf(auction)));

      expect(await h.at(T - 13 * HOUR + 1).placeBid(bid(auction, 20_00, { bidderId: 'bob' }))).toEqual({ outcome: 'NOT_ACTIVE', status: 'CANCELLED' });
      expect(await h.at(T - 1).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'CANCELLED', message: cancel });
      expect(await h.at(T).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'CANCELLED', message: cancel });
      expect(await liveAt(T, auction)).toMatchObject({ state: 'CANCELLED', bidCount: 1, lastSeq: 2 });
    });
  });

  describe('rescheduling', () => {
    it('applies a reserve set before the first bid at the close', async () => {
      const auction = await running();
      expect(await h.at(T - DAY).reschedule(auction.auctionId, { endsAt: new Date(T), reservePrice: 15_00, buyNowPrice: null })).toBe(true);
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 12_00)));

      expect(ended(await h.at(T).close(auction.auctionId, randomUUID()))).toMatchObject({ reserveStatus: 'NOT_MET', sold: false, winnerId: null });
    });

    it('applies a reserve removed before the first bid at the close', async () => {
      const auction = await running({ reservePrice: 15_00 });
      expect(await h.at(T - DAY).reschedule(auction.auctionId, { endsAt: new Date(T), reservePrice: null, buyNowPrice: null })).toBe(true);
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 12_00)));

      expect(ended(await h.at(T).close(auction.auctionId, randomUUID()))).toMatchObject({ reserveStatus: 'NO_RESERVE', sold: true, winnerId: 'alice' });
    });

    it('refuses to change the reserve or the end once a bid is in, keeping both', async () => {
      const auction = await running({ reservePrice: 15_00 });
      accepted(await h.at(T - HOUR).placeBid(bid(auction, 12_00)));

      expect(await h.at(T - HOUR).reschedule(auction.auctionId, { endsAt: new Date(T + HOUR), reservePrice: null, buyNowPrice: null })).toBe(false);
      expect(ended(await h.at(T).close(auction.auctionId, randomUUID()))).toMatchObject({ reserveStatus: 'NOT_MET', sold: false, at: iso(T) });
    });
  });

  describe('loading a closed auction', () => {
    const endedMessage = (auction: BookEntry): AuctionEndedMessage => ({
      v: 1,
      type: 'AuctionEnded',
      id: randomUUID(),
      auctionId: auction.auctionId,
      seq: 4,
      at: iso(T),
      sold: true,
      finalPrice: 15_00,
      winnerId: 'bob',
      winningBidId: 'b3',
      reserveStatus: 'NO_RESERVE',
      bidCount: 3,
      currentPrice: 15_00,
      leadingBidId: 'b3',
      leaderId: 'bob',
    });

    it('answers a close with the loaded AuctionEnded message and keeps its winner', async () => {
      const source = entry({ startsAt: new Date(T - DAY), endsAt: new Date(T) });
      const final = endedMessage(source);
      const auction: BookEntry = {
        ...source,
        state: 'ENDED',
        currentPrice: 15_00,
        bidCount: 3,
        lastSeq: 4,
        leadingBidId: 'b3',
        leaderId: 'bob',
        leaderMaxAmount: 15_00,
        finalMessage: final,
      };
      await h.at(T + HOUR).load(auction);

      expect(await h.at(T + HOUR).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'ENDED', message: final, now: false });
      expect(await liveAt(T + HOUR, auction)).toMatchObject({ state: 'ENDED', winnerId: 'bob', lastSeq: 4 });
      expect(await h.at(T + HOUR).placeBid(bid(auction, 20_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(cancelledNow(await h.at(T + DAY).cancel(cancelOf(auction)))).toMatchObject({ seq: 5, afterEnd: true });
    });

    it('answers a close and a cancel with the loaded AuctionCancelled message', async () => {
      const source = entry({ startsAt: new Date(T - DAY), endsAt: new Date(T) });
      const final: AuctionCancelledMessage = { v: 1, type: 'AuctionCancelled', id: randomUUID(), auctionId: source.auctionId, seq: 2, at: iso(T - DAY), reason: null, afterEnd: false };
      const auction: BookEntry = { ...source, state: 'CANCELLED', bidCount: 1, lastSeq: 1, leadingBidId: 'b1', leaderId: 'bob', leaderMaxAmount: 10_00, finalMessage: final };
      await h.at(T + HOUR).load(auction);

      expect(await h.at(T + HOUR).close(auction.auctionId, randomUUID())).toEqual({ outcome: 'CANCELLED', message: final });
      expect(await h.at(T + HOUR).cancel(cancelOf(auction))).toEqual({ outcome: 'CANCELLED', message: final, now: false });
    });
  });
});

describe('the memory price book', () => {
  it('forgets a recent bid once its time to live has passed', async () => {
    let now = Date.now();
    const book = createMemoryPriceBook({ clock: () => now, recentBidTtlSeconds: 60 });
    const auction = entry();
    await book.load(auction);
    const message = accepted(await book.placeBid(bid(auction, 10_00)));

    now += 59_000;
    expect(await book.recentBid(message.id)).toEqual(message);
    now += 1_000;
    expect(await book.recentBid(message.id)).toBeNull();
  });

  it('evicts a persisted book only once it has gone untouched for the idle time, a read counting as a touch', async () => {
    let now = Date.now();
    const book = createMemoryPriceBook({ clock: () => now });
    const auction = entry();
    await book.load(auction);
    now += 599_000;
    await book.peek([auction.auctionId]);

    now += 599_000;
    expect(await book.evict(auction.auctionId, { idleSeconds: 600 })).toBe(false);
    now += 1_000;
    expect(await book.evict(auction.auctionId, { idleSeconds: 600 })).toBe(true);
  });

  it('judges bids on its own clock', async () => {
    let now = Date.now();
    const book = createMemoryPriceBook({ clock: () => now });
    const auction = entry();
    await book.load(auction);
    now = auction.endsAt.getTime();
    expect(await book.placeBid(bid(auction, 10_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
  });
});

describe('the redis price book', () => {
  it("judges on the Redis server's TIME: an auction ending at the server's present is over, one starting then is running", async (ctx) => {
    if (redisSkipReason !== null) ctx.skip(redisSkipReason);
    const h = factories.find((f) => f.name === 'redis')!.create();
    try {
      const [seconds, micros] = await h.redis!.time();
      const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      // The script runs after TIME was read, so its own TIME is at or past serverNow.
      const ending = entry({ startsAt: new Date(serverNow - HOUR), endsAt: new Date(serverNow) });
      const starting = entry({ startsAt: new Date(serverNow), endsAt: new Date(serverNow + HOUR) });
      await h.book.load(ending);
      await h.book.load(starting);

      expect(await h.book.placeBid(bid(ending, 10_00))).toEqual({ outcome: 'NOT_ACTIVE', status: 'ENDED' });
      expect(Date.parse(accepted(await h.book.placeBid(bid(starting, 10_00))).at)).toBeGreaterThanOrEqual(serverNow);
    } finally {
      await h.dispose();
    }
  });

  it('keeps the keys of an auction in one hash slot, expiring a week after it ends', async (ctx) => {
    if (redisSkipReason !== null) ctx.skip(redisSkipReason);
    const h = factories.find((f) => f.name === 'redis')!.create();
    try {
      const auction = entry();
      await h.book.load(auction);
      const message = accepted(await h.book.placeBid(bid(auction, 10_00)));
      const auctionKey = `${h.prefix}auction:{${auction.auctionId}}`;
      const expiry = auction.endsAt.getTime() + 7 * DAY;

      expect(await h.redis!.pexpiretime(auctionKey)).toBe(expiry);
      expect(await h.redis!.pexpiretime(`${auctionKey}:m`)).toBe(expiry);
      expect(await h.redis!.ttl(`${h.prefix}bid:{${message.id}}`)).toBeGreaterThan(590);
    } finally {
      await h.dispose();
    }
  });

  it('holds a book without bids in under 250 bytes, and one with ten persisted bids and their keys in under 1 KB', async (ctx) => {
    if (redisSkipReason !== null) ctx.skip(redisSkipReason);
    const h = factories.find((f) => f.name === 'redis')!.create();
    try {
      const auction = entry({ sellerId: randomUUID() });
      const auctionKey = `${h.prefix}auction:{${auction.auctionId}}`;
      await h.book.load(auction);
      const bare = await h.redis!.memory('USAGE', auctionKey);

      const messages: BidPlacedMessage[] = [];
      for (let i = 0; i < 10; i++) messages.push(accepted(await h.book.placeBid(bid(auction, 10_00 + i * 1_00, { bidderId: randomUUID() }))));
      await h.book.markPersisted([{ auctionId: auction.auctionId, seq: 10, bidIds: messages.map((m) => m.id) }]);
      const withBids = await h.redis!.memory('USAGE', auctionKey);

      expect(bare).toBeLessThan(250);
      expect(withBids).toBeLessThan(1_024);
      expect(await h.redis!.object('ENCODING', auctionKey)).toBe('listpack');
      // Nothing else is left of the bids: no messages, no read-your-writes copies.
      expect(await h.redis!.exists(`${auctionKey}:m`, ...messages.map((m) => `${h.prefix}bid:{${m.id}}`))).toBe(0);
    } finally {
      await h.dispose();
    }
  });

  // Named fields, then single letters without the leader's maximum or the Buy It Now price.
  const earlierLayouts = [
    { name: 'named fields', book: (endsAt: number) => ({ sellerId: 'seller', state: 'OPEN', currentPrice: 10_00, bidCount: 0, lastSeq: 0, endsAt }) },
    { name: 'single letters, before automatic bids', book: (endsAt: number) => ({ s: 'seller', b: 0, e: endsAt, o: 10_00, B: 50_00 }) },
  ];
  it.for(earlierLayouts)('drops a book in an earlier layout ($name) and answers MISSING, so that it is rebuilt from Postgres', async ({ book }, ctx) => {
    if (redisSkipReason !== null) ctx.skip(redisSkipReason);
    const h = factories.find((f) => f.name === 'redis')!.create();
    try {
      const auction = entry();
      const auctionKey = `${h.prefix}auction:{${auction.auctionId}}`;
      await h.redis!.hset(auctionKey, book(auction.endsAt.getTime()));

      expect(await h.book.placeBid(bid(auction, 10_00))).toEqual({ outcome: 'MISSING' });
      expect(await h.redis!.exists(auctionKey)).toBe(0);
      expect(await h.book.load(auction)).toBe(true);
      expect(accepted(await h.book.placeBid(bid(auction, 10_00))).seq).toBe(1);
    } finally {
      await h.dispose();
    }
  });
});
