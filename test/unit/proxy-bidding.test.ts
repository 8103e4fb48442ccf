import { describe, expect, it } from 'vitest';
import { buyNowOffered, decideProxyBid, type ProxyBook, type ProxyDecision, type ProxyRequest } from '../../src/domain/proxy-bidding.js';

// The cases of eBay's help pages on automatic bidding, bid increments and reserve prices, in cents.

const opening = (overrides: Partial<ProxyBook> = {}): ProxyBook => ({ startingPrice: 10_00, reservePrice: null, currentPrice: 10_00, bidCount: 0, leader: null, ...overrides });
const plain = (bidderId: string, amount: number): ProxyRequest => ({ bidderId, amount, maxAmount: amount });
const automatic = (bidderId: string, amount: number, maxAmount: number): ProxyRequest => ({ bidderId, amount, maxAmount });

function accept(book: ProxyBook, request: ProxyRequest) {
  const decision = decideProxyBid(book, request);
  if (decision.outcome !== 'ACCEPTED') throw new Error(`expected an accepted bid, got ${JSON.stringify(decision)}`);
  return decision;
}

/** Each bid as the history shows it: who, how much, and whether the system placed it. */
const history = (decision: Extract<ProxyDecision, { outcome: 'ACCEPTED' }>) => decision.bids.map((b) => [b.bidderId, b.amount, b.automatic ? 'automatic' : 'placed']);

describe('automatic bidding as eBay runs it', () => {
  it('opens at the first bid, whatever its maximum, when there is no reserve', () => {
    const first = accept(opening(), automatic('ann', 10_00, 50_00));
    expect(history(first)).toEqual([['ann', 10_00, 'placed']]);
    expect(first.book).toMatchObject({ currentPrice: 10_00, bidCount: 1, leader: { bidderId: 'ann', maxAmount: 50_00 } });
  });

  it('fights the classic two-bidder war: the challenger spends its maximum and the leader answers one increment above', () => {
    // Ann will pay up to 50.00; Bob bids 20.00 with a maximum of 30.00.
    const ann = accept(opening(), automatic('ann', 10_00, 50_00));
    const bob = accept(ann.book, automatic('bob', 11_00, 30_00));
    expect(history(bob)).toEqual([
      ['bob', 30_00, 'placed'],
      ['ann', 31_00, 'automatic'],
    ]);
    expect(bob.own).toBe(0);
    expect(bob.book).toMatchObject({ currentPrice: 31_00, bidCount: 3, leader: { bidderId: 'ann', maxAmount: 50_00 } });

    // Carl goes above Ann's maximum: her 50.00 is spent, and Carl leads one increment above it.
    const carl = accept(bob.book, automatic('carl', 32_00, 80_00));
    expect(history(carl)).toEqual([
      ['ann', 50_00, 'automatic'],
      ['carl', 51_00, 'placed'],
    ]);
    expect(carl.own).toBe(1);
    expect(carl.book).toMatchObject({ currentPrice: 51_00, bidCount: 5, leader: { bidderId: 'carl', maxAmount: 80_00 } });
  });

  it('never lets a new leader stand above its own maximum, nor below its own amount', () => {
    const ann = accept(opening(), automatic('ann', 10_00, 20_00));
    // One increment above Ann's 20.00 would be 21.00, but Bob will pay only 20.50.
    expect(history(accept(ann.book, automatic('bob', 11_00, 20_50)))).toEqual([
      ['ann', 20_00, 'automatic'],
      ['bob', 20_50, 'placed'],
    ]);
    // Bob's opening amount of 40.00 is above what competition requires: he stands at his amount.
    expect(history(accept(ann.book, automatic('bob', 40_00, 60_00)))).toEqual([
      ['ann', 20_00, 'automatic'],
      ['bob', 40_00, 'placed'],
    ]);
  });

  it('gives equal maximums to the earlier bid', () => {
    const ann = accept(opening(), automatic('ann', 10_00, 25_00));
    const bob = accept(ann.book, automatic('bob', 11_00, 25_00));
    expect(history(bob)).toEqual([
      ['bob', 25_00, 'placed'],
      ['ann', 25_00, 'automatic'],
    ]);
    expect(bob.book.leader?.bidderId).toBe('ann');
  });

  it('answers a plain bid below the leader\'s maximum with the leader\'s automatic bid, capped at that maximum', () => {
    const ann = accept(opening(), automatic('ann', 10_00, 12_20));
    expect(history(accept(ann.book, plain('bob', 12_00)))).toEqual([
      ['bob', 12_00, 'placed'],
      ['ann', 12_20, 'automatic'],
    ]);
  });

  it('uses the increment of the price band the competing maximum is in', () => {
    // At 99.50 the increment is 1.00; at 100.00 it is 2.50.
    const ann = accept(opening({ startingPrice: 90_00, currentPrice: 90_00 }), automatic('ann', 90_00, 150_00));
    expect(history(accept(ann.book, automatic('bob', 91_00, 99_50))).at(-1)).toEqual(['ann', 100_50, 'automatic']);
    expect(history(accept(ann.book, automatic('bob', 91_00, 100_00))).at(-1)).toEqual(['ann', 102_50, 'automatic']);
  });

  it("lets the leader raise their maximum without raising the price, and refuses one that would lower it", () => {
    const ann = accept(opening(), automatic('ann', 10_00, 20_00));
    const raised = accept(ann.book, automatic('ann', 10_50, 40_00));
    expect(history(raised)).toEqual([['ann', 10_00, 'placed']]);
    expect(raised.book).toMatchObject({ currentPrice: 10_00, bidCount: 2, leader: { bidderId: 'ann', maxAmount: 40_00 } });
    expect(decideProxyBid(raised.book, automatic('ann', 10_50, 40_00))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 40_01 });
    expect(decideProxyBid(raised.book, plain('ann', 15_00))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 40_01 });
    // The raised maximum counts against the next challenger.
    expect(history(accept(raised.book, automatic('bob', 11_00, 30_00))).at(-1)).toEqual(['ann', 31_00, 'automatic']);
  });

  it('refuses an amount below the minimum next bid, whatever the maximum', () => {
    const ann = accept(opening(), plain('ann', 10_00));
    expect(decideProxyBid(ann.book, automatic('bob', 10_49, 99_00))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 10_50 });
    expect(decideProxyBid(opening(), automatic('bob', 9_99, 99_00))).toEqual({ outcome: 'TOO_LOW', minimumNextBid: 10_00 });
  });
});

