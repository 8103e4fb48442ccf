import type { ServiceDeps } from '../deps.js';
import type { BidView } from '../../domain/bid.js';
import { toBidView } from './list-bids.js';
import * as v from '../validate.js';

/** A persisted bid by id, or null. */
export async function getBid(deps: ServiceDeps, id: string | null): Promise<BidView | null> {
  if (!id) return null;
  const row = await deps.db.bid.findUnique({ where: { id: v.uuid('id', id) }, include: { bidder: { select: { displayName: true } } } });
  return row ? toBidView(row) : null;
}
