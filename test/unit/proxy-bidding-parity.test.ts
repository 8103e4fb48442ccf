import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { createRedisPriceBook } from '../../src/adapters/redis/redis-price-book.js';
import { buyNowOffered, decideProxyBid, type ProxyBook } from '../../src/domain/proxy-bidding.js';
import { bidStatus } from '../../src/domain/bid.js';
import { minimumNextBid } from '../../src/domain/increments.js';
import type { BidDecision, BuyNowDecision, PriceBook } from '../../src/ports/price-book.js';
import { decisionBids } from '../../src/services/bids/decision-bids.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';
import { REDIS_URL, deleteByPrefix, redisSkipReason as redisUnavailable } from '../support/redis.js';

// Random bidding sessions through the reference rules (domain/proxy-bidding.ts) and through both
// price books, the Redis script and the in-process one: every step must give the same outcome,
// the same bids in the same seq order (who, how much, placed or automatic), the same leader, price
// and count, and so the same status for every bid. CI runs a fixed seed; FC_SEED and FC_RUNS explore.
const SEED = Number(process.env.FC_SEED ?? 20_261_203);
const RUNS = Number(process.env.FC_RUNS ?? 3_000);
const HOUR = 3_600_000;
const BIDDERS = ['ann', 'bob', 'cat', 'dan'];

const redisSkipReason = await redisUnavailable('the Redis price book against the reference rules');

type MaxChoice = { plain: true } | { above: number } | { tieLeader: true } | { justAboveLeader: true };
type Step =
  | { kind: 'bid'; bidder: number; below: boolean; over: number; max: MaxChoice }
  | { kind: 'buyNow'; bidder: number };
interface Session {
  startingPrice: number;
  reserveAbove: number | null;
  buyNowAbove: number | null;
  steps: Step[];
}

// Prices either side of the increment bands' edges, so that every band's increment is exercised.
const startingPrice = fc.constantFrom(1, 50, 99, 4_99, 24_75, 99_50, 249_00, 999_00, 4_990_00, 9_999_00);
const maxChoice: fc.Arbitrary<MaxChoice> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ plain: true as const }) },
  { weight: 4, arbitrary: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2_000_00 })).map((above) => ({ above })) },
  { weight: 1, arbitrary: fc.constant({ tieLeader: true as const }) },
  { weight: 1, arbitrary: fc.constant({ justAboveLeader: true as const }) },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('bid' as const),
      bidder: fc.nat(BIDDERS.length - 1),
      below: fc.nat(9).map((n) => n === 0),
      over: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 1_000_00 })),
      max: maxChoice,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('buyNow' as const), bidder: fc.nat(BIDDERS.length - 1) }) },
);
const session: fc.Arbitrary<Session> = fc.record({
  startingPrice,
  reserveAbove: fc.option(fc.integer({ min: 0, max: 3_000_00 }), { freq: 2 }),
  buyNowAbove: fc.option(fc.integer({ min: 1, max: 5_000_00 }), { freq: 2 }),
  steps: fc.array(step, { minLength: 1, maxLength: 30 }),
});

/** The reference model of one auction: the rules' book, plus what the price book adds (seq, ids, the end). */
interface Model {
  book: ProxyBook;
  lastSeq: number;
  leadingBidId: string | null;
  ended: boolean;
  bidIds: string[];
}

/** What both books and the model must agree on after a step. */
function expectedOutcome(model: Model, st: Step, ids: { bidId: string; automaticBidId: string }, buyNowPrice: number | null) {
  const bidderId = BIDDERS[st.bidder]!;
  if (model.ended) return { outcome: 'NOT_ACTIVE', status: 'ENDED' };
  if (st.kind === 'buyNow') {
    if (buyNowPrice === null || !buyNowOffered(model.book)) return { outcome: 'NOT_OFFERED' };
    const bids = [[bidderId, buyNowPrice, 'BUY_NOW', model.lastSeq + 1]];
    model.book = { ...model.book, currentPrice: buyNowPrice, bidCount: model.book.bidCount + 1, leader: { bidderId, maxAmount: buyNowPrice } };
    model.lastSeq += 2;
    model.leadingBidId = ids.bidId;
    model.ended = true;
    model.bidIds.push(ids.bidId);
    return { outcome: 'ACCEPTED', bids };
  }
  const request = requestOf(model, st);
  const decision = decideProxyBid(model.book, request);
  if (decision.outcome === 'TOO_LOW') return decision;
  const idOf = (i: number) => (i === decision.own ? ids.bidId : ids.automaticBidId);
  const bids = decision.bids.map((b, i) => [b.bidderId, b.amount, b.automatic ? 'AUTOMATIC' : 'PLACED', model.lastSeq + 1 + i]);
  model.book = decision.book;
  model.lastSeq += decision.bids.length;
  model.leadingBidId = idOf(decision.bids.length - 1);
  model.bidIds.push(...decision.bids.map((_, i) => idOf(i)));
  return { outcome: 'ACCEPTED', bids };
}

