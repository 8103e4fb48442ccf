// The closing bench's data: auctions that end in one window, bids through the real placeBid
// decision, and what Postgres and the workers' logs say about each end afterwards.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { App } from '../../src/app.js';
import { AppError, ErrorCode } from '../../src/domain/errors.js';
import { bidIncrement } from '../../src/domain/increments.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import { acceptBid } from '../../src/services/bids/place-bid.js';
import { mapLimit } from './api.js';

export const STARTING_PRICE = 100;
/** Above anything the bench bids, so the auctions carrying it end unsold. */
const UNREACHED_RESERVE = 100_00;

export interface PlannedAuction {
  id: string;
  endsAt: Date;
  reservePrice: number | null;
  /** Who bids, in turn, each the next minimum: 2 or 3 different users. */
  bidders: string[];
  /** The highest accepted bid, once placed. */
  top?: { bidderId: string; amount: number };
  accepted: number;
}

/**
 * `n` auctions ending evenly over `windowMs` from `firstEnd`, 2 or 3 bidders each. One in ten has a
 * reserve no bid reaches (it ends unsold) and one in ten a reserve its last bid just meets.
 */
export function planAuctions(n: number, firstEnd: number, windowMs: number, bidderIds: string[]): PlannedAuction[] {
  return Array.from({ length: n }, (_, i) => {
    const count = 2 + (i % 2);
    const bidders = Array.from({ length: count }, (_, k) => bidderIds[(i + k * 7) % bidderIds.length]!);
    let reservePrice: number | null = null;
    if (i % 10 === 0) reservePrice = UNREACHED_RESERVE;
    if (i % 10 === 5) reservePrice = lastAmount(count);
    return { id: randomUUID(), endsAt: new Date(firstEnd + Math.floor((i * windowMs) / n)), reservePrice, bidders, accepted: 0 };
  });
}

/** Each bid is the minimum next bid: the starting price, then the price plus the increment. */
function lastAmount(bids: number): number {
  let price = STARTING_PRICE;
  for (let k = 1; k < bids; k++) price += bidIncrement(price);
  return price;
}

/** One multi-row INSERT ... SELECT FROM unnest, as scripts/seed/seed-database.ts does; no soft close. */
export async function insertAuctions(pool: pg.Pool, sellerId: string, auctions: PlannedAuction[], startsAt: Date): Promise<void> {
  const column = <T>(pick: (a: PlannedAuction) => T): T[] => auctions.map(pick);
  await pool.query(
    `INSERT INTO auctions (id, seller_id, title, description, currency, starting_price, reserve_price, starts_at, ends_at,
       scheduled_ends_at, soft_close_seconds, current_price, updated_at)
     SELECT id, seller_id, 'closing bench', 'benchmark', 'USD', $3, reserve_price, $4, ends_at, ends_at, 0, $3, now()
     FROM unnest($1::uuid[], $2::uuid[], $5::int[], $6::timestamptz[]) AS a(id, seller_id, reserve_price, ends_at)`,
    [column((a) => a.id), column(() => sellerId), STARTING_PRICE, startsAt, column((a) => a.reservePrice), column((a) => a.endsAt.toISOString())],
  );
}

/** Loads each auction into the price book as createAuction does. */
export async function loadPriceBook(app: App, sellerId: string, auctions: PlannedAuction[], startsAt: Date): Promise<void> {
  await mapLimit(auctions, 256, (a) =>
    app.deps.priceBook.load(
      freshBookEntry({
        id: a.id,
        sellerId,
        state: 'OPEN',
        startsAt,
        endsAt: a.endsAt,
        scheduledEndsAt: a.endsAt,
        softCloseSeconds: 0,
        startingPrice: STARTING_PRICE,
        reservePrice: a.reservePrice,
        buyNowPrice: null,
      }),
    ),
  );
}

export interface BidTally {
  accepted: number;
  /** UNAVAILABLE answers, each retried with the same key. */
  retries: number;
  errors: number;
  firstError?: string;
}

/**
 * Places every auction's bids through acceptBid, the decision half of the placeBid mutation (price
 * book, then the bid log), the auctions `concurrency` at a time and each auction's bids in turn.
 */
export async function placeBids(app: App, auctions: PlannedAuction[], concurrency: number, onBid: (tally: BidTally) => void): Promise<BidTally> {
  const tally: BidTally = { accepted: 0, retries: 0, errors: 0 };
  await mapLimit(auctions, concurrency, async (auction) => {
    let amount = STARTING_PRICE;
    for (const bidderId of auction.bidders) {
      const input = { auctionId: auction.id, amount, idempotencyKey: randomUUID() };
      for (let attempt = 1; ; attempt++) {
        try {
          await acceptBid(app.deps, { id: bidderId }, input);
          tally.accepted++;
          auction.accepted++;
          auction.top = { bidderId, amount };
          break;
        } catch (error) {
          if (error instanceof AppError && error.code === ErrorCode.UNAVAILABLE && attempt < 20) {
            tally.retries++;
            await sleep(50);
            continue;
          }
          tally.errors++;
          tally.firstError ??= error instanceof AppError ? `${error.code}: ${error.message}` : String(error);
          break;
        }
      }
      onBid(tally);
      amount += bidIncrement(amount);
    }
  });
  return tally;
}

export async function countRows(pool: pg.Pool, sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql);
  return Number(rows[0]!.n);
}

/** What Postgres holds of one auction after the run. */
export interface RecordedEnd {
  id: string;
  state: string;
  endsAt: Date;
  scheduledEndsAt: Date;
  updatedAt: Date;
  winnerId: string | null;
  bidCount: number;
  endedEvents: number;
  eventWinnerId: string | null;
  /** The highest bid stored in `bids`. */
  topBidderId: string | null;
  storedBids: number;
}

