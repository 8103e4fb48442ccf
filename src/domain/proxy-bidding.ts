import { bidIncrement, minimumNextBid } from './increments.js';

/**
 * Automatic (proxy) bidding as eBay runs it: each bidder states the most they will pay and the
 * system bids for them, one increment at a time. This is the reference: the in-process price book
 * runs it as it is, the Redis script (adapters/redis/price-book-scripts.ts) mirrors it step for
 * step, and a property test holds the two to the same answers.
 */

/** What the rules need of an auction: its prices and its leader's secret maximum. */
export interface ProxyBook {
  startingPrice: number;
  reservePrice: number | null;
  currentPrice: number;
  bidCount: number;
  /** The leading bidder and the most they will pay (their amount, for a plain bid). */
  leader: { bidderId: string; maxAmount: number } | null;
}

/** A bid as placed: a plain bid is one whose maximum is its amount. */
export interface ProxyRequest {
  bidderId: string;
  amount: number;
  maxAmount: number;
}

/** One price change (or a leader's new maximum): a bid in the history with a seq of its own. */
export interface PricedBid {
  bidderId: string;
  /** The price this bid stands at. */
  amount: number;
  /** Its bidder's maximum as it stands with this bid. */
  maxAmount: number;
  /** Placed by the system on behalf of a bidder whose maximum allowed it, not by the request. */
  automatic: boolean;
}

export type ProxyDecision =
  | { outcome: 'TOO_LOW'; minimumNextBid: number }
  /** `bids` in seq order, the last one leading; `own` is the index of the request's own bid. */
  | { outcome: 'ACCEPTED'; bids: PricedBid[]; own: number; book: ProxyBook };

/**
 * Judges a bid against the book. A new leader stands at the lower of its maximum and one increment
 * above the old leader's maximum (never below its own amount); a challenger whose maximum does not
 * exceed the leader's is answered by the leader's automatic bid at the lower of the leader's maximum
 * and one increment above the challenger's, so equal maximums go to the earlier bid. A leader may
 * only raise their maximum, which moves the price only to bring it up to a reserve it now meets.
 * Whenever the leader's maximum meets the reserve, the price is at least the reserve.
 */
export function decideProxyBid(book: ProxyBook, request: ProxyRequest): ProxyDecision {
  const minimum = minimumNextBid(book);
  if (request.amount < minimum) return { outcome: 'TOO_LOW', minimumNextBid: minimum };
  const { leader } = book;
  const reserveFloor = (maxAmount: number) => (book.reservePrice !== null && maxAmount >= book.reservePrice ? book.reservePrice : 0);

  if (leader?.bidderId === request.bidderId) {
    // A leader's new maximum replaces the old one, which it must exceed: a maximum is never lowered.
    if (request.maxAmount <= leader.maxAmount) return { outcome: 'TOO_LOW', minimumNextBid: Math.max(minimum, leader.maxAmount + 1) };
    const own = { bidderId: request.bidderId, amount: Math.max(book.currentPrice, reserveFloor(request.maxAmount)), maxAmount: request.maxAmount, automatic: false };
    return accepted(book, [own], 0);
  }

  if (leader === null) {
    const own = { bidderId: request.bidderId, amount: Math.max(request.amount, reserveFloor(request.maxAmount)), maxAmount: request.maxAmount, automatic: false };
    return accepted(book, [own], 0);
  }

  if (request.maxAmount > leader.maxAmount) {
    const bids: PricedBid[] = [];
    // The old leader's maximum is spent before it is beaten: the history shows it as their bid.
    if (leader.maxAmount > book.currentPrice) bids.push({ ...leader, amount: leader.maxAmount, automatic: true });
    const competitive = Math.min(request.maxAmount, leader.maxAmount + bidIncrement(leader.maxAmount));
    const amount = Math.max(request.amount, competitive, reserveFloor(request.maxAmount));
    bids.push({ bidderId: request.bidderId, amount, maxAmount: request.maxAmount, automatic: false });
    return accepted(book, bids, bids.length - 1);
  }

  // The challenger's maximum is spent at once, and the leader's automatic bid answers it.
  const answer = Math.max(Math.min(leader.maxAmount, request.maxAmount + bidIncrement(request.maxAmount)), reserveFloor(leader.maxAmount));
  const bids: PricedBid[] = [
    { bidderId: request.bidderId, amount: request.maxAmount, maxAmount: request.maxAmount, automatic: false },
    { ...leader, amount: answer, automatic: true },
  ];
  return accepted(book, bids, 0);
}

function accepted(book: ProxyBook, bids: PricedBid[], own: number): ProxyDecision {
  const last = bids[bids.length - 1]!;
  return {
    outcome: 'ACCEPTED',
    bids,
    own,
    book: {
      ...book,
      currentPrice: last.amount,
      bidCount: book.bidCount + bids.length,
      leader: { bidderId: last.bidderId, maxAmount: last.maxAmount },
    },
  };
}

/** Buy It Now is offered while nobody has bid, or, with a reserve, until a bid meets it. */
export function buyNowOffered(book: Pick<ProxyBook, 'bidCount' | 'reservePrice' | 'currentPrice'>): boolean {
  return book.bidCount === 0 || (book.reservePrice !== null && book.currentPrice < book.reservePrice);
}

/** A maximum as the books record it: only above the amount, since a plain bid's maximum is its amount. */
export const maximumAbove = (amount: number, maxAmount: number | null): number | null => (maxAmount !== null && maxAmount > amount ? maxAmount : null);
