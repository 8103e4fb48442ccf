import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import { createMemoryDeadLetterQueue, type MemoryDeadLetterQueue } from '../../src/adapters/memory/memory-dlq.js';
import { scratchPglite, type ScratchPglite } from '../support/pglite.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, AuctionLogMessage, BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LiveAuctionEvent, LiveEvents } from '../../src/ports/live-events.js';
import { createLiveEvents } from '../../src/adapters/live/live-events.js';
import { createMemoryTransport } from '../../src/adapters/live/memory-transport.js';
import { InvalidBidMessageError, parseLogMessage } from '../../src/workers/bid-message.js';
import { createBidWorker, persistBidBatch, persistLogBatch, type PaymentTerms } from '../../src/workers/bid-worker.js';
import type { DeadLetterQueue, LogMessage } from '../../src/ports/log-consumer.js';
import { handOverConsumer } from '../support/hand-over-consumer.js';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import type { BidDecision, BuyNowDecision } from '../../src/ports/price-book.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const DAY = 24 * 3_600_000;
const PAYMENTS: PaymentTerms = { configured: true, deadlineMs: 4 * DAY };

/** The message the gateway would publish for the seq-th bid on an auction (price 1000 + 100 per bid). */
function bidPlaced(auctionId: string, bidderId: string, seq: number): BidPlacedMessage {
  const id = randomUUID();
  const amount = 1000 + 100 * seq;
  return {
    v: 1,
    type: 'BidPlaced',
    id,
    auctionId,
    seq,
    at: at(seq),
    bid: { id, bidderId, amount, maxAmount: null, idempotencyKey: `key-${id}`, placedAt: at(seq) },
    currentPrice: amount,
    bidCount: seq,
    minimumNextBid: amount + 100,
    endsAt: at(3600 + seq),
    previousLeader: null,
  };
}

/**
 * The AuctionEnded the price book would publish after `bids` (the last one leading), stamped at the
 * end the last bid left; sold unless the reserve was not met.
 */
function auctionEnded(auctionId: string, bids: BidPlacedMessage[], { reserveMet = true } = {}): AuctionEndedMessage {
  const last = bids.at(-1) ?? null;
  const sold = last !== null && reserveMet;
  return {
    v: 1,
    type: 'AuctionEnded',
    id: randomUUID(),
    auctionId,
    seq: (last?.extension?.seq ?? last?.seq ?? 0) + 1,
    at: last?.endsAt ?? at(3600),
    sold,
    finalPrice: sold ? last.currentPrice : null,
    winnerId: sold ? last.bid.bidderId : null,
    winningBidId: sold ? last.id : null,
    reserveStatus: reserveMet ? 'NO_RESERVE' : 'NOT_MET',
    bidCount: bids.length,
    currentPrice: last?.currentPrice ?? 1000,
    leadingBidId: last?.id ?? null,
    leaderId: last?.bid.bidderId ?? null,
  };
}

function auctionCancelled(auctionId: string, seq: number, afterEnd: boolean): AuctionCancelledMessage {
  return { v: 1, type: 'AuctionCancelled', id: randomUUID(), auctionId, seq, at: at(7200), reason: 'Sold elsewhere', afterEnd };
}

const asLog = (message: AuctionLogMessage | string, offset: number, key: string | null = null): LogMessage => ({
  offset: String(offset),
  key: typeof message === 'string' ? key : message.auctionId,
  value: Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)),
});

