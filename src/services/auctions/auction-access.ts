import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import { AppError, ErrorCode, forbidden, notFound, unauthenticated } from '../../domain/errors.js';
import type { AuctionView } from '../../domain/auction.js';
import * as v from '../validate.js';
import { viewAuctions } from './read-auctions.js';

/** The auction `viewer` sells, as it is now: NOT_FOUND, UNAUTHENTICATED or FORBIDDEN otherwise. */
export async function sellersAuction(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, viewer: Viewer, id: string): Promise<AuctionView> {
  if (!viewer) throw unauthenticated();
  const record = await deps.db.auction.findUnique({ where: { id: v.uuid('id', id) } });
  if (!record) throw notFound('Auction');
  if (record.sellerId !== viewer.id) throw forbidden('Only the seller may change this auction.');
  const [view] = await viewAuctions(deps, [record]);
  return view!;
}

/** Refuses a change to an auction that has ended or was cancelled. */
export function assertNotOver(auction: AuctionView): void {
  if (auction.status === 'ENDED' || auction.status === 'CANCELLED') {
    throw new AppError(ErrorCode.AUCTION_NOT_ACTIVE, `The auction is ${auction.status.toLowerCase()}.`, { status: auction.status });
  }
}
