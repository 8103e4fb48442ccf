import type { BidPlacedMessage } from '../../ports/bid-log.js';
import { bidIncrement } from '../../domain/increments.js';
import type { BidKind } from '../../domain/bid.js';

/** One bid of an accepted decision, with the auction as that bid left it. */
export interface DecisionBid {
  id: string;
  bidderId: string;
  amount: number;
  maxAmount: number | null;
  kind: BidKind;
  /** Only the request's own bid has a key (and what it asked for); an automatic one has neither. */
  idempotencyKey: string | null;
  requestedAmount: number | null;
  seq: number;
  placedAt: string;
  currentPrice: number;
  bidCount: number;
  minimumNextBid: number;
}

/**
 * The bids a decision's message holds, in seq order: the request's own and, with automatic
 * bidding, the one placed for the other bidder before or after it. The last one leads.
 */
export function decisionBids(message: BidPlacedMessage): DecisionBid[] {
  const { bid, automatic } = message;
  const own = {
    id: bid.id,
    bidderId: bid.bidderId,
    amount: bid.amount,
    maxAmount: bid.maxAmount,
    kind: bid.kind ?? 'PLACED',
    idempotencyKey: bid.idempotencyKey,
    requestedAmount: bid.requestedAmount ?? bid.amount,
    seq: message.seq,
  } as const;
  const other = automatic && { ...automatic, kind: 'AUTOMATIC', idempotencyKey: null, requestedAmount: null } as const;
  const ordered = !other ? [own] : other.seq < own.seq ? [other, own] : [own, other];
  const last = ordered.length - 1;
  // The last bid leaves the auction as the message says; an earlier one, as its price implies.
  return ordered.map((b, i) => ({
    ...b,
    placedAt: bid.placedAt,
    currentPrice: i === last ? message.currentPrice : b.amount,
    bidCount: message.bidCount - (last - i),
    minimumNextBid: i === last ? message.minimumNextBid : b.amount + bidIncrement(b.amount),
  }));
}

/** The bid that leads once the decision is made. */
export const leadingBidOf = (message: BidPlacedMessage): DecisionBid => decisionBids(message).at(-1)!;

/** The ids of the decision's bids. */
export const bidIdsOf = (message: BidPlacedMessage): string[] => (message.automatic ? [message.id, message.automatic.id] : [message.id]);

/** The seq of the decision's last event: an automatic bid, the soft-close extension, or the end a purchase caused. */
export const lastSeqOf = (message: BidPlacedMessage): number =>
  Math.max(message.seq, message.automatic?.seq ?? 0, message.extension?.seq ?? 0, message.ended?.seq ?? 0);

/** Who a decision outbid: the bidder who led before it, or the request's own bidder answered at once by an automatic bid. */
export interface Outbid {
  userId: string;
  /** Their bid that no longer leads: their latest in the auction. */
  yourBidId: string;
  /** The bid that leads now. */
  by: DecisionBid;
}

/** The bidder a decision left behind, if any; a decision leaves at most one (the new leader is one of the other two). */
export function outbidBy(message: BidPlacedMessage): Outbid | null {
  const by = leadingBidOf(message);
  if (message.bid.bidderId !== by.bidderId) return { userId: message.bid.bidderId, yourBidId: message.id, by };
  const previous = message.previousLeader;
  if (!previous || previous.bidderId === by.bidderId) return null;
  // The old leader's maximum may have been spent by an automatic bid just before: that is their latest.
  const spent = message.automatic?.bidderId === previous.bidderId ? message.automatic.id : previous.bidId;
  return { userId: previous.bidderId, yourBidId: spent, by };
}
