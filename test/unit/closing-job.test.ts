import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { scratchPglite, type ScratchPglite } from '../support/pglite.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { AuctionEndedMessage, AuctionLogMessage, BidLog } from '../../src/ports/bid-log.js';
import type { PriceBook } from '../../src/ports/price-book.js';
import { createBidFinisher } from '../../src/services/bids/bid-finisher.js';
import { createClosingJob, type ClosingDeps } from '../../src/services/auctions/close-auctions.js';
import { persistLogBatch } from '../../src/workers/bid-worker.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const LEASE_MS = 15_000;

describe('the closing job', () => {
  let scratch: ScratchPglite;
  let db: PrismaClient;
  let sellerId: string;
  let bidderId: string;
  /** The one clock of these tests: the job's and the price book's. */
  let now: number;
  let priceBook: PriceBook;
  let published: AuctionLogMessage[];
  let caughtUp: boolean;
  let deps: ClosingDeps;
  let closes: Array<[string, number | undefined]>;

  beforeAll(async () => {
    scratch = await scratchPglite('closing-job');
    db = scratch.db;
    const user = () => db.user.create({ data: { email: `${randomUUID()}@example.com`, passwordHash: 'x', displayName: 'Jordan' } });
    sellerId = (await user()).id;
    bidderId = (await user()).id;
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  beforeEach(async () => {
    // Every test starts from a table with nothing due.
    await db.auction.updateMany({ where: { state: 'OPEN' }, data: { state: 'CANCELLED' } });
    now = T0;
    published = [];
    caughtUp = true;
    priceBook = createMemoryPriceBook({ clock: () => now });
    const bidLog: BidLog = {
      publish: async (message) => void published.push(message),
      isCaughtUp: async () => caughtUp,
      close: async () => {},
    };
    closes = [];
    const metrics = { auctionClosed: (outcome: string, lateBySeconds?: number) => void closes.push([outcome, lateBySeconds]) };
    deps = { db, logger, priceBook, bidLog, bidFinisher: createBidFinisher({ bidLog, logger }), clock: { now: () => new Date(now) }, metrics: metrics as unknown as ClosingDeps['metrics'] };
  });

  /** An auction in Postgres only, ending `endsInMs` after T0 (as after a restart of the in-process price book). */
  async function auction(endsInMs: number): Promise<string> {
    const endsAt = new Date(T0 + endsInMs);
    const row = await db.auction.create({
      data: { sellerId, title: 'Lens', description: '50 mm', currency: 'USD', startingPrice: 1000, currentPrice: 1000, startsAt: new Date(T0 - 3_600_000), endsAt, scheduledEndsAt: endsAt },
    });
    return row.id;
  }

  const ends = () => published.filter((m): m is AuctionEndedMessage => m.type === 'AuctionEnded');

  it('ends every auction that fell due while no job ran, loading each into the price book, and none that is not due', async () => {
    const due = [await auction(-60_000), await auction(-1_000), await auction(0)];
    const later = await auction(5_000);
    const job = createClosingJob(deps, { leaseMs: LEASE_MS });

    expect(await job.runOnce()).toEqual(['ended', 'ended', 'ended']);
    expect(ends().map((m) => m.auctionId).sort()).toEqual([...due].sort());
    expect(ends().every((m) => m.seq === 1 && !m.sold)).toBe(true);
    expect(ends().map((m) => m.auctionId)).not.toContain(later);
  });

  it('claims an auction once while its lease holds, and records its end once however often it is closed', async () => {
    const id = await auction(-1_000);
    const job = createClosingJob(deps, { leaseMs: LEASE_MS });
    expect(await job.runOnce()).toEqual(['ended']);
    expect(await job.runOnce()).toEqual([]);

    // The persister has not recorded it when the lease lapses: the next claim publishes the same message.
    now += LEASE_MS;
    expect(await job.runOnce()).toEqual(['ended']);
    expect(ends()).toHaveLength(2);
    expect(ends()[1]).toEqual(ends()[0]);

    await persistLogBatch(db, published, { configured: false, deadlineMs: 0 });
    expect(await db.auctionEvent.count({ where: { auctionId: id, type: 'AuctionEnded' } })).toBe(1);
    expect(await db.auction.findUniqueOrThrow({ where: { id } })).toMatchObject({ state: 'ENDED', closeLeaseUntil: null, lastSeq: 1 });
    now += LEASE_MS;
    expect(await job.runOnce()).toEqual([]);
  });

  it('publishes no second copy of an end while the persister is behind, and holds the claim', async () => {
    const id = await auction(-1_000);
    const job = createClosingJob(deps, { leaseMs: LEASE_MS });
    expect(await job.runOnce()).toEqual(['ended']);

    caughtUp = false;
    now += LEASE_MS;
    expect(await job.runOnce()).toEqual(['persisting']);
    expect(ends()).toHaveLength(1);
    expect((await db.auction.findUniqueOrThrow({ where: { id } })).closeLeaseUntil).toEqual(new Date(now + LEASE_MS));
  });

  it('waits for its new end when a late bid moved it, and ends it then with the bid counted', async () => {
    const endsAt = new Date(T0 + 1_000);
    const row = await db.auction.create({
      data: { sellerId, title: 'Lens', description: '50 mm', currency: 'USD', startingPrice: 1000, currentPrice: 1000, startsAt: new Date(T0 - 3_600_000), endsAt, scheduledEndsAt: endsAt, softCloseSeconds: 60 },
    });
    await priceBook.load({
      auctionId: row.id, sellerId, state: 'OPEN', startsAt: row.startsAt, endsAt, scheduledEndsAt: endsAt, softCloseSeconds: 60, startingPrice: 1000,
      reservePrice: null, buyNowPrice: null, currentPrice: 1000, bidCount: 0, lastSeq: 0, leadingBidId: null, leaderId: null, leaderMaxAmount: null, finalMessage: null, acceptedBids: [],
    });
    const bid = await priceBook.placeBid({ auctionId: row.id, bidderId, bidId: randomUUID(), amount: 1000, maxAmount: null, idempotencyKey: 'k' });
    expect(bid.outcome === 'ACCEPTED' && bid.message.extension?.seq).toBe(2);

    const job = createClosingJob(deps, { leaseMs: LEASE_MS });
    now = T0 + 2_000;
    expect(await job.runOnce()).toEqual(['not-due']);
    expect((await db.auction.findUniqueOrThrow({ where: { id: row.id } })).closeLeaseUntil).toEqual(new Date(T0 + 60_000));
    now = T0 + 59_000;
    expect(await job.runOnce()).toEqual([]);
    now = T0 + 60_000;
    expect(await job.runOnce()).toEqual(['ended']);
    expect(ends()).toEqual([expect.objectContaining({ auctionId: row.id, seq: 3, sold: true, winnerId: bidderId, finalPrice: 1000, at: new Date(T0 + 60_000).toISOString() })]);
    expect(closes).toEqual([['not-due', undefined], ['ended', 0]]);
  });

  it('leaves an auction whose bids are not all persisted for a later claim, publishing nothing', async () => {
    const id = await auction(-1_000);
    caughtUp = false;
    const job = createClosingJob(deps, { leaseMs: LEASE_MS });
    expect(await job.runOnce()).toEqual(['failed']);
    expect(published).toEqual([]);

    caughtUp = true;
    now += LEASE_MS;
    expect(await job.runOnce()).toEqual(['ended']);
    expect(ends().map((m) => m.auctionId)).toEqual([id]);
  });

  it('splits due auctions between two jobs running at once: each is claimed by one', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => auction(-i * 10)));
    const [a, b] = [createClosingJob(deps, { leaseMs: LEASE_MS, batchSize: 25 }), createClosingJob(deps, { leaseMs: LEASE_MS, batchSize: 25 })];
    const [first, second] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(first.length + second.length).toBe(40);
    expect(new Set(ends().map((m) => m.auctionId))).toEqual(new Set(ids));
    expect(ends()).toHaveLength(40);
  });

  it('stops while an end is still waiting on a log that refuses it, leaving it to the next claim', async () => {
    const id = await auction(-1_000);
    let attempts = 0;
    const refusing: BidLog = {
      publish: async () => {
        attempts++;
        throw new Error('broker unreachable');
      },
      isCaughtUp: async () => true,
      close: async () => {},
    };
    const bidFinisher = createBidFinisher({ bidLog: refusing, logger, retryDelayMs: () => 60_000 });
    const job = createClosingJob({ ...deps, bidLog: refusing, bidFinisher }, { leaseMs: LEASE_MS });
    job.start();
    await vi.waitFor(() => expect(attempts).toBe(1));
    await job.stop();
    await bidFinisher.close(0);

    // The price book ended it; the next job, with the log back, publishes that same end.
    const next = createClosingJob(deps, { leaseMs: LEASE_MS });
    now += LEASE_MS;
    expect(await next.runOnce()).toEqual(['ended']);
    expect(ends()).toEqual([expect.objectContaining({ auctionId: id, seq: 1 })]);
  });
});
