import type { ServiceDeps } from '../deps.js';
import type { BidView } from '../../domain/bid.js';
import type { BidPlacedMessage } from '../../ports/bid-log.js';
import { toBidView } from './list-bids.js';
import { aliasOf } from '../users/view-user.js';
import * as v from '../validate.js';
import { decisionBids } from './decision-bids.js';

/** A bid by id: persisted, or accepted moments ago and not yet persisted (read-your-writes). */
export async function getBid(deps: Pick<ServiceDeps, 'db' | 'priceBook'>, id: string | null): Promise<BidView | null> {
  if (!id) return null;
  const [bid] = await getBids(deps, [id]);
  return bid ?? null;
}

/** Bids by id, in the order asked (null for an unknown one): one read for the persisted ones. */
export async function getBids(deps: Pick<ServiceDeps, 'db' | 'priceBook'>, ids: readonly string[]): Promise<Array<BidView | null>> {
  const wanted = ids.map((id) => v.uuid('id', id));
  const rows = await deps.db.bid.findMany({ where: { id: { in: [...new Set(wanted)] } }, include: { bidder: { select: { displayName: true } } } });
  const found = new Map(rows.map((row) => [row.id, toBidView(row)]));
  return Promise.all(
    wanted.map(async (id) => {
      const persisted = found.get(id);
      if (persisted) return persisted;
      const recent = await deps.priceBook.recentBid(id);
      return recent ? bidViewOf(deps, recent, { id }) : null;
    }),
  );
}

/**
 * A bid a decision's message carries (its own, unless `id` names the automatic one), as a viewer
 * sees it. The bidder's name is read only when the caller does not know it (placeBid knows its own
 * bidder's).
 */
export async function bidViewOf(deps: Pick<ServiceDeps, 'db'>, message: BidPlacedMessage, known: { id?: string; displayName?: string | null } = {}): Promise<BidView> {
  const bid = decisionBids(message).find((b) => b.id === (known.id ?? message.id))!;
  const ownName = bid.id === message.id ? known.displayName : null;
  const name = ownName ?? (await deps.db.user.findUnique({ where: { id: bid.bidderId }, select: { displayName: true } }))?.displayName;
  return {
    id: bid.id,
    auctionId: message.auctionId,
    bidderId: bid.bidderId,
    amount: bid.amount,
    seq: bid.seq,
    placedAt: new Date(bid.placedAt),
    bidderAlias: aliasOf(name ?? ''),
    kind: bid.kind,
    maxAmount: bid.maxAmount,
  };
}