describe('persisting the bid log', () => {
  let scratch: ScratchPglite;
  let db: PrismaClient;
  let bidderId: string;
  let auctionId: string;

  beforeAll(async () => {
    scratch = await scratchPglite('bid-worker');
    db = scratch.db;
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  beforeEach(async () => {
    const user = () => db.user.create({ data: { email: `${randomUUID()}@example.com`, passwordHash: 'x', displayName: 'Jordan' } });
    const seller = await user();
    bidderId = (await user()).id;
    auctionId = (
      await db.auction.create({
        data: {
          sellerId: seller.id,
          title: 'Vintage camera',
          description: 'A rangefinder',
          currency: 'USD',
          startingPrice: 1000,
          currentPrice: 1000,
          startsAt: new Date(T0 - 60_000),
          endsAt: new Date(at(3600)),
          scheduledEndsAt: new Date(at(3600)),
        },
      })
    ).id;
  });

  const auction = () => db.auction.findUniqueOrThrow({ where: { id: auctionId } });

  /** A price book holding the test's auction as Postgres has it, to make real decisions with. */
  async function bookOf(overrides: { buyNowPrice?: number; softCloseSeconds?: number; endsAt?: Date } = {}) {
    const row = await auction();
    // A clock a second on at every decision, so that each one inside the soft-close window moves the end.
    let now = T0;
    const book = createMemoryPriceBook({ clock: () => (now += 1_000) });
    const endsAt = overrides.endsAt ?? new Date(T0 + 1_800_000);
    await book.load(
      freshBookEntry({
        ...row,
        startsAt: new Date(T0 - 60_000),
        endsAt,
        scheduledEndsAt: endsAt,
        softCloseSeconds: overrides.softCloseSeconds ?? 0,
        buyNowPrice: overrides.buyNowPrice ?? null,
      }),
    );
    return book;
  }
  const decided = (decision: BidDecision | BuyNowDecision): BidPlacedMessage => {
    if (decision.outcome !== 'ACCEPTED') throw new Error(JSON.stringify(decision));
    return decision.message;
  };

  it("writes an automatic bid with its own row and event, before or after the request's own, and the state of the last", async () => {
    const rival = (await db.user.create({ data: { email: `${randomUUID()}@example.com`, passwordHash: 'x', displayName: 'Robin' } })).id;
    const book = await bookOf({ softCloseSeconds: 3600 });
    const bid = (bidder: string, amount: number, maxAmount: number) => book.placeBid({ auctionId, bidderId: bidder, bidId: randomUUID(), amount, maxAmount, idempotencyKey: randomUUID() });
    const opening = decided(await bid(bidderId, 10_00, 50_00));
    const answered = decided(await bid(rival, 10_50, 30_00));
    const beaten = decided(await bid(rival, 32_00, 80_00));

    const events = await persistLogBatch(db, [opening, answered, beaten], PAYMENTS);
    const rows = await db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => [r.seq, r.bidderId, r.amount, r.maxAmount, r.kind, r.idempotencyKey === null])).toEqual([
      [1, bidderId, 10_00, 50_00, 'PLACED', false],
      [3, rival, 30_00, 30_00, 'PLACED', false],
      [4, bidderId, 31_00, 50_00, 'AUTOMATIC', true],
      [6, bidderId, 50_00, 50_00, 'AUTOMATIC', true],
      [7, rival, 51_00, 80_00, 'PLACED', false],
    ]);
    // Each decision in the soft-close window moved the end, announced after its bids.
    expect(events.map((e) => [e.seq, e.type, e.type === 'BidPlaced' ? e.payload.bid.amount : null])).toEqual([
      [1, 'BidPlaced', 10_00],
      [2, 'AuctionExtended', null],
      [3, 'BidPlaced', 30_00],
      [4, 'BidPlaced', 31_00],
      [5, 'AuctionExtended', null],
      [6, 'BidPlaced', 50_00],
      [7, 'BidPlaced', 51_00],
      [8, 'AuctionExtended', null],
    ]);
    expect(JSON.stringify(events)).not.toContain('maxAmount');
    expect(await auction()).toMatchObject({ currentPrice: 51_00, bidCount: 5, lastSeq: 8, leadingBidId: beaten.id, leaderId: rival });
    // Replayed, nothing changes.
    await persistLogBatch(db, [opening, answered, beaten], PAYMENTS);
    expect(await db.bid.count({ where: { auctionId } })).toBe(5);
  });

  it('writes a Buy It Now purchase as a bid and ends the auction with it, creating the payment', async () => {
    const book = await bookOf({ buyNowPrice: 90_00 });
    const bought = decided(await book.buyNow({ auctionId, bidderId, bidId: randomUUID(), eventId: randomUUID(), idempotencyKey: 'buy' }));
    const events = await persistLogBatch(db, [bought], PAYMENTS);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'BidPlaced'],
      [2, 'AuctionEnded'],
    ]);
    expect(await db.bid.findMany({ where: { auctionId } })).toMatchObject([{ kind: 'BUY_NOW', amount: 90_00, requestedAmount: 90_00, idempotencyKey: 'buy' }]);
    expect(await auction()).toMatchObject({ state: 'ENDED', winnerId: bidderId, currentPrice: 90_00, lastSeq: 2, endsAt: new Date(bought.at) });
    expect(await db.payment.findUnique({ where: { auctionId } })).toMatchObject({ payerId: bidderId, amount: 90_00, status: 'REQUIRES_PAYMENT' });
    // The message as the log carries it is read back whole.
    expect(parseLogMessage(Buffer.from(JSON.stringify(bought)))).toEqual(bought);
  });

  it('writes each bid, its BidPlaced event and the auction state of the highest seq', async () => {
    const batch = [1, 2, 3].map((seq) => bidPlaced(auctionId, bidderId, seq));
    await persistBidBatch(db, batch);

    const bids = await db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
    expect(bids.map((b) => [b.id, b.seq, b.amount, b.placedAt.toISOString()])).toEqual(batch.map((m) => [m.id, m.seq, m.bid.amount, m.bid.placedAt]));
    const events = await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['BidPlaced', 'BidPlaced', 'BidPlaced']);
    expect(events[2]?.payload).toEqual({
      bid: { id: batch[2]!.id, auctionId, bidderId, bidderAlias: 'J***n', sellerId: (await auction()).sellerId, amount: 1300, seq: 3, placedAt: at(3), kind: 'PLACED' },
      currentPrice: 1300,
      minimumNextBid: 1400,
      bidCount: 3,
      endsAt: at(3603),
    });
    expect(await auction()).toMatchObject({
      currentPrice: 1300,
      bidCount: 3,
      lastSeq: 3,
      leadingBidId: batch[2]!.id,
      leaderId: bidderId,
      endsAt: new Date(at(3603)),
    });
  });

  it('leaves exactly one row per bid and per event when the same batch is replayed', async () => {
    const batch = [1, 2].map((seq) => bidPlaced(auctionId, bidderId, seq));
    await persistBidBatch(db, batch);
    const before = await auction();
    await persistBidBatch(db, batch);
    // A redelivered batch may also carry a message twice.
    await persistBidBatch(db, [...batch, batch[1]!]);

    expect(await db.bid.count({ where: { auctionId } })).toBe(2);
    expect(await db.auctionEvent.count({ where: { auctionId } })).toBe(2);
    expect(await auction()).toEqual(expect.objectContaining({ lastSeq: 2, bidCount: 2, currentPrice: before.currentPrice }));
  });

  it('persists a bid that comes twice in its first batch once', async () => {
    const message = bidPlaced(auctionId, bidderId, 1);
    await persistBidBatch(db, [message, structuredClone(message)]);

    expect(await db.bid.count({ where: { auctionId } })).toBe(1);
    expect(await db.auctionEvent.count({ where: { auctionId } })).toBe(1);
  });

  it("scopes a bidder's idempotency key to one auction: the same key on another auction persists a bid of its own", async () => {
    const other = await db.auction.create({
      data: { sellerId: (await auction()).sellerId, title: 'Lens', description: '50 mm', currency: 'USD', startingPrice: 1000, currentPrice: 1000, startsAt: new Date(T0 - 60_000), endsAt: new Date(at(3600)), scheduledEndsAt: new Date(at(3600)) },
    });
    const here = bidPlaced(auctionId, bidderId, 1);
    const there = bidPlaced(other.id, bidderId, 1);
    there.bid.idempotencyKey = here.bid.idempotencyKey;

    await persistBidBatch(db, [here, there]);

    const stored = await db.bid.findMany({ where: { bidderId, idempotencyKey: here.bid.idempotencyKey } });
    expect(stored.map((b) => b.id).sort()).toEqual([here.id, there.id].sort());
  });

  it('refuses, rather than drops, a different bid that collides with a stored one on its seq', async () => {
    const stored = bidPlaced(auctionId, bidderId, 1);
    await persistBidBatch(db, [stored]);

    await expect(persistBidBatch(db, [bidPlaced(auctionId, bidderId, 1)])).rejects.toMatchObject({
      meta: { driverAdapterError: { cause: expect.objectContaining({ originalCode: '23505' }) } },
    });
    expect((await db.bid.findMany({ where: { auctionId } })).map((b) => b.id)).toEqual([stored.id]);
  });

  it('never moves an auction back to an older seq, whatever order the messages come in', async () => {
    const [first, second, third] = [1, 2, 3].map((seq) => bidPlaced(auctionId, bidderId, seq)) as [BidPlacedMessage, BidPlacedMessage, BidPlacedMessage];
    await persistBidBatch(db, [third, first]);
    await persistBidBatch(db, [second]);

    expect(await auction()).toMatchObject({ lastSeq: 3, currentPrice: 1300, bidCount: 3, leadingBidId: third.id });
    expect(await db.bid.count({ where: { auctionId } })).toBe(3);
  });

  describe('ends and cancellations', () => {
    const payment = () => db.payment.findMany({ where: { auctionId } });

    it('records an end once across replays: ENDED with its winner, the AuctionEnded event and a payment due a deadline after the end', async () => {
      const bids = [1, 2].map((seq) => bidPlaced(auctionId, bidderId, seq)) as [BidPlacedMessage, BidPlacedMessage];
      const end = auctionEnded(auctionId, bids);

      const events = await persistLogBatch(db, [...bids, end], PAYMENTS);
      // A replayed batch, and the same end published again by a closing worker that lost its answer.
      await persistLogBatch(db, [...bids, end], PAYMENTS);
      await persistLogBatch(db, [structuredClone(end)], PAYMENTS);

      expect(events.map((e) => [e.type, e.seq])).toEqual([
        ['BidPlaced', 1],
        ['BidPlaced', 2],
        ['AuctionEnded', 3],
      ]);
      expect(await auction()).toMatchObject({
        state: 'ENDED',
        winnerId: bidderId,
        endedAt: new Date(end.at),
        endsAt: new Date(end.at),
        lastSeq: 3,
        currentPrice: 1200,
        bidCount: 2,
        leadingBidId: bids[1].id,
        leaderId: bidderId,
        closeLeaseUntil: null,
      });
      const stored = await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
      expect(stored.map((e) => e.type)).toEqual(['BidPlaced', 'BidPlaced', 'AuctionEnded']);
      expect(stored[2]).toMatchObject({
        seq: 3,
        at: new Date(end.at),
        payload: { sold: true, finalPrice: 1200, winnerId: bidderId, winningBidId: bids[1].id, reserveStatus: 'NO_RESERVE', bidCount: 2 },
      });
      expect(await payment()).toEqual([
        expect.objectContaining({ payerId: bidderId, amount: 1200, currency: 'USD', status: 'REQUIRES_PAYMENT', dueAt: new Date(Date.parse(end.at) + 4 * DAY), refundRequestedAt: null }),
      ]);
    });

    it('leaves a payment that has moved on alone when the end is replayed', async () => {
      const bids = [bidPlaced(auctionId, bidderId, 1)];
      const end = auctionEnded(auctionId, bids);
      await persistLogBatch(db, [...bids, end], PAYMENTS);
      await db.payment.updateMany({ where: { auctionId }, data: { status: 'SUCCEEDED' } });

      await persistLogBatch(db, [end], { configured: true, deadlineMs: DAY });

      expect(await payment()).toEqual([expect.objectContaining({ status: 'SUCCEEDED', dueAt: new Date(Date.parse(end.at) + 4 * DAY) })]);
    });

    it('records the payment of a sale as NOT_CONFIGURED when no payment provider is configured', async () => {
      const bids = [bidPlaced(auctionId, bidderId, 1)];
      await persistLogBatch(db, [...bids, auctionEnded(auctionId, bids)], { configured: false, deadlineMs: 4 * DAY });

      expect(await payment()).toEqual([expect.objectContaining({ payerId: bidderId, amount: 1100, status: 'NOT_CONFIGURED' })]);
    });

    it('ends an auction whose reserve was not met unsold: no winner and no payment, its leader kept', async () => {
      const bids = [bidPlaced(auctionId, bidderId, 1)];
      await persistLogBatch(db, [...bids, auctionEnded(auctionId, bids, { reserveMet: false })], PAYMENTS);

      expect(await auction()).toMatchObject({ state: 'ENDED', winnerId: null, leaderId: bidderId, currentPrice: 1100, lastSeq: 2 });
      expect(await payment()).toEqual([]);
    });

    it('ends an auction without bids unsold, with no payment', async () => {
      const end = auctionEnded(auctionId, []);
      await persistLogBatch(db, [end], PAYMENTS);

      expect(await auction()).toMatchObject({ state: 'ENDED', winnerId: null, leaderId: null, bidCount: 0, lastSeq: 1, endedAt: new Date(end.at) });
      expect(await payment()).toEqual([]);
    });

    it('stores a bid that extended the auction as its BidPlaced and AuctionExtended events, moving last_seq and ends_at', async () => {
      const extending = { ...bidPlaced(auctionId, bidderId, 1), endsAt: at(3720), extension: { seq: 2, endsAt: at(3720) } };

      const events = await persistLogBatch(db, [extending], PAYMENTS);
      await persistLogBatch(db, [extending], PAYMENTS);

      expect(events.map((e) => [e.type, e.seq])).toEqual([
        ['BidPlaced', 1],
        ['AuctionExtended', 2],
      ]);
      const stored = await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
      expect(stored.map((e) => [e.type, e.seq])).toEqual([
        ['BidPlaced', 1],
        ['AuctionExtended', 2],
      ]);
      expect(stored[1]).toMatchObject({ payload: { endsAt: at(3720) }, at: new Date(extending.at) });
      expect(await auction()).toMatchObject({ lastSeq: 2, endsAt: new Date(at(3720)), bidCount: 1 });

      await persistLogBatch(db, [bidPlaced(auctionId, bidderId, 3)], PAYMENTS);
      expect(await auction()).toMatchObject({ lastSeq: 3, bidCount: 3 });
    });

    it('stores a bid republished after the end, without moving the ended auction', async () => {
      const [first, late] = [1, 2].map((seq) => bidPlaced(auctionId, bidderId, seq)) as [BidPlacedMessage, BidPlacedMessage];
      // The price book counted the late bid at the close; its publish reached the log only after the end's.
      const end = auctionEnded(auctionId, [first, late]);
      await persistLogBatch(db, [first, end], PAYMENTS);
      const before = await auction();

      await persistLogBatch(db, [late], PAYMENTS);

      expect((await db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } })).map((b) => b.id)).toEqual([first.id, late.id]);
      expect((await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } })).map((e) => e.type)).toEqual(['BidPlaced', 'BidPlaced', 'AuctionEnded']);
      expect(await auction()).toEqual(before);
      expect(before).toMatchObject({ state: 'ENDED', lastSeq: 3, endsAt: new Date(end.at), leadingBidId: late.id });
    });

    it('cancels a running auction: CANCELLED with its reason, the event, and no payment', async () => {
      const bids = [bidPlaced(auctionId, bidderId, 1)];
      const cancel = auctionCancelled(auctionId, 2, false);

      const events = await persistLogBatch(db, [...bids, cancel], PAYMENTS);
      await persistLogBatch(db, [cancel], PAYMENTS);

      expect(events.map((e) => [e.type, e.seq])).toEqual([
        ['BidPlaced', 1],
        ['AuctionCancelled', 2],
      ]);
      expect(await auction()).toMatchObject({ state: 'CANCELLED', cancelledAt: new Date(cancel.at), cancelReason: 'Sold elsewhere', lastSeq: 2 });
      const stored = await db.auctionEvent.findMany({ where: { auctionId, type: 'AuctionCancelled' } });
      expect(stored).toEqual([expect.objectContaining({ seq: 2, payload: { reason: 'Sold elsewhere', afterEnd: false } })]);
      expect(await payment()).toEqual([]);
    });

    it('cancels a sale after its end, asking for a refund of its payment once', async () => {
      const bids = [bidPlaced(auctionId, bidderId, 1)];
      const cancel = auctionCancelled(auctionId, 3, true);
      await persistLogBatch(db, [...bids, auctionEnded(auctionId, bids)], PAYMENTS);

      await persistLogBatch(db, [cancel], PAYMENTS);
      // Replayed, even as a copy stamped later, it asks for nothing more.
      await persistLogBatch(db, [{ ...cancel, at: at(9000) }], PAYMENTS);

      expect(await auction()).toMatchObject({ state: 'CANCELLED', cancelledAt: new Date(cancel.at), winnerId: bidderId, lastSeq: 3 });
      expect(await payment()).toEqual([expect.objectContaining({ refundRequestedAt: new Date(cancel.at), status: 'REQUIRES_PAYMENT' })]);
      expect(await db.auctionEvent.count({ where: { auctionId, type: 'AuctionCancelled' } })).toBe(1);
    });
  });

  describe('the worker', () => {
    let consumer: ReturnType<typeof handOverConsumer>;
    let dlq: MemoryDeadLetterQueue;
    let live: LiveEvents;

    beforeEach(async () => {
      consumer = handOverConsumer();
      dlq = createMemoryDeadLetterQueue();
      live = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger });
      const worker = createBidWorker({ db, consumer, dlq, live, payments: PAYMENTS, logger });
      await worker.start();
      await worker.ready;
    });

    it('dead-letters malformed messages with the reason and persists the rest of their batch', async () => {
      const good = [1, 2].map((seq) => bidPlaced(auctionId, bidderId, seq)) as [BidPlacedMessage, BidPlacedMessage];
      const wrongShape = { ...bidPlaced(auctionId, bidderId, 9), currentPrice: -5 };
      await consumer.deliver({
        partition: 3,
        messages: [asLog(good[0], 10), asLog('{"v":1,"type":"BidPl', 11, auctionId), asLog(wrongShape, 12), asLog(good[1], 13)],
      });

      expect(dlq.letters.map((l) => [l.raw.partition, l.raw.offset])).toEqual([
        [3, '11'],
        [3, '12'],
      ]);
      expect(dlq.letters[0]?.reason).toMatch(/^not JSON/);
      expect(dlq.letters[1]?.reason).toMatch(/currentPrice/);
      expect(dlq.letters[1]?.raw.value?.toString()).toBe(JSON.stringify(wrongShape));
      expect((await db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } })).map((b) => b.id)).toEqual(good.map((m) => m.id));
    });

    it('publishes each persisted bid to live subscribers, in log order, only once Postgres holds it', async () => {
      const subscription = await live.auctionEvents(auctionId);
      const received: Array<{ event: LiveAuctionEvent; storedBids: number }> = [];
      const reading = (async () => {
        for await (const event of subscription) {
          received.push({ event, storedBids: await db.bid.count({ where: { auctionId } }) });
          if (received.length === 2) break;
        }
      })();
      const batch = [1, 2].map((seq) => bidPlaced(auctionId, bidderId, seq));
      await consumer.deliver({ partition: 0, messages: batch.map((m, i) => asLog(m, i)) });
      await reading;

      expect(received.map(({ event }) => [event.type, event.seq])).toEqual([
        ['BidPlaced', 1],
        ['BidPlaced', 2],
      ]);
      expect(received.every(({ storedBids }) => storedBids === 2)).toBe(true);
      expect(received[0]?.event.payload).toMatchObject({ bid: { id: batch[0]!.id, bidderAlias: 'J***n', amount: 1100 }, currentPrice: 1100 });
      const stored = await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
      expect(stored.map((e) => e.payload)).toEqual(received.map(({ event }) => event.payload));
    });

    it('publishes an end to live subscribers after its bid, once Postgres has recorded it', async () => {
      const subscription = await live.auctionEvents(auctionId);
      const received: Array<{ event: LiveAuctionEvent; state: string }> = [];
      const reading = (async () => {
        for await (const event of subscription) {
          received.push({ event, state: (await auction()).state });
          if (received.length === 2) break;
        }
      })();
      const bid = bidPlaced(auctionId, bidderId, 1);
      await consumer.deliver({ partition: 0, messages: [asLog(bid, 0), asLog(auctionEnded(auctionId, [bid]), 1)] });
      await reading;

      expect(received.map(({ event, state }) => [event.type, event.seq, state])).toEqual([
        ['BidPlaced', 1, 'ENDED'],
        ['AuctionEnded', 2, 'ENDED'],
      ]);
      expect(received[1]?.event.payload).toEqual({ sold: true, finalPrice: 1100, winnerId: bidderId, winningBidId: bid.id, reserveStatus: 'NO_RESERVE', bidCount: 1 });
    });

    it('dead-letters a sold end that names no winner, leaving the auction open', async () => {
      const bid = bidPlaced(auctionId, bidderId, 1);
      const broken = { ...auctionEnded(auctionId, [bid]), winnerId: null };
      await consumer.deliver({ partition: 0, messages: [asLog(bid, 0), asLog(broken, 1)] });

      expect(dlq.letters.map((l) => [l.raw.offset, l.reason])).toEqual([['1', expect.stringMatching(/^sold:/)]]);
      expect(await auction()).toMatchObject({ state: 'OPEN', lastSeq: 1 });
      expect(await db.payment.count({ where: { auctionId } })).toBe(0);
    });

    it('still persists and commits a batch when the live fan-out fails', async () => {
      const failing: LiveEvents = { ...live, publishAuctionEvents: () => Promise.reject(new Error('pub/sub down')) };
      const other = handOverConsumer();
      await createBidWorker({ db, consumer: other, dlq, live: failing, payments: PAYMENTS, logger }).start();

      await other.deliver({ partition: 0, messages: [asLog(bidPlaced(auctionId, bidderId, 1), 0)] });
      expect(await db.bid.count({ where: { auctionId } })).toBe(1);
    });

    it('dead-letters a message keyed by another auction, since its partition would be wrong', async () => {
      const message = bidPlaced(auctionId, bidderId, 1);
      await consumer.deliver({ partition: 0, messages: [asLog(JSON.stringify(message), 0, randomUUID())] });

      expect(dlq.letters[0]?.reason).toMatch(/is not the auction id/);
      expect(await db.bid.count({ where: { auctionId } })).toBe(0);
    });

    it('raises an alarm for every dead letter: an error-level log and the dead-letter metric, by cause', async () => {
      const lines: Array<Record<string, unknown>> = [];
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      });
      const counted: string[] = [];
      const other = handOverConsumer();
      const metrics = { bidDeadLettered: (cause: string) => counted.push(cause) };
      await createBidWorker({ db, consumer: other, dlq, live, metrics, payments: PAYMENTS, logger: pino({ level: 'error' }, stream) }).start();
      const orphan = bidPlaced(randomUUID(), bidderId, 1);

      await other.deliver({ partition: 2, messages: [asLog('{', 7, auctionId), asLog(orphan, 8), asLog(bidPlaced(auctionId, bidderId, 1), 9)] });

      expect(counted.sort()).toEqual(['invalid', 'refused']);
      const alarms = lines.filter((line) => line.msg === 'accepted bid dead-lettered: it will not be persisted');
      expect(alarms).toEqual([
        expect.objectContaining({ level: 50, partition: 2, offset: '7', cause: 'invalid' }),
        expect.objectContaining({ level: 50, partition: 2, offset: '8', cause: 'refused', auctionId: orphan.auctionId }),
      ]);
      expect(await db.bid.count({ where: { auctionId } })).toBe(1);
    });

    it('dead-letters a bid Postgres refuses instead of retrying it forever, and persists its neighbours', async () => {
      const orphan = bidPlaced(randomUUID(), bidderId, 1);
      const good = bidPlaced(auctionId, bidderId, 1);
      await consumer.deliver({ partition: 0, messages: [asLog(orphan, 0), asLog(good, 1)] });

      expect(dlq.letters.map((l) => l.raw.offset)).toEqual(['0']);
      expect(dlq.letters[0]?.reason).toMatch(/refused by Postgres \(23503\)/);
      expect(await db.bid.count({ where: { auctionId } })).toBe(1);
    });
  });

  it('commits nothing while a dead letter cannot be published, and dead-letters it once on the redelivery', async () => {
    const log = createMemoryBidLog({ partitions: 1 });
    const unstorable = bidPlaced(auctionId, bidderId, 1);
    unstorable.bid.idempotencyKey = 'key\u0000with NUL';
    const good = bidPlaced(auctionId, bidderId, 2);
    await log.publish(unstorable, { timeoutMs: 100 });
    await log.publish(good, { timeoutMs: 100 });

    const letters = createMemoryDeadLetterQueue();
    const caughtUpAtAttempt: boolean[] = [];
    const flaky: DeadLetterQueue = {
      publish: async (raw, reason) => {
        caughtUpAtAttempt.push(await log.isCaughtUp(auctionId));
        if (caughtUpAtAttempt.length === 1) throw new Error('dead-letter topic unavailable');
        await letters.publish(raw, reason);
      },
    };
    const worker = createBidWorker({ db, consumer: log.consumer('bid-persister'), dlq: flaky, live: createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger }), payments: PAYMENTS, logger });
    await worker.start();
    try {
      await vi.waitFor(async () => expect(await log.isCaughtUp(auctionId)).toBe(true), { timeout: 10_000, interval: 20 });
    } finally {
      await worker.stop();
    }

    // The failed attempt left the batch uncommitted: the second attempt still found it so.
    expect(caughtUpAtAttempt).toEqual([false, false]);
    expect(letters.letters.map((l) => [l.raw.offset, l.raw.key])).toEqual([['0', auctionId]]);
    expect(letters.letters[0]?.reason).toMatch(/^bid\.idempotencyKey:/);
    // The good bid of the same batch was written on each delivery, and exists once.
    expect((await db.bid.findMany({ where: { auctionId } })).map((b) => b.id)).toEqual([good.id]);
  });

  it('lets a database outage fail the batch so that it is delivered again', async () => {
    const consumer = handOverConsumer();
    const dlq = createMemoryDeadLetterQueue();
    const refused = () => Promise.reject(new Error('connection refused'));
    const down = { user: { findMany: refused }, auction: { findMany: refused }, $executeRaw: refused } as unknown as PrismaClient;
    const live = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger });
    await createBidWorker({ db: down, consumer, dlq, live, payments: PAYMENTS, logger }).start();

    await expect(consumer.deliver({ partition: 0, messages: [asLog(bidPlaced(auctionId, bidderId, 1), 0)] })).rejects.toThrow('connection refused');
    expect(dlq.letters).toEqual([]);
  });
});

