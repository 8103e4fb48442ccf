import { describe, expect, it } from 'vitest';
import { checkPrices, checkSchedule, checkSoftClose } from '../../src/domain/auction-rules.js';
import { auctionStatus, reserveStatus, viewAuction, type AuctionRecord } from '../../src/domain/auction.js';
import { bidIncrement, minimumNextBid } from '../../src/domain/increments.js';
import { bidStatus } from '../../src/domain/bid.js';
import type { AppError } from '../../src/domain/errors.js';

const now = new Date('2026-11-22T12:00:00.000Z');
const minutes = (m: number) => new Date(now.getTime() + m * 60_000);
const fieldOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    const { code, details } = error as AppError;
    return { code, ...details } as { code: string; field: string };
  }
  return undefined;
};

const record = (overrides: Partial<AuctionRecord> = {}): AuctionRecord => ({
  id: 'a',
  sellerId: 's',
  title: 't',
  description: '',
  currency: 'USD',
  startingPrice: 1000,
  reservePrice: null,
  buyNowPrice: null,
  startsAt: minutes(-10),
  endsAt: minutes(10),
  softCloseSeconds: 0,
  state: 'OPEN',
  cancelledAt: null,
  currentPrice: 1000,
  bidCount: 0,
  lastSeq: 0,
  leadingBidId: null,
  leaderId: null,
  winnerId: null,
  createdAt: minutes(-10),
  ...overrides,
});

