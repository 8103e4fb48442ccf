import DataLoader from 'dataloader';
import type { RequestContext } from './context.js';
import type { AuctionView } from '../domain/auction.js';
import type { BidView } from '../domain/bid.js';
import { getAuctions } from '../services/auctions/read-auctions.js';
import { getBids } from '../services/bids/get-bid.js';

/** Batched reads for fields that would otherwise cost a query per parent (Bid.status, Auction.leadingBid). */
export interface Loaders {
  auction: DataLoader<string, AuctionView | null>;
  bid: DataLoader<string, BidView | null>;
}

const byContext = new WeakMap<RequestContext, Loaders>();

/**
 * The loaders of one request. They batch the reads of one tick but cache nothing: a subscription's
 * context lives as long as its socket, and a cached auction would show a price that has moved on.
 */
export function loadersOf(ctx: RequestContext): Loaders {
  let loaders = byContext.get(ctx);
  if (!loaders) {
    const deps = ctx.services;
    loaders = {
      auction: new DataLoader((ids) => getAuctions(deps, ids), { cache: false }),
      bid: new DataLoader((ids) => getBids(deps, ids), { cache: false }),
    };
    byContext.set(ctx, loaders);
  }
  return loaders;
}
