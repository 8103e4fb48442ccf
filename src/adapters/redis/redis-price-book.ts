import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LiveState } from '../../domain/auction.js';
import { incrementTableArgs } from '../../domain/increments.js';
import type { BidDecision, BookEntry, PriceBook } from '../../ports/price-book.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, BidPlacedMessage } from '../../ports/bid-log.js';
import { BOOK_LAYOUT, BUY_NOW_LUA, CANCEL_LUA, CLOSE_LUA, EVICT_LUA, LOAD_LUA, MARK_PERSISTED_LUA, PLACE_BID_LUA, RESCHEDULE_LUA } from './price-book-scripts.js';
import { maximumAbove } from '../../domain/proxy-bidding.js';

/** How long an auction's keys outlive its end: late retries still get their original answer. */
const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface RedisPriceBookOptions {
  redis: Redis;
  /** Prepended to every key, so that several books (or tests) can share one database. */
  keyPrefix?: string;
  /** How long an accepted bid stays readable by id before the worker has persisted it. */
  recentBidTtlSeconds?: number;
  /** Whether close() should quit the connection: only when the book was given one of its own. */
  ownsConnection?: boolean;
  logger?: Pick<Logger, 'warn'>;
}

type Arg = string | number | Buffer;
type ScriptCall = (...args: Arg[]) => Promise<unknown>;
interface Scripts {
  priceBookPlaceBid: ScriptCall;
  priceBookBuyNow: ScriptCall;
  priceBookLoad: ScriptCall;
  priceBookClose: ScriptCall;
  priceBookCancel: ScriptCall;
  priceBookReschedule: ScriptCall;
  priceBookMarkPersisted: ScriptCall;
  priceBookEvict: ScriptCall;
}

const SCRIPTS: Record<keyof Scripts, string> = {
  priceBookPlaceBid: PLACE_BID_LUA,
  priceBookBuyNow: BUY_NOW_LUA,
  priceBookLoad: LOAD_LUA,
  priceBookClose: CLOSE_LUA,
  priceBookCancel: CANCEL_LUA,
  priceBookReschedule: RESCHEDULE_LUA,
  priceBookMarkPersisted: MARK_PERSISTED_LUA,
  priceBookEvict: EVICT_LUA,
};

/** Defines the scripts on the connection (ioredis then runs them by EVALSHA) and returns them typed. */
function defineScripts(redis: Redis): Scripts {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua, numberOfKeys: 2 });
  // defineCommand adds methods that ioredis's declarations cannot know about.
  return redis as unknown as Scripts;
}

// currentPrice (p, else the starting price o), bidCount, lastSeq, leadingBidId, leaderId, endsAt, state, winnerId.
const LIVE_FIELDS = ['p', 'o', 'n', 'q', 'l', 'L', 'e', 'S', 'W'] as const;

