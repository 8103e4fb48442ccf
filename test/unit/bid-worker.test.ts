import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import { createMemoryDeadLetterQueue, type MemoryDeadLetterQueue } from '../../src/adapters/memory/memory-dlq.js';
import { openDatabase, type Database } from '../../src/adapters/postgres/database.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LiveAuctionEvent, LiveEvents } from '../../src/ports/live-events.js';
import { createLiveEvents } from '../../src/adapters/live/live-events.js';
import { createMemoryTransport } from '../../src/adapters/live/memory-transport.js';
import { InvalidBidMessageError, parseBidPlaced } from '../../src/workers/bid-message.js';
import { createBidWorker, persistBidBatch } from '../../src/workers/bid-worker.js';
import type { DeadLetterQueue, LogMessage } from '../../src/ports/log-consumer.js';
import { handOverConsumer } from '../support/hand-over-consumer.js';

const logger = pino({ level: 'silent' });
const MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations');
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

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

const asLog = (message: BidPlacedMessage | string, offset: number, key: string | null = null): LogMessage => ({
  offset: String(offset),
  key: typeof message === 'string' ? key : message.auctionId,
  value: Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)),
});

describe('persisting the bid log', () => {
  let dataDir: string;
  let database: Database;
  let db: PrismaClient;
  let bidderId: string;
  let auctionId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'bid-worker-'));
    database = await openDatabase({ dataDir, migrationsDir: MIGRATIONS, logger });
    await database.migrate();
    db = database.prisma;
  });
  afterAll(async () => {
    await database?.close();
    await rm(dataDir, { recursive: true, force: true });
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

  it('writes each bid, its BidPlaced event and the auction state of the highest seq', async () => {
    const batch = [1, 2, 3].map((seq) => bidPlaced(auctionId, bidderId, seq));
    await persistBidBatch(db, batch);

    const bids = await db.bid.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
    expect(bids.map((b) => [b.id, b.seq, b.amount, b.placedAt.toISOString()])).toEqual(batch.map((m) => [m.id, m.seq, m.bid.amount, m.bid.placedAt]));
    const events = await db.auctionEvent.findMany({ where: { auctionId }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['BidPlaced', 'BidPlaced', 'BidPlaced']);
    expect(events[2]?.payload).toEqual({
      bid: { id: batch[2]!.id, auctionId, bidderId, bidderAlias: 'J***n', sellerId: (await auction()).sellerId, amount: 1300, seq: 3, placedAt: at(3) },
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

  describe('the worker', () => {
    let consumer: ReturnType<typeof handOverConsumer>;
    let dlq: MemoryDeadLetterQueue;
    let live: LiveEvents;

    beforeEach(async () => {
      consumer = handOverConsumer();
      dlq = createMemoryDeadLetterQueue();
      live = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger });
      const worker = createBidWorker({ db, consumer, dlq, live, logger });
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

    it('still persists and commits a batch when the live fan-out fails', async () => {
      const failing: LiveEvents = { ...live, publishAuctionEvents: () => Promise.reject(new Error('pub/sub down')) };
      const other = handOverConsumer();
      await createBidWorker({ db, consumer: other, dlq, live: failing, logger }).start();

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
      await createBidWorker({ db, consumer: other, dlq, live, metrics, logger: pino({ level: 'error' }, stream) }).start();
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
    const worker = createBidWorker({ db, consumer: log.consumer('bid-persister'), dlq: flaky, live: createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger }), logger });
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
    await createBidWorker({ db: down, consumer, dlq, live, logger }).start();

    await expect(consumer.deliver({ partition: 0, messages: [asLog(bidPlaced(auctionId, bidderId, 1), 0)] })).rejects.toThrow('connection refused');
    expect(dlq.letters).toEqual([]);
  });
});

describe('parseBidPlaced', () => {
  const valid = bidPlaced(randomUUID(), randomUUID(), 1);
  const reasonFor = (value: unknown) => {
    try {
      parseBidPlaced(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidBidMessageError);
      return (error as Error).message;
    }
    return undefined;
  };

  it('returns a well-formed message as it was published, ignoring fields it does not know', () => {
    expect(parseBidPlaced(Buffer.from(JSON.stringify({ ...valid, addedLater: true })))).toEqual(valid);
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
  ])('refuses %s, saying where', (_name, value, reason) => {
    expect(reasonFor(value)).toMatch(reason);
  });

  it('refuses a message without a value', () => {
    expect(() => parseBidPlaced(null)).toThrow(InvalidBidMessageError);
  });
});
