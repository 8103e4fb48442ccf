// The bid engines alone, with no HTTP or GraphQL around them: a child process of bench/bids.ts that
// runs 64 concurrent callers on one auction, first through the price book (the Redis Lua decision,
// then the durable append to the Kafka bid log), then through the row-lock transaction over pg.
// Each caller bids the minimum next bid it was last told, as the HTTP clients do.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { createRedisPriceBook } from '../../src/adapters/redis/redis-price-book.js';
import { createKafkaBidLog } from '../../src/adapters/kafka/kafka-bid-log.js';
import { createBidFinisher } from '../../src/services/bids/bid-finisher.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import { minimumNextBid } from '../../src/domain/increments.js';
import { Samples, type EngineJob, type EngineMessage, type EngineRun } from './protocol.js';

// Resolves once the message is handed to the channel: a disconnect before that would drop it.
const send = (message: EngineMessage) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
const STARTING_PRICE = 100;

type Decide = (bidderId: string, amount: number) => Promise<{ accepted: boolean; next: number }>;

/** `callers` loops for warm-up plus `seconds`; only the decisions started after the warm-up count. */
async function drive(job: EngineJob, decide: Decide): Promise<EngineRun> {
  const latencies = new Samples();
  let decisions = 0;
  let accepted = 0;
  let errors = 0;
  let firstError: string | undefined;
  let lastAnswer = 0;
  const measureFrom = performance.now() + job.warmupSeconds * 1000;
  const deadline = measureFrom + job.seconds * 1000;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const startCpu = setTimeout(() => (cpuAtStart = process.cpuUsage()), job.warmupSeconds * 1000);
  await Promise.all(
    Array.from({ length: job.callers }, async (_, caller) => {
      const bidderId = job.bidderIds[caller % job.bidderIds.length]!;
      let amount = STARTING_PRICE;
      while (performance.now() < deadline) {
        const started = performance.now();
        let outcome: { accepted: boolean; next: number } | undefined;
        try {
          outcome = await decide(bidderId, amount);
          amount = outcome.next;
        } catch (error) {
          if (started >= measureFrom) errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        const answered = performance.now();
        if (started < measureFrom || !outcome) continue;
        decisions++;
        if (outcome?.accepted) accepted++;
        latencies.push(answered - started);
        lastAnswer = Math.max(lastAnswer, answered);
      }
    }),
  );
  clearTimeout(startCpu);
  const cpu = process.cpuUsage(cpuAtStart);
  return { decisions, accepted, errors, firstError, seconds: (lastAnswer - measureFrom) / 1000, latencies: latencies.toArray(), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The price book's decision, then, for an accepted bid, the append the bidder waits for. */
async function priceBookEngine(job: EngineJob): Promise<EngineRun> {
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const redis = new Redis(job.redis.url);
  const priceBook = createRedisPriceBook({ redis, keyPrefix: job.redis.keyPrefix });
  const bidLog = await createKafkaBidLog({ brokers: job.kafka.brokers, clientId: 'bench-engine', logger, topic: job.kafka.topic });
  const finisher = createBidFinisher({ bidLog, logger });
  try {
    const auctionId = randomUUID();
    const now = Date.now();
    const endsAt = new Date(now + 24 * 3600_000);
    await priceBook.load(
      freshBookEntry({ id: auctionId, sellerId: job.sellerId, state: 'OPEN', startsAt: new Date(now - 60_000), endsAt, scheduledEndsAt: endsAt, softCloseSeconds: 0, startingPrice: STARTING_PRICE, reservePrice: null, buyNowPrice: null }),
    );
    return await drive(job, async (bidderId, amount) => {
      const decision = await priceBook.placeBid({ auctionId, bidderId, bidId: randomUUID(), amount, maxAmount: null, idempotencyKey: randomUUID() });
      if (decision.outcome === 'ACCEPTED') {
        await finisher.publish(decision.message);
        return { accepted: true, next: decision.message.minimumNextBid };
      }
      if (decision.outcome === 'TOO_LOW') return { accepted: false, next: decision.minimumNextBid };
      throw new Error(`price book answered ${decision.outcome}`);
    });
  } finally {
    await finisher.close();
    await bidLog.close();
    redis.disconnect();
  }
}

/** The usual transaction: lock the auction's row, judge, write the bid, its event and the new state, commit. */
async function rowLockEngine(job: EngineJob): Promise<EngineRun> {
  const pool = new pg.Pool({ connectionString: job.databaseUrl, max: job.poolSize });
  const auctionId = job.rowLockAuctionId;
  try {
    return await drive(job, async (bidderId, amount) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ starting_price: number; current_price: number; bid_count: number; last_seq: number; ends_at: Date }>(
          'SELECT starting_price, current_price, bid_count, last_seq, ends_at FROM auctions WHERE id = $1 FOR UPDATE',
          [auctionId],
        );
        const auction = rows[0]!;
        const minimum = minimumNextBid({ startingPrice: auction.starting_price, currentPrice: auction.current_price, bidCount: auction.bid_count });
        if (amount < minimum) {
          await client.query('ROLLBACK');
          return { accepted: false, next: minimum };
        }
        const bidId = randomUUID();
        const seq = auction.last_seq + 1;
        const bidCount = auction.bid_count + 1;
        const next = minimumNextBid({ startingPrice: auction.starting_price, currentPrice: amount, bidCount });
        await client.query('INSERT INTO bids (id, auction_id, bidder_id, amount, seq, idempotency_key, placed_at) VALUES ($1, $2, $3, $4, $5, $6, now())', [
          bidId,
          auctionId,
          bidderId,
          amount,
          seq,
          randomUUID(),
        ]);
        const payload = { bid: { id: bidId, auctionId, bidderId, amount, seq }, currentPrice: amount, minimumNextBid: next, bidCount, endsAt: auction.ends_at };
        await client.query("INSERT INTO auction_events (auction_id, seq, type, payload, at) VALUES ($1, $2, 'BidPlaced', $3, now())", [auctionId, seq, JSON.stringify(payload)]);
        await client.query('UPDATE auctions SET current_price = $2, bid_count = $3, last_seq = $4, leading_bid_id = $5, leader_id = $6, updated_at = now() WHERE id = $1', [
          auctionId,
          amount,
          bidCount,
          seq,
          bidId,
          bidderId,
        ]);
        await client.query('COMMIT');
        return { accepted: true, next };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.end();
  }
}

process.once('message', (job: EngineJob) => {
  void (async () => {
    try {
      void send({ type: 'phase', name: 'price-book' });
      const priceBook = await priceBookEngine(job);
      // Let the last acknowledgements and connection closes settle before the other engine starts.
      await sleep(500);
      void send({ type: 'phase', name: 'row-lock' });
      const rowLock = await rowLockEngine(job);
      await send({ type: 'done', priceBook, rowLock });
    } catch (error) {
      await send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    process.disconnect();
  })();
});