describe('a reserve price', () => {
  const reserved = opening({ reservePrice: 100_00 });

  it('brings the price straight up to the reserve when a maximum meets it', () => {
    const ann = accept(reserved, automatic('ann', 10_00, 150_00));
    expect(history(ann)).toEqual([['ann', 100_00, 'placed']]);
    expect(ann.book.currentPrice).toBe(100_00);
  });

  it('leaves the price where competition put it while no maximum meets the reserve', () => {
    const ann = accept(reserved, automatic('ann', 10_00, 60_00));
    expect(ann.book.currentPrice).toBe(10_00);
    const bob = accept(ann.book, automatic('bob', 11_00, 80_00));
    expect(history(bob)).toEqual([
      ['ann', 60_00, 'automatic'],
      ['bob', 61_00, 'placed'],
    ]);
  });

  it('raises the price to the reserve when a challenger that takes the lead meets it', () => {
    const ann = accept(reserved, automatic('ann', 10_00, 60_00));
    expect(history(accept(ann.book, automatic('bob', 11_00, 120_00)))).toEqual([
      ['ann', 60_00, 'automatic'],
      ['bob', 100_00, 'placed'],
    ]);
  });

  it("raises the leader's answer to the reserve when the leader's maximum meets it", () => {
    const ann = accept(reserved, automatic('ann', 10_00, 60_00));
    const raised = accept(ann.book, automatic('ann', 10_50, 200_00));
    expect(history(raised)).toEqual([['ann', 100_00, 'placed']]);
    expect(history(accept(raised.book, automatic('bob', 102_50, 150_00))).at(-1)).toEqual(['ann', 152_50, 'automatic']);
  });

  it('goes above the reserve when competition requires it', () => {
    const ann = accept(reserved, automatic('ann', 10_00, 110_00));
    expect(history(accept(ann.book, automatic('bob', 102_50, 130_00)))).toEqual([
      ['ann', 110_00, 'automatic'],
      ['bob', 112_50, 'placed'],
    ]);
  });
});

describe('Buy It Now', () => {
  it('is offered until the first bid without a reserve', () => {
    expect(buyNowOffered(opening())).toBe(true);
    expect(buyNowOffered(accept(opening(), plain('ann', 10_00)).book)).toBe(false);
  });

  it('is offered with a reserve until a bid meets it', () => {
    const reserved = opening({ reservePrice: 100_00 });
    const below = accept(reserved, automatic('ann', 10_00, 60_00));
    expect(buyNowOffered(below.book)).toBe(true);
    expect(buyNowOffered(accept(below.book, automatic('bob', 11_00, 100_00)).book)).toBe(false);
  });
});
