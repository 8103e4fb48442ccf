import type { BookEntry } from '../../ports/price-book.js';

/** The price book entry of an auction that has no bid yet. */
export function freshBookEntry(auction: {
  id: string;
  sellerId: string;
  state: BookEntry['state'];
  startsAt: Date;
  endsAt: Date;
  scheduledEndsAt: Date;
  softCloseSeconds: number;
  startingPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
}): BookEntry {
  return {
    auctionId: auction.id,
    sellerId: auction.sellerId,
    state: auction.state,
    startsAt: auction.startsAt,
    endsAt: auction.endsAt,
    scheduledEndsAt: auction.scheduledEndsAt,
    softCloseSeconds: auction.softCloseSeconds,
    startingPrice: auction.startingPrice,
    reservePrice: auction.reservePrice,
    buyNowPrice: auction.buyNowPrice,
    currentPrice: auction.startingPrice,
    bidCount: 0,
    lastSeq: 0,
    leadingBidId: null,
    leaderId: null,
    leaderMaxAmount: null,
    finalMessage: null,
    acceptedBids: [],
  };
}
