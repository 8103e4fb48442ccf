import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptBid } from '../../src/services/bids/place-bid.js';
import { createBidFinisher, type BidFinisher } from '../../src/services/bids/bid-finisher.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { createMemoryBidLog, type MemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { PriceBook } from '../../src/ports/price-book.js';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { UseCaseMetrics } from '../../src/ports/metrics.js';

const silent = pino({ level: 'silent' });
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const metrics: UseCaseMetrics = { bidAccepted: () => {}, bidRefused: () => {}, outbidSms: () => {}, bidDeadLettered: () => {}, auctionClosed: () => {} };

/** Postgres as the persister left it: the auction and the bids it stored. */
function persistedRows(auction: { id: string; endsAt: Date; startingPrice: number }, bids: BidPlacedMessage[]) {
  const rows = bids.map((m) => ({ ...m.bid, auctionId: m.auctionId, seq: m.seq, placedAt: new Date(m.bid.placedAt) }));
  return {
    auction: { findUnique: async () => auction },
    bid: {
      findUnique: async ({ where }: { where: { auctionId_bidderId_idempotencyKey: { auctionId: string; bidderId: string; idempotencyKey: string } } }) => {
        const { auctionId, bidderId, idempotencyKey } = where.auctionId_bidderId_idempotencyKey;
        return rows.find((r) => r.auctionId === auctionId && r.bidderId === bidderId && r.idempotencyKey === idempotencyKey) ?? null;
      },
      count: async ({ where }: { where: { seq: { lte: number } } }) => rows.filter((r) => r.seq <= where.seq.lte).length,
    },
  } as unknown as PrismaClient;
}

describe('retrying a key whose bid the price book knows is persisted', () => {
  const auction = { id: randomUUID(), endsAt: new Date(NOW + 3_600_000), startingPrice: 10_00 };
  let priceBook: PriceBook;
  let bidLog: MemoryBidLog;
  let bidFinisher: BidFinisher;

  beforeEach(async () => {
    priceBook = createMemoryPriceBook({ clock: () => NOW });
    bidLog = createMemoryBidLog();
    bidFinisher = createBidFinisher({ bidLog, logger: silent });
    await priceBook.load(
      freshBookEntry({
        id: auction.id, sellerId: randomUUID(), state: 'OPEN', startsAt: new Date(NOW - 60_000), endsAt: auction.endsAt,
        scheduledEndsAt: auction.endsAt, softCloseSeconds: 0, startingPrice: auction.startingPrice, reservePrice: null, buyNowPrice: null,
      }),
    );
  });
  afterEach(async () => {
    await bidFinisher.close(0);
    await Promise.all([bidLog.close(), priceBook.dispose()]);
  });

  it('answers with the bid as Postgres holds it, publishing nothing again', async () => {
    const bidder = { id: randomUUID() };
    const input = { auctionId: auction.id, amount: 10_00, idempotencyKey: 'once' };
    const noDatabase = {} as PrismaClient;
    const { message } = await acceptBid({ db: noDatabase, logger: silent, priceBook, bidLog, bidFinisher, metrics }, bidder, input);
    await priceBook.markPersisted([{ auctionId: auction.id, seq: message.seq, bidIds: [message.id] }]);
    const logged = bidLog.lag('bid-persister');

    const deps = { db: persistedRows(auction, [message]), logger: silent, priceBook, bidLog, bidFinisher, metrics };
    const again = await acceptBid(deps, bidder, input);

    expect(again.replayed).toBe(true);
    expect(again.message).toMatchObject({ id: message.id, seq: 1, bid: message.bid, currentPrice: 10_00, bidCount: 1, minimumNextBid: message.minimumNextBid });
    expect(bidLog.lag('bid-persister')).toBe(logged);
  });

  it('fails loudly, rather than answering as a new bid, when Postgres lacks a bid marked persisted', async () => {
    const bidder = { id: randomUUID() };
    const input = { auctionId: auction.id, amount: 10_00, idempotencyKey: 'lost' };
    const { message } = await acceptBid({ db: {} as PrismaClient, logger: silent, priceBook, bidLog, bidFinisher, metrics }, bidder, input);
    await priceBook.markPersisted([{ auctionId: auction.id, seq: message.seq, bidIds: [message.id] }]);

    const deps = { db: persistedRows(auction, []), logger: silent, priceBook, bidLog, bidFinisher, metrics };
    await expect(acceptBid(deps, bidder, input)).rejects.toThrow(/marked persisted but Postgres lacks it/);
    expect((await priceBook.peek([auction.id])).get(auction.id)).toMatchObject({ bidCount: 1, lastSeq: 1 });
  });
});