function requestOf(model: Model, st: Extract<Step, { kind: 'bid' }>) {
  const bidderId = BIDDERS[st.bidder]!;
  const minimum = minimumNextBid(model.book);
  const amount = Math.max(1, st.below ? minimum - 1 : minimum + st.over);
  const leaderMax = model.book.leader?.maxAmount ?? amount;
  const max = st.max;
  const maxAmount =
    'plain' in max ? amount : 'above' in max ? amount + max.above : 'tieLeader' in max ? Math.max(amount, leaderMax) : Math.max(amount, leaderMax + 1);
  return { bidderId, amount, maxAmount };
}

/** The decision as the model states it: the bids in seq order, or the refusal. */
function observed(decision: BidDecision | BuyNowDecision) {
  if (decision.outcome !== 'ACCEPTED') return decision;
  return { outcome: 'ACCEPTED', bids: decisionBids(decision.message).map((b) => [b.bidderId, b.amount, b.kind, b.seq]) };
}

async function runSession(books: PriceBook[], s: Session): Promise<void> {
  const reservePrice = s.reserveAbove === null ? null : s.startingPrice + s.reserveAbove;
  const buyNowPrice = s.buyNowAbove === null ? null : Math.max(reservePrice ?? 0, s.startingPrice) + s.buyNowAbove;
  const auctionId = randomUUID();
  const now = Date.now();
  const entry = freshBookEntry({
    id: auctionId,
    sellerId: 'seller',
    state: 'OPEN',
    startsAt: new Date(now - HOUR),
    endsAt: new Date(now + HOUR),
    scheduledEndsAt: new Date(now + HOUR),
    softCloseSeconds: 0,
    startingPrice: s.startingPrice,
    reservePrice,
    buyNowPrice,
  });
  for (const book of books) await book.load(entry);
  const model: Model = {
    book: { startingPrice: s.startingPrice, reservePrice, currentPrice: s.startingPrice, bidCount: 0, leader: null },
    lastSeq: 0,
    leadingBidId: null,
    ended: false,
    bidIds: [],
  };

  for (const [index, st] of s.steps.entries()) {
    const ids = { bidId: randomUUID(), automaticBidId: randomUUID() };
    const bidderId = BIDDERS[st.bidder]!;
    const idempotencyKey = randomUUID();
    const request = st.kind === 'bid' ? requestOf(model, st) : null;
    const expected = expectedOutcome(model, st, ids, buyNowPrice);
    for (const book of books) {
      const decision =
        request === null
          ? await book.buyNow({ auctionId, bidderId, bidId: ids.bidId, eventId: randomUUID(), idempotencyKey })
          : await book.placeBid({ auctionId, bidderId, ...ids, amount: request.amount, maxAmount: request.maxAmount, idempotencyKey });
      expect(observed(decision), `step ${index}: ${JSON.stringify(st)} with ${JSON.stringify(request)}`).toEqual(expected);
      const live = (await book.peek([auctionId])).get(auctionId)!;
      expect({ price: live.currentPrice, bidCount: live.bidCount, lastSeq: live.lastSeq, leader: live.leaderId, leadingBidId: live.leadingBidId }).toEqual({
        price: model.book.currentPrice,
        bidCount: model.book.bidCount,
        lastSeq: model.lastSeq,
        leader: model.book.leader?.bidderId ?? null,
        leadingBidId: model.leadingBidId,
      });
      const status = model.ended ? 'ENDED' : 'ACTIVE';
      const statuses = (leadingBidId: string | null) => model.bidIds.map((id) => bidStatus({ id }, { status, leadingBidId, reserveStatus: 'NO_RESERVE' }));
      expect(statuses(live.leadingBidId)).toEqual(statuses(model.leadingBidId));
    }
  }
}

describe('the price books against the reference rules of automatic bidding', () => {
  let redis: Redis | undefined;
  const prefix = `auction_test:proxy-parity:${randomUUID()}:`;

  beforeAll(() => {
    if (redisSkipReason === null) redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    if (!redis) return;
    await deleteByPrefix(redis, prefix);
    await redis.quit();
  });

  it('gives the same outcome, bids, leader, price and statuses at every step of random sessions', async (ctx) => {
    if (redisSkipReason !== null) ctx.skip(redisSkipReason);
    const books = [createRedisPriceBook({ redis: redis!, keyPrefix: prefix }), createMemoryPriceBook()];
    await fc.assert(
      fc.asyncProperty(session, (s) => runSession(books, s)),
      { seed: SEED, numRuns: RUNS },
    );
  }, 300_000);
});
