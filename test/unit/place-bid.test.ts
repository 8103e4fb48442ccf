import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptBid, placeBid } from '../../src/services/bids/place-bid.js';
import { createBidFinisher, type BidFinisher } from '../../src/services/bids/bid-finisher.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { createMemoryBidLog, type MemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import { AppError } from '../../src/domain/errors.js';
import { formatMoney } from '../../src/domain/money.js';
import { minimumNextBid } from '../../src/domain/increments.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { PriceBook } from '../../src/ports/price-book.js';
import type { UseCaseMetrics } from '../../src/ports/metrics.js';
import { bidPlacedNow } from '../support/bid-messages.js';

const silent = pino({ level: 'silent' });
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const STARTING_PRICE = 10_00;

// The price book holds every auction these tests bid on, so Postgres is never asked; a reload would throw.
const noDatabase = new Proxy({} as PrismaClient, {
  get: (_target, property) => {
    throw new Error(`Postgres was asked for ${String(property)}`);
  },
});

function countingMetrics() {
  const counted = { accepted: 0, refused: [] as string[] };
  const metrics: UseCaseMetrics = {
    bidAccepted: () => void counted.accepted++,
    bidRefused: (code) => void counted.refused.push(code),
    outbidSms: () => {},
    bidDeadLettered: () => {},
    auctionClosed: () => {},
  };
  return { metrics, counted };
}

const refusalOf = (attempt: Promise<unknown>): Promise<AppError> =>
  attempt.then(
    () => {
      throw new Error('the bid was accepted');
    },
    (error: unknown) => {
      if (error instanceof AppError) return error;
      throw error;
    },
  );