describe('auction schedule rules', () => {
  it('accepts an auction that starts now and ends within 30 days', () => {
    expect(() => checkSchedule(now, minutes(60 * 24 * 30), now, { isNew: true })).not.toThrow();
  });
  it('rejects an end before the start', () => {
    expect(fieldOf(() => checkSchedule(minutes(10), minutes(5), now, { isNew: true }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsAt' });
  });
  it('rejects an end more than 30 days after the start', () => {
    expect(fieldOf(() => checkSchedule(now, minutes(60 * 24 * 30 + 1), now, { isNew: true }))?.field).toBe('endsAt');
  });
  it('rejects a start in the past', () => {
    expect(fieldOf(() => checkSchedule(minutes(-5), minutes(60), now, { isNew: true }))?.field).toBe('startsAt');
  });
  it('limits soft close to 0..3600 seconds', () => {
    expect(() => checkSoftClose(0)).not.toThrow();
    expect(() => checkSoftClose(3600)).not.toThrow();
    expect(fieldOf(() => checkSoftClose(3601))?.field).toBe('softCloseSeconds');
    expect(fieldOf(() => checkSoftClose(-1))?.field).toBe('softCloseSeconds');
  });
});

describe('auction price rules', () => {
  it('requires Buy It Now above the starting price', () => {
    expect(fieldOf(() => checkPrices({ startingPrice: 1000, reservePrice: null, buyNowPrice: 1000 }))?.field).toBe('buyNowPrice');
    expect(() => checkPrices({ startingPrice: 1000, reservePrice: null, buyNowPrice: 1001 })).not.toThrow();
  });
  it('rejects zero and amounts above 10,000,000.00', () => {
    expect(fieldOf(() => checkPrices({ startingPrice: 0, reservePrice: null, buyNowPrice: null }))?.field).toBe('startingPrice');
    expect(fieldOf(() => checkPrices({ startingPrice: 1_000_000_001, reservePrice: null, buyNowPrice: null }))?.field).toBe('startingPrice');
  });
  it('rejects a reserve below the starting price', () => {
    expect(fieldOf(() => checkPrices({ startingPrice: 1000, reservePrice: 999, buyNowPrice: null }))?.field).toBe('reservePrice');
  });
});

describe('auction status', () => {
  it('reads SCHEDULED before the start, ACTIVE until the end and ENDED after it', () => {
    const auction = { state: 'OPEN' as const, startsAt: minutes(5), endsAt: minutes(10) };
    expect(auctionStatus(auction, now)).toBe('SCHEDULED');
    expect(auctionStatus(auction, minutes(5))).toBe('ACTIVE');
    expect(auctionStatus(auction, minutes(10))).toBe('ENDED');
  });
  it('reads CANCELLED whatever the clock says', () => {
    expect(auctionStatus({ state: 'CANCELLED', startsAt: minutes(-5), endsAt: minutes(10) }, now)).toBe('CANCELLED');
  });
  it('withdraws Buy It Now once there is a bid', () => {
    expect(viewAuction(record({ buyNowPrice: 5000 }), now).offeredBuyNowPrice).toBe(5000);
    expect(viewAuction(record({ buyNowPrice: 5000, bidCount: 1, currentPrice: 1000 }), now).offeredBuyNowPrice).toBeNull();
  });
  it('reports the reserve as met only once a bid reaches it', () => {
    expect(reserveStatus({ reservePrice: null, currentPrice: 1000, bidCount: 0 })).toBe('NO_RESERVE');
    expect(reserveStatus({ reservePrice: 2000, currentPrice: 1999, bidCount: 3 })).toBe('NOT_MET');
    expect(reserveStatus({ reservePrice: 2000, currentPrice: 2000, bidCount: 3 })).toBe('MET');
  });
  it('lays live state over the stored record only when it is newer', () => {
    const live = { state: 'OPEN' as const, winnerId: null, currentPrice: 1500, bidCount: 2, lastSeq: 2, leadingBidId: 'b2', leaderId: 'u', endsAt: minutes(10) };
    expect(viewAuction(record({ lastSeq: 1, bidCount: 1, currentPrice: 1200 }), now, live).currentPrice).toBe(1500);
    expect(viewAuction(record({ lastSeq: 3, bidCount: 3, currentPrice: 1800 }), now, live).currentPrice).toBe(1800);
  });
});

describe('bid increments', () => {
  it.each([
    [50, 5],
    [100, 25],
    [499, 25],
    [500, 50],
    [2500, 100],
    [9999, 100],
    [10000, 250],
    [99_999, 1000],
    [100_000, 2500],
    [499_999, 5000],
    [500_000, 10000],
  ])('adds the band increment above %i', (price, increment) => {
    expect(bidIncrement(price)).toBe(increment);
  });
  it('lets the first bid equal the starting price', () => {
    expect(minimumNextBid({ startingPrice: 1000, currentPrice: 1000, bidCount: 0 })).toBe(1000);
    expect(minimumNextBid({ startingPrice: 1000, currentPrice: 1000, bidCount: 1 })).toBe(1050);
  });
});

describe('bid status', () => {
  const view = (overrides: Partial<AuctionRecord>) => viewAuction(record(overrides), now);
  it('is LEADING or OUTBID while the auction runs', () => {
    expect(bidStatus({ id: 'b1' }, view({ leadingBidId: 'b1', bidCount: 1 }))).toBe('LEADING');
    expect(bidStatus({ id: 'b0' }, view({ leadingBidId: 'b1', bidCount: 2 }))).toBe('OUTBID');
  });
  it('is WON for the leading bid of an ended auction whose reserve was met, LOST otherwise', () => {
    expect(bidStatus({ id: 'b1' }, view({ leadingBidId: 'b1', bidCount: 1, endsAt: minutes(-1) }))).toBe('WON');
    expect(bidStatus({ id: 'b1' }, view({ leadingBidId: 'b1', bidCount: 1, reservePrice: 5000, endsAt: minutes(-1) }))).toBe('LOST');
    expect(bidStatus({ id: 'b0' }, view({ leadingBidId: 'b1', bidCount: 2, endsAt: minutes(-1) }))).toBe('LOST');
  });
  it('is CANCELLED when the auction was cancelled', () => {
    expect(bidStatus({ id: 'b1' }, view({ leadingBidId: 'b1', state: 'CANCELLED' }))).toBe('CANCELLED');
  });
});