/** The price book on Redis: every decision is one Lua script on the server's clock. */
export function createRedisPriceBook(options: RedisPriceBookOptions): PriceBook {
  const { redis, keyPrefix = '', recentBidTtlSeconds = 600, ownsConnection = false, logger } = options;
  const scripts = defineScripts(redis);
  // The hash tag keeps both keys of one auction in one cluster slot, as a script requires.
  const keysOf = (auctionId: string): [string, string] => {
    const auctionKey = `${keyPrefix}auction:{${auctionId}}`;
    return [auctionKey, `${auctionKey}:m`];
  };
  const bookKey = new RegExp(`^${escapeRegExp(keyPrefix)}auction:\\{([^}]+)\\}$`);
  const recentBidKey = (bidId: string) => `${keyPrefix}bid:{${bidId}}`;

  /**
   * Read-your-writes copies of an accepted decision's bids, by id. The bid is accepted whatever
   * happens here: failing now would hide a leader that exists, so a lost copy is only worth a warning.
   */
  async function keepRecent(message: BidPlacedMessage, json: string): Promise<void> {
    const ids = message.automatic ? [message.id, message.automatic.id] : [message.id];
    try {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(recentBidKey(id), json, 'EX', recentBidTtlSeconds);
      const failed = ((await pipeline.exec()) ?? []).find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      logger?.warn({ err: error, bidId: message.id }, 'could not record the recent bid');
    }
  }

  return {
    async load(entry) {
      const auctionFields = entryFields(entry);
      const keyFields = entry.acceptedBids.flatMap((b) => [b.bidderId, b.idempotencyKey, b.amount, b.buyNow ? 'b' : (maximumAbove(b.amount, b.maxAmount) ?? ''), b.seq]);
      // Counted from now when the end is long past (an ended auction reloaded to cancel its sale):
      // an expiry already passed would delete the keys as soon as they were written.
      const expireAt = Math.max(entry.endsAt.getTime(), Date.now()) + RETENTION_MS;
      const loaded = await scripts.priceBookLoad(...keysOf(entry.auctionId), expireAt, auctionFields.length, ...auctionFields, ...keyFields);
      return loaded === 1;
    },

    async placeBid(command) {
      const reply = (await scripts.priceBookPlaceBid(
        ...keysOf(command.auctionId),
        command.auctionId,
        command.bidId,
        command.automaticBidId ?? randomUUID(),
        command.bidderId,
        command.amount,
        maximumAbove(command.amount, command.maxAmount) ?? '',
        command.idempotencyKey,
        RETENTION_MS,
        command.pauseNewBids ? '1' : '0',
        ...incrementTableArgs(),
      )) as [string, string?];
      const decision = toDecision(reply);
      if (decision.outcome === 'ACCEPTED') await keepRecent(decision.message, reply[1]!);
      return decision;
    },

    async buyNow(command) {
      const reply = (await scripts.priceBookBuyNow(
        ...keysOf(command.auctionId),
        command.auctionId,
        command.bidId,
        command.eventId,
        command.bidderId,
        command.idempotencyKey,
        RETENTION_MS,
        command.pauseNewBids ? '1' : '0',
        ...incrementTableArgs(),
      )) as [string, string?];
      if (reply[0] === 'NOT_OFFERED') return { outcome: 'NOT_OFFERED' };
      const decision = toDecision(reply);
      if (decision.outcome === 'TOO_LOW') throw new Error('unexpected price book reply: TOO_LOW');
      if (decision.outcome === 'ACCEPTED') await keepRecent(decision.message, reply[1]!);
      return decision;
    },

    async peek(auctionIds) {
      const live = new Map<string, LiveState>();
      if (auctionIds.length === 0) return live;
      const pipeline = redis.pipeline();
      for (const id of auctionIds) pipeline.hmget(keysOf(id)[0], ...LIVE_FIELDS);
      const results = (await pipeline.exec()) ?? [];
      auctionIds.forEach((id, i) => {
        const [error, values] = results[i] ?? [new Error('no reply')];
        if (error) throw error;
        const state = toLiveState(values as Array<string | null>);
        if (state) live.set(id, state);
      });
      return live;
    },

    async close(auctionId, eventId) {
      const [outcome, detail, fresh] = (await scripts.priceBookClose(...keysOf(auctionId), eventId, auctionId)) as [string, string?, string?];
      switch (outcome) {
        case 'MISSING':
          return { outcome };
        case 'ENDED':
          return { outcome, message: JSON.parse(detail!) as AuctionEndedMessage, now: fresh === '1' };
        case 'CANCELLED':
          return { outcome, message: JSON.parse(detail!) as AuctionCancelledMessage };
        case 'NOT_DUE':
          return { outcome, endsAt: new Date(Number(detail)) };
        default:
          throw new Error(`unexpected price book reply: ${outcome}`);
      }
    },

    async cancel(command) {
      const { auctionId, eventId, reason, minRemainingWithBidsMs, saleCancelWindowMs } = command;
      const [outcome, detail, fresh] = (await scripts.priceBookCancel(
        ...keysOf(auctionId),
        eventId,
        auctionId,
        reason ?? '',
        minRemainingWithBidsMs,
        saleCancelWindowMs,
      )) as [string, string?, string?];
      switch (outcome) {
        case 'MISSING':
          return { outcome };
        case 'CANCELLED':
          return { outcome, message: JSON.parse(detail!) as AuctionCancelledMessage, now: fresh === '1' };
        case 'NOT_ACTIVE':
          return { outcome, status: 'ENDED' };
        case 'TOO_LATE':
          return { outcome, endsAt: new Date(Number(detail)) };
        default:
          throw new Error(`unexpected price book reply: ${outcome}`);
      }
    },

    async reschedule(auctionId, { endsAt, reservePrice, buyNowPrice }) {
      const moved = await scripts.priceBookReschedule(...keysOf(auctionId), endsAt.getTime(), endsAt.getTime() + RETENTION_MS, reservePrice ?? '', buyNowPrice ?? '');
      return moved === 1;
    },

    async recentBid(bidId) {
      const json = await redis.get(recentBidKey(bidId));
      return json === null ? null : (JSON.parse(json) as BidPlacedMessage);
    },

    async markPersisted(entries) {
      if (entries.length === 0) return;
      // One round trip for the batch: a script per auction, a DEL per read-your-writes copy.
      const pipeline = redis.pipeline() as unknown as Scripts & { del(key: string): void; exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const { auctionId, seq, bidIds } of entries) {
        pipeline.priceBookMarkPersisted(...keysOf(auctionId), seq, ...bidIds);
        for (const bidId of bidIds) pipeline.del(recentBidKey(bidId));
      }
      const failed = ((await pipeline.exec()) ?? []).find(([error]) => error);
      if (failed) throw failed[0];
    },

    async evict(auctionId, { idleSeconds }) {
      return (await scripts.priceBookEvict(...keysOf(auctionId), idleSeconds)) === 1;
    },

    async sweep(cursor, { idleSeconds, count }) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(keyPrefix)}auction:{*}`, 'COUNT', count);
      const auctionIds = keys.flatMap((key) => bookKey.exec(key)?.[1] ?? []);
      if (auctionIds.length === 0) return { cursor: next, evicted: [] };
      const pipeline = redis.pipeline() as unknown as Scripts & { exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const auctionId of auctionIds) pipeline.priceBookEvict(...keysOf(auctionId), idleSeconds);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
      return { cursor: next, evicted: auctionIds.filter((_, i) => results[i]?.[1] === 1) };
    },

    async dispose() {
      if (ownsConnection) await redis.quit();
    },
  };
}

/**
 * The book hash as field/value pairs (names in price-book-scripts.ts): what is absent or can be
 * derived (a default, the starting price before any bid, an end the seller set that is the end) is
 * left out rather than stored.
 */
function entryFields(entry: BookEntry): Arg[] {
  const endsAt = entry.endsAt.getTime();
  const scheduledEndsAt = entry.scheduledEndsAt.getTime();
  const fields: Record<string, Arg | null> = {
    v: BOOK_LAYOUT,
    s: packedUuid(entry.sellerId),
    S: entry.state === 'OPEN' ? null : entry.state,
    b: entry.startsAt.getTime(),
    e: endsAt,
    E: scheduledEndsAt === endsAt ? null : scheduledEndsAt,
    w: entry.softCloseSeconds === 0 ? null : entry.softCloseSeconds,
    o: entry.startingPrice,
    r: entry.reservePrice,
    B: entry.buyNowPrice,
    p: entry.bidCount === 0 && entry.currentPrice === entry.startingPrice ? null : entry.currentPrice,
    n: entry.bidCount === 0 ? null : entry.bidCount,
    q: entry.lastSeq === 0 ? null : entry.lastSeq,
    // Rebuilt only from what Postgres holds: all of it is persisted.
    P: entry.lastSeq === 0 ? null : entry.lastSeq,
    l: entry.leadingBidId,
    L: entry.leaderId,
    m: entry.leaderMaxAmount === null || entry.leaderMaxAmount <= entry.currentPrice ? null : entry.leaderMaxAmount,
    f: entry.finalMessage && JSON.stringify(entry.finalMessage),
    W: entry.finalMessage?.type === 'AuctionEnded' ? entry.finalMessage.winnerId : null,
  };
  return Object.entries(fields).flatMap(([name, value]) => (value === null ? [] : [name, value]));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A UUID as its 16 bytes, 20 fewer than its text; any other id as it is (the script packs bidders' alike). */
const packedUuid = (id: string): Arg => (UUID.test(id) ? Buffer.from(id.replace(/-/g, ''), 'hex') : id);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

function toDecision([outcome, detail]: [string, string?]): BidDecision {
  switch (outcome) {
    case 'ACCEPTED':
    case 'DUPLICATE':
      return { outcome, message: JSON.parse(detail!) as BidPlacedMessage };
    case 'NOT_ACTIVE':
      return { outcome, status: detail as 'SCHEDULED' | 'ENDED' | 'CANCELLED' };
    case 'TOO_LOW':
      return { outcome, minimumNextBid: Number(detail) };
    case 'DUPLICATE_PERSISTED':
      return { outcome, seq: Number(detail) };
    case 'MISSING':
    case 'OWN_AUCTION':
    case 'KEY_REUSED':
    case 'PAUSED':
      return { outcome };
    default:
      throw new Error(`unexpected price book reply: ${outcome}`);
  }
}

function toLiveState([currentPrice, startingPrice, bidCount, lastSeq, leadingBidId, leaderId, endsAt, state, winnerId]: Array<string | null>): LiveState | null {
  if (endsAt == null) return null;
  return {
    state: (state ?? 'OPEN') as LiveState['state'],
    winnerId: winnerId ?? null,
    currentPrice: Number(currentPrice ?? startingPrice),
    bidCount: Number(bidCount ?? 0),
    lastSeq: Number(lastSeq ?? 0),
    leadingBidId: leadingBidId ?? null,
    leaderId: leaderId ?? null,
    endsAt: new Date(Number(endsAt)),
  };
}