describe('placing a bid against the in-process price book and bid log', () => {
  const sellerId = randomUUID();
  let auctionId: string;
  let priceBook: PriceBook;
  let bidLog: MemoryBidLog;
  let bidFinisher: BidFinisher;
  let counting: ReturnType<typeof countingMetrics>;
  const deps = () => ({ db: noDatabase, logger: silent, priceBook, bidLog, bidFinisher, metrics: counting.metrics });

  beforeEach(async () => {
    auctionId = randomUUID();
    priceBook = createMemoryPriceBook({ clock: () => NOW });
    bidLog = createMemoryBidLog();
    bidFinisher = createBidFinisher({ bidLog, logger: silent });
    counting = countingMetrics();
    await priceBook.load(
      freshBookEntry({
        id: auctionId,
        sellerId,
        state: 'OPEN',
        startsAt: new Date(NOW - 60_000),
        endsAt: new Date(NOW + 3_600_000),
        scheduledEndsAt: new Date(NOW + 3_600_000),
        softCloseSeconds: 0,
        startingPrice: STARTING_PRICE,
        reservePrice: null,
        buyNowPrice: null,
      }),
    );
  });

  afterEach(async () => {
    await bidFinisher.close(0);
    await Promise.all([bidLog.close(), priceBook.dispose()]);
  });

  it('accepts a bid at the starting price only once the bid log holds it, and counts it', async () => {
    const bidderId = randomUUID();
    const { message, replayed } = await acceptBid(deps(), { id: bidderId }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'first' });
    expect(replayed).toBe(false);
    expect(message).toMatchObject({ auctionId, seq: 1, currentPrice: STARTING_PRICE, bid: { bidderId, amount: STARTING_PRICE, idempotencyKey: 'first' } });
    expect(bidLog.lag('bid-persister')).toBe(1);
    expect(counting.counted).toEqual({ accepted: 1, refused: [] });
  });

  it('answers with the bid and the auction as the decision left them, reading nothing from Postgres', async () => {
    const bidderId = randomUUID();
    await acceptBid(deps(), { id: randomUUID() }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'earlier' });
    const next = minimumNextBid({ currentPrice: STARTING_PRICE, bidCount: 1, startingPrice: STARTING_PRICE });
    const placed = await placeBid(deps(), { id: bidderId, displayName: 'Bob Bidder' }, { auctionId, amount: next, idempotencyKey: 'second' });
    expect(placed.bid).toMatchObject({ auctionId, bidderId, amount: next, seq: 2, bidderAlias: 'B***r' });
    expect(placed.live).toMatchObject({ id: auctionId, status: 'ACTIVE', currentPrice: next, bidCount: 2, leadingBidId: placed.bid.id, lastSeq: 2 });
    expect(placed.live?.minimumNextBid).toBe(minimumNextBid({ currentPrice: next, bidCount: 2, startingPrice: STARTING_PRICE }));
    // A retried key's auction may have moved on since, so the resolver reads it instead.
    const retried = await placeBid(deps(), { id: bidderId, displayName: 'Bob Bidder' }, { auctionId, amount: next, idempotencyKey: 'second' });
    expect(retried).toEqual({ bid: placed.bid, live: null });
  });

  it('answers a retried idempotency key with the first bid, logging and counting it once', async () => {
    const bidder = { id: randomUUID() };
    const first = await acceptBid(deps(), bidder, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'retried' });
    const again = await acceptBid(deps(), bidder, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'retried' });
    expect(again).toEqual({ message: first.message, replayed: true });
    // The replay is published again (the worker ignores a known id) but is the same bid.
    expect((await priceBook.peek([auctionId])).get(auctionId)).toMatchObject({ bidCount: 1 });
    expect(counting.counted.accepted).toBe(1);
  });

  it('refuses a bid below the minimum with BID_TOO_LOW naming the minimum next bid', async () => {
    await acceptBid(deps(), { id: randomUUID() }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'leader' });
    const refused = await refusalOf(acceptBid(deps(), { id: randomUUID() }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'equal' }));
    const minimum = minimumNextBid({ startingPrice: STARTING_PRICE, currentPrice: STARTING_PRICE, bidCount: 1 });
    expect(refused.code).toBe('BID_TOO_LOW');
    expect(refused.details).toEqual({ minimumNextBid: formatMoney(minimum) });
    expect(bidLog.lag('bid-persister')).toBe(1);
    expect(counting.counted).toEqual({ accepted: 1, refused: ['BID_TOO_LOW'] });
  });

  it("refuses a bid on the bidder's own auction with FORBIDDEN", async () => {
    const refused = await refusalOf(acceptBid(deps(), { id: sellerId }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'own' }));
    expect(refused.code).toBe('FORBIDDEN');
    expect(bidLog.lag('bid-persister')).toBe(0);
  });

  it('refuses an anonymous bidder with UNAUTHENTICATED before the price book is asked', async () => {
    const refused = await refusalOf(acceptBid(deps(), null, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'anonymous' }));
    expect(refused.code).toBe('UNAUTHENTICATED');
    expect((await priceBook.peek([auctionId])).get(auctionId)).toMatchObject({ bidCount: 0 });
  });

  it('refuses a new bid with UNAVAILABLE while an accepted bid waits on a failing log, changing nothing', async () => {
    const failing: BidFinisher = { failing: true, publish: async () => {}, hasPending: () => true, close: async () => {} };
    const refused = await refusalOf(
      acceptBid({ ...deps(), bidFinisher: failing }, { id: randomUUID() }, { auctionId, amount: STARTING_PRICE, idempotencyKey: 'paused' }),
    );
    expect(refused.code).toBe('UNAVAILABLE');
    expect((await priceBook.peek([auctionId])).get(auctionId)).toMatchObject({ bidCount: 0 });
    expect(counting.counted).toEqual({ accepted: 0, refused: ['UNAVAILABLE'] });
  });

  it('refuses a bid on an auction the price book lacks with UNAVAILABLE until its log is persisted', async () => {
    const missing = randomUUID();
    await bidLog.publish(bidPlacedNow(missing, 1), { timeoutMs: 1_000 });
    const db = { auction: { findUnique: async () => ({ id: missing }) } } as unknown as PrismaClient;
    const refused = await refusalOf(acceptBid({ ...deps(), db }, { id: randomUUID() }, { auctionId: missing, amount: STARTING_PRICE, idempotencyKey: 'early' }));
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.message).toMatch(/resumes in a moment/);
    expect((await priceBook.peek([missing])).has(missing)).toBe(false);
  });
});
