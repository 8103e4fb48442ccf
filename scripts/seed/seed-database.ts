import { randomInt, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { minimumNextBid } from '../../src/domain/increments.js';
import { hashPassword } from '../../src/services/auth/passwords.js';
import { persistBidBatch } from '../../src/workers/bid-worker.js';
import { bidMessages, DEMO_PASSWORD, demoUsers, planAuction, type DemoRole, type PlannedAuction } from './plan.js';

export interface SeedOptions {
  auctions: number;
  users: number;
  /** Fixes titles, prices, times and bid histories; ids are new on every run. */
  seed?: number;
  /** The instant the demo is built around; bids lie before it, ends after it. */
  now?: Date;
  /** Auctions written per round trip. */
  batchSize?: number;
  /** Batches written at the same time (1 for PGlite, which runs one query at a time anyway). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SeededUser {
  id: string;
  email: string;
  displayName: string;
  role: DemoRole;
  /** false when the account was already there from an earlier run. */
  created: boolean;
}

/** A seeded auction with bids, for the printed example: the bidder is neither its seller nor its leader. */
export interface SampleAuction {
  id: string;
  title: string;
  lastSeq: number;
  currentPrice: number;
  minimumNextBid: number;
  bidderEmail: string;
}

export interface SeedResult {
  seed: number;
  password: string;
  users: SeededUser[];
  auctions: number;
  auctionsWithBids: number;
  bids: number;
  sample: SampleAuction | null;
}

const DEFAULT_BATCH_SIZE = 1_000;
// One persist statement carries this many bids: large enough to amortise the round trip, small
// enough for Postgres to plan the unnest of its arrays quickly.
const BIDS_PER_STATEMENT = 5_000;

/**
 * Writes demo users, auctions and bid histories. Users are found by email and reused; auctions
 * and bids are always new (fresh ids), so running it again adds more. Bids go through the bid
 * worker's own persistence, so bids, events and each auction's seq are exactly what it would write.
 */
export async function seedDatabase(db: PrismaClient, options: SeedOptions): Promise<SeedResult> {
  if (!Number.isInteger(options.auctions) || options.auctions < 0) throw new RangeError('auctions must be 0 or more');
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const concurrency = Math.max(1, options.concurrency ?? 1);

  const users = await ensureUsers(db, options.users);
  const emails = new Map(users.map((u) => [u.id, u.email]));
  const context = {
    seed,
    now,
    sellerIds: users.filter((u) => u.role === 'seller').map((u) => u.id),
    bidderIds: users.filter((u) => u.role === 'bidder').map((u) => u.id),
    newId: randomUUID,
  };

  const totals = { auctionsWithBids: 0, bids: 0 };
  let sample: SampleAuction | null = null;
  let done = 0;
  let next = 0;
  options.onProgress?.(0, options.auctions);

  const writeBatches = async (): Promise<void> => {
    while (next < options.auctions) {
      const start = next;
      const end = Math.min(start + batchSize, options.auctions);
      next = end;
      const batch = Array.from({ length: end - start }, (_, i) => planAuction(context, start + i));
      const written = await writeBatch(db, batch);
      totals.auctionsWithBids += written.auctionsWithBids;
      totals.bids += written.bids;
      sample ??= pickSample(batch, context.bidderIds, emails, now);
      done += batch.length;
      options.onProgress?.(done, options.auctions);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writeBatches));

  return { seed, password: DEMO_PASSWORD, users, auctions: options.auctions, ...totals, sample };
}

async function ensureUsers(db: PrismaClient, count: number): Promise<SeededUser[]> {
  const plans = demoUsers(count);
  const emails = plans.map((p) => p.email);
  const existing = new Set((await db.user.findMany({ where: { email: { in: emails } }, select: { email: true } })).map((u) => u.email));
  const missing = plans.filter((p) => !existing.has(p.email));
  if (missing.length > 0) {
    // scrypt is slow on purpose (about 60 ms and 32 MiB a hash); every demo account has the same
    // password, so one hash, made exactly as sign-up makes it, serves them all.
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    await db.user.createMany({
      data: missing.map((p) => ({ email: p.email, displayName: p.displayName, passwordHash })),
      // Another seed running at the same time may have just made some of them.
      skipDuplicates: true,
    });
  }
  const rows = await db.user.findMany({ where: { email: { in: emails } }, select: { id: true, email: true, displayName: true } });
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  return plans.map((p) => {
    const row = byEmail.get(p.email);
    if (!row) throw new Error(`demo user ${p.email} was neither found nor created`);
    return { id: row.id, email: row.email, displayName: row.displayName, role: p.role, created: !existing.has(p.email) };
  });
}

async function writeBatch(db: PrismaClient, batch: PlannedAuction[]): Promise<{ auctionsWithBids: number; bids: number }> {
  await insertAuctions(db, batch);
  const messages = batch.flatMap(bidMessages);
  for (let i = 0; i < messages.length; i += BIDS_PER_STATEMENT) {
    await persistBidBatch(db, messages.slice(i, i + BIDS_PER_STATEMENT));
  }
  return { auctionsWithBids: batch.filter((a) => a.bids.length > 0).length, bids: messages.length };
}

/**
 * One INSERT of the whole batch, its columns as arrays: over PGlite's adapter this is several times
 * faster than createMany, which binds every field of every row as its own parameter.
 */
async function insertAuctions(db: PrismaClient, batch: PlannedAuction[]): Promise<void> {
  const column = <T>(pick: (a: PlannedAuction) => T): T[] => batch.map(pick);
  // Inserted as created, with no bid: the bids then move price, count and seq forward as the worker does.
  await db.$executeRaw`
    INSERT INTO auctions (id, seller_id, title, description, currency, starting_price, reserve_price, buy_now_price,
      starts_at, ends_at, scheduled_ends_at, soft_close_seconds, current_price, created_at, updated_at)
    SELECT id, seller_id, title, description, currency, starting_price, reserve_price, buy_now_price,
      starts_at, ends_at, ends_at, soft_close_seconds, starting_price, created_at, now()
    FROM unnest(
      ${column((a) => a.id)}::uuid[], ${column((a) => a.sellerId)}::uuid[], ${column((a) => a.title)}::text[],
      ${column((a) => a.description)}::text[], ${column((a) => a.currency)}::text[], ${column((a) => a.startingPrice)}::int[],
      ${column((a) => a.reservePrice)}::int[], ${column((a) => a.buyNowPrice)}::int[], ${column((a) => a.startsAt.toISOString())}::timestamptz[],
      ${column((a) => a.endsAt.toISOString())}::timestamptz[], ${column((a) => a.softCloseSeconds)}::int[], ${column((a) => a.createdAt.toISOString())}::timestamptz[]
    ) AS a(id, seller_id, title, description, currency, starting_price, reserve_price, buy_now_price, starts_at, ends_at, soft_close_seconds, created_at)`;
}

// A lively auction that stays open for a while, so the printed example still works tomorrow.
function pickSample(batch: PlannedAuction[], bidderIds: string[], emails: Map<string, string>, now: Date): SampleAuction | null {
  const auction =
    batch.find((a) => a.bids.length >= 3 && a.endsAt.getTime() - now.getTime() > 24 * 3600_000) ?? batch.find((a) => a.bids.length > 0);
  if (!auction) return null;
  const last = auction.bids.at(-1)!;
  const bidderId = bidderIds.find((id) => id !== last.bidderId && id !== auction.sellerId) ?? last.bidderId;
  return {
    id: auction.id,
    title: auction.title,
    lastSeq: auction.bids.length,
    currentPrice: last.amount,
    minimumNextBid: minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: last.amount, bidCount: auction.bids.length }),
    bidderEmail: emails.get(bidderId)!,
  };
}