export async function readEnds(pool: pg.Pool, auctionIds: string[]): Promise<RecordedEnd[]> {
  const { rows } = await pool.query<RecordedEnd>(
    `
    SELECT a.id::text AS id, a.state::text AS state, a.ends_at AS "endsAt", a.scheduled_ends_at AS "scheduledEndsAt",
      a.updated_at AS "updatedAt", a.winner_id::text AS "winnerId", a.bid_count AS "bidCount",
      coalesce(e.n, 0)::int AS "endedEvents", e.winner AS "eventWinnerId",
      t.bidder_id::text AS "topBidderId", coalesce(c.n, 0)::int AS "storedBids"
    FROM auctions a
    LEFT JOIN (
      SELECT auction_id, count(*) AS n, min(payload->>'winnerId') AS winner FROM auction_events WHERE type = 'AuctionEnded' GROUP BY auction_id
    ) e ON e.auction_id = a.id
    LEFT JOIN (SELECT auction_id, count(*) AS n FROM bids GROUP BY auction_id) c ON c.auction_id = a.id
    LEFT JOIN LATERAL (SELECT bidder_id FROM bids b WHERE b.auction_id = a.id ORDER BY amount DESC, seq DESC LIMIT 1) t ON true
    WHERE a.id = ANY($1::uuid[])`,
    [auctionIds],
  );
  return rows;
}

export interface Correctness {
  /** Auctions with no AuctionEnded event, and with more than one. */
  missingEndEvent: number;
  duplicateEndEvent: number;
  /** Auctions whose winner (row or event) is not the highest bidder (or is someone despite an unmet reserve). */
  wrongWinner: number;
  /** Auctions whose highest stored bid is not the highest bid the bench was told was accepted. */
  wrongTopBid: number;
  /** Auctions whose stored bids differ in number from those accepted. */
  bidCountMismatch: number;
  /** Auctions whose end moved (no soft close is set, so none should). */
  endMoved: number;
  withWinner: number;
  expectedWinners: number;
}

export function checkEnds(planned: PlannedAuction[], recorded: RecordedEnd[]): Correctness {
  const byId = new Map(recorded.map((r) => [r.id, r]));
  const c: Correctness = { missingEndEvent: 0, duplicateEndEvent: 0, wrongWinner: 0, wrongTopBid: 0, bidCountMismatch: 0, endMoved: 0, withWinner: 0, expectedWinners: 0 };
  for (const a of planned) {
    const r = byId.get(a.id);
    if (!r) {
      c.missingEndEvent++;
      continue;
    }
    const expected = a.top && a.top.amount >= (a.reservePrice ?? 0) ? a.top.bidderId : null;
    if (expected) c.expectedWinners++;
    if (r.winnerId) c.withWinner++;
    if (r.endedEvents === 0) c.missingEndEvent++;
    if (r.endedEvents > 1) c.duplicateEndEvent++;
    if (r.winnerId !== expected || (r.endedEvents > 0 && r.eventWinnerId !== expected)) c.wrongWinner++;
    if (r.topBidderId !== (a.top?.bidderId ?? null)) c.wrongTopBid++;
    if (r.storedBids !== a.accepted || r.bidCount !== a.accepted) c.bidCountMismatch++;
    if (r.endsAt.getTime() !== a.endsAt.getTime()) c.endMoved++;
  }
  return c;
}

/** What the workers' logs say: each close's publish time, the persister's batches, and trouble. */
export interface WorkerLogs {
  /** auction id -> when the closing job saw the bid log acknowledge its AuctionEnded (first time). */
  published: Map<string, number>;
  /** Sizes of the persister's batches between `from` and `to`, over all processes. */
  batches: number[];
  /** Per process: "auction ended" lines (publishes, repeats included). */
  closedBy: number[];
  /** Per process: persister batches between `from` and `to`. */
  batchesBy: number[];
  /** Publishes of an AuctionEnded already published once: the claim's lease lapsed while the auction was still OPEN in Postgres. */
  repeated: number;
  /** Per process: Kafka consumers that crashed (kafkajs does not restart them on a non-retriable error). */
  crashes: number[];
  /** Fetches answered OFFSET_OUT_OF_RANGE: the mock dropped the oldest messages of a partition (5 MiB cap) before they were read. */
  offsetResets: number;
}

/** Reads the workers' JSON logs (debug level). */
export async function readWorkerLogs(logFiles: string[], from: number, to: number): Promise<WorkerLogs> {
  const logs: WorkerLogs = {
    published: new Map(),
    batches: [],
    closedBy: logFiles.map(() => 0),
    batchesBy: logFiles.map(() => 0),
    repeated: 0,
    crashes: logFiles.map(() => 0),
    offsetResets: 0,
  };
  const wanted = ['"auction ended"', '"batch persisted"', '"Crash: ', 'Offset out of range'];
  for (const [i, file] of logFiles.entries()) {
    for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
      if (!wanted.some((w) => line.includes(w))) continue;
      let entry: { msg?: string; time?: number; auctionId?: string; persisted?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const time = entry.time ?? 0;
      if (entry.msg === 'auction ended' && entry.auctionId) {
        const earlier = logs.published.get(entry.auctionId);
        if (earlier !== undefined) logs.repeated++;
        logs.published.set(entry.auctionId, Math.min(earlier ?? Infinity, time));
        logs.closedBy[i]!++;
      } else if (entry.msg === 'batch persisted' && time >= from && time <= to) {
        logs.batches.push(entry.persisted ?? 0);
        logs.batchesBy[i]!++;
      } else if (entry.msg?.startsWith('Crash: ')) {
        logs.crashes[i]!++;
      } else if (entry.msg?.includes('Offset out of range')) {
        logs.offsetResets++;
      }
    }
  }
  return logs;
}
