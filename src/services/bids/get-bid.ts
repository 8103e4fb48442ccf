import type { ServiceDeps } from '../deps.js';
import type { BidView } from '../../domain/bid.js';
import type { BidPlacedMessage } from '../../ports/bid-log.js';
import { toBidView } from './list-bids.js';
import { aliasOf } from '../users/view-user.js';
import * as v from '../validate.js';

/** A bid by id: persisted, or accepted moments ago and not yet persisted (read-your-writes). */
export async function getBid(deps: Pick<ServiceDeps, 'db' | 'priceBook'>, id: string | null): Promise<BidView | null> {
  if (!id) return null;
  const bidId = v.uuid('id', id);
  const row = await deps.db.bid.findUnique({ where: { id: bidId }, include: { bidder: { select: { displayName: true } } } });
  if (row) return toBidView(row);
  const recent = await deps.priceBook.recentBid(bidId);
  return recent ? bidViewOf(deps, recent) : null;
}

/** The bid a log message carries, as a viewer sees it. */
export async function bidViewOf(deps: Pick<ServiceDeps, 'db'>, message: BidPlacedMessage): Promise<BidView> {
  const bidder = await deps.db.user.findUnique({ where: { id: message.bid.bidderId }, select: { displayName: true } });
  return {
    id: message.bid.id,
    auctionId: message.auctionId,
    bidderId: message.bid.bidderId,
    amount: message.bid.amount,
    seq: message.seq,
    placedAt: new Date(message.bid.placedAt),
    bidderAlias: aliasOf(bidder?.displayName ?? ''),
  };
}
