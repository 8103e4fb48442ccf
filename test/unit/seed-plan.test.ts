import { describe, expect, it } from 'vitest';
import { checkPrices, checkSchedule, MAX_SOFT_CLOSE_SECONDS } from '../../src/domain/auction-rules.js';
import { bidIncrement, minimumNextBid } from '../../src/domain/increments.js';
import { bidMessages, demoUsers, planAuction, priceBands, type PlanContext, type PlannedAuction } from '../../scripts/seed/plan.js';

const NOW = new Date('2031-03-14T12:00:00.000Z');
const DAY = 24 * 3600_000;

function context(overrides: Partial<PlanContext> = {}): PlanContext {
  let next = 0;
  return {
    seed: 42,
    now: NOW,
    sellerIds: ['seller-1', 'seller-2', 'seller-3'],
    bidderIds: ['bidder-1', 'bidder-2', 'bidder-3', 'bidder-4', 'bidder-5'],
    newId: () => `id-${++next}`,
    ...overrides,
  };
}

const plan = (count: number, ctx = context()): PlannedAuction[] => Array.from({ length: count }, (_, i) => planAuction(ctx, i));
const withBids = (auctions: PlannedAuction[]) => auctions.filter((a) => a.bids.length > 0);

describe('seed plan', () => {
  const auctions = plan(3_000);

  it('gives enough auctions long histories for the increment checks to mean something', () => {
    expect(withBids(auctions).length).toBeGreaterThan(800);
    expect(auctions.some((a) => a.bids.length >= 20)).toBe(true);
  });

  it('opens every history at or above the starting price and raises by at least the increment each time', () => {
    for (const auction of withBids(auctions)) {
      let current = auction.startingPrice;
      auction.bids.forEach((bid, index) => {
        const minimum = minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: current, bidCount: index });
        expect(bid.amount, `bid ${index + 1} of ${auction.title}`).toBeGreaterThanOrEqual(minimum);
        if (index > 0) expect(bid.amount - current).toBeGreaterThanOrEqual(bidIncrement(current));
        current = bid.amount;
      });
    }
  });

  it('never lets a seller bid on their own auction nor a leader outbid themself', () => {
    // Sellers who also bid elsewhere, so the rule is actually exercised.
    const mixed = plan(2_000, context({ sellerIds: ['u1', 'u2'], bidderIds: ['u1', 'u2', 'u3', 'u4'] }));
    for (const auction of withBids(mixed)) {
      auction.bids.forEach((bid, index) => {
        expect(bid.bidderId).not.toBe(auction.sellerId);
        if (index > 0) expect(bid.bidderId).not.toBe(auction.bids[index - 1]!.bidderId);
      });
    }
  });

  it('places bids in order, after the start, in the past and before any soft-close window', () => {
    for (const auction of withBids(auctions)) {
      const times = auction.bids.map((b) => b.placedAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(times.length);
      expect(times[0]!).toBeGreaterThan(auction.startsAt.getTime());
      expect(times.at(-1)!).toBeLessThan(Math.min(NOW.getTime(), auction.endsAt.getTime() - auction.softCloseSeconds * 1000));
    }
  });

  it('numbers the log messages 1..n with the fields the price book would set', () => {
    const auction = withBids(auctions).find((a) => a.bids.length >= 3)!;
    const messages = bidMessages(auction);
    expect(messages.map((m) => m.seq)).toEqual(auction.bids.map((_, i) => i + 1));
    messages.forEach((message, index) => {
      const bid = auction.bids[index]!;
      expect(message).toMatchObject({ id: bid.id, auctionId: auction.id, currentPrice: bid.amount, bidCount: index + 1, at: bid.placedAt.toISOString() });
      expect(message.minimumNextBid).toBe(bid.amount + bidIncrement(bid.amount));
      const previous = auction.bids[index - 1];
      expect(message.previousLeader).toEqual(previous ? { bidId: previous.id, bidderId: previous.bidderId, amount: previous.amount } : null);
    });
    // The key must be unique per bidder across every auction, as the bids table demands.
    const keys = withBids(auctions).flatMap(bidMessages).map((m) => `${m.bid.bidderId}/${m.bid.idempotencyKey}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('spreads starting prices over every bid-increment band', () => {
    const bands = priceBands();
    const hit = new Set(auctions.map((a) => bands.findIndex((band) => a.startingPrice >= band.from && a.startingPrice < band.to)));
    expect(hit.has(-1)).toBe(false);
    expect([...hit].sort((a, b) => a - b)).toEqual(bands.map((_, i) => i));
  });

  it('schedules and prices every auction as createAuction would accept, ending over the next days', () => {
    for (const auction of auctions) {
      expect(() => checkSchedule(auction.startsAt, auction.endsAt, NOW, { isNew: false })).not.toThrow();
      expect(() => checkPrices(auction)).not.toThrow();
      expect(auction.softCloseSeconds).toBeLessThanOrEqual(MAX_SOFT_CLOSE_SECONDS);
      expect(auction.endsAt.getTime()).toBeLessThanOrEqual(NOW.getTime() + 14 * DAY);
      expect(auction.createdAt.getTime()).toBeLessThanOrEqual(NOW.getTime());
    }
    const endsWithinADay = auctions.filter((a) => a.endsAt.getTime() - NOW.getTime() < DAY).length;
    expect(endsWithinADay).toBeGreaterThan(0);
    expect(endsWithinADay).toBeLessThan(auctions.length / 2);
  });

  it('writes varied titles and descriptions', () => {
    expect(new Set(auctions.map((a) => a.title)).size).toBeGreaterThan(auctions.length / 2);
    expect(new Set(auctions.map((a) => a.description)).size).toBeGreaterThan(auctions.length * 0.9);
    for (const a of auctions) expect(a.title.length).toBeLessThanOrEqual(120);
  });

  it('repeats a run from its seed, ids aside, and differs under another seed', () => {
    const strip = (list: PlannedAuction[]) => list.map(({ id: _id, bids, ...rest }) => ({ ...rest, bids: bids.map(({ id: _bidId, ...bid }) => bid) }));
    const again = plan(200, { ...context(), newId: () => crypto.randomUUID() });
    expect(strip(again)).toEqual(strip(auctions.slice(0, 200)));
    expect(strip(plan(200, context({ seed: 43 })))).not.toEqual(strip(again));
  });
});

describe('demo users', () => {
  it('makes about a quarter of them sellers, with fixed emails a rerun finds again', () => {
    const users = demoUsers(20);
    expect(users.filter((u) => u.role === 'seller').map((u) => u.email)).toEqual([1, 2, 3, 4, 5].map((n) => `demo-seller-${n}@example.com`));
    expect(users.filter((u) => u.role === 'bidder')).toHaveLength(15);
    expect(demoUsers(20)).toEqual(users);
    expect(new Set(users.map((u) => u.email)).size).toBe(20);
  });

  it('refuses fewer than a seller and a bidder', () => {
    expect(() => demoUsers(1)).toThrow(RangeError);
    expect(demoUsers(2).map((u) => u.role)).toEqual(['seller', 'bidder']);
  });
});