describe('parseLogMessage', () => {
  const valid = bidPlaced(randomUUID(), randomUUID(), 1);
  const end = auctionEnded(valid.auctionId, [valid]);
  const unsold = auctionEnded(valid.auctionId, [valid], { reserveMet: false });
  const cancel = auctionCancelled(valid.auctionId, 3, true);
  const raw = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  const reasonFor = (value: unknown) => {
    try {
      parseLogMessage(raw(value));
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidBidMessageError);
      return (error as Error).message;
    }
    return undefined;
  };

  it('returns a well-formed message as it was published, ignoring fields it does not know', () => {
    expect(parseLogMessage(raw({ ...valid, addedLater: true }))).toEqual(valid);
  });

  it.each([
    ['a bid that extended the auction', { ...valid, extension: { seq: 2, endsAt: valid.endsAt } }],
    ['a bid with a null extension', { ...valid, extension: null }],
    ['a sold end', end],
    ['an unsold end', unsold],
    ['an end without bids', auctionEnded(valid.auctionId, [])],
    ['a cancellation', cancel],
    ['a cancellation without a reason', { ...cancel, reason: null, afterEnd: false }],
  ])('accepts %s as it was published', (_name, message) => {
    expect(parseLogMessage(raw(message))).toEqual(message);
  });

  it.each([
    ['not JSON', '{', /^not JSON/],
    ['another version', { ...valid, v: 2 }, /^v:/],
    ['an amount beyond a Postgres integer', { ...valid, bid: { ...valid.bid, amount: 2 ** 31 } }, /^bid\.amount:/],
    ['a fractional price', { ...valid, currentPrice: 10.5 }, /^currentPrice:/],
    ['a bid id that is not the message id', { ...valid, bid: { ...valid.bid, id: randomUUID() } }, /^bid\.id:/],
    ['a date that is not ISO 8601', { ...valid, endsAt: 'tomorrow' }, /^endsAt:/],
    ['a NUL in the idempotency key', { ...valid, bid: { ...valid.bid, idempotencyKey: 'a\u0000b' } }, /^bid\.idempotencyKey:/],
    ['an unpaired surrogate in the idempotency key', { ...valid, bid: { ...valid.bid, idempotencyKey: 'a\ud800b' } }, /^bid\.idempotencyKey:/],
    ['a missing field', { ...valid, seq: undefined }, /^seq:/],
    ['an extension that is not the seq after its bid', { ...valid, extension: { seq: 3, endsAt: valid.endsAt } }, /^extension\.seq:/],
    ['a sold end without a winner', { ...end, winnerId: null }, /^sold:/],
    ['a sold end without a final price', { ...end, finalPrice: null }, /^sold:/],
    ['an unsold end naming a winner', { ...unsold, winnerId: valid.bid.bidderId, winningBidId: valid.id, finalPrice: valid.currentPrice }, /^sold:/],
    ['an unsold end naming only a winner', { ...unsold, winnerId: valid.bid.bidderId }, /^sold:/],
    ['an end with an unknown reserve status', { ...end, reserveStatus: 'ALMOST' }, /^reserveStatus:/],
    ['an end with a negative bid count', { ...end, bidCount: -1 }, /^bidCount:/],
    ['an end without its leader', { ...end, leaderId: undefined }, /^leaderId:/],
    ['a cancellation without afterEnd', { ...cancel, afterEnd: undefined }, /^afterEnd:/],
    ['a NUL in a cancellation reason', { ...cancel, reason: 'a\u0000b' }, /^reason:/],
    ['a cancellation of an auction id that is not a uuid', { ...cancel, auctionId: 'auction-1' }, /^auctionId:/],
  ])('refuses %s, saying where', (_name, value, reason) => {
    expect(reasonFor(value)).toMatch(reason);
  });

  it('refuses a message of a type it does not know', () => {
    expect(reasonFor({ ...cancel, type: 'AuctionPaused' })).toBeDefined();
  });

  it('refuses a message without a value', () => {
    expect(() => parseLogMessage(null)).toThrow(InvalidBidMessageError);
  });
});
