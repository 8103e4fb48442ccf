import type { ServiceDeps } from '../deps.js';
import { viewAuction, type AuctionRecord, type AuctionView } from '../../domain/auction.js';
import * as v from '../validate.js';

/** Views of stored auctions as of now, with each one's live bid state laid over. */
export async function viewAuctions(deps: Pick<ServiceDeps, 'clock' | 'priceBook'>, records: AuctionRecord[]): Promise<AuctionView[]> {
  const live = records.length > 0 ? await deps.priceBook.peek(records.map((r) => r.id)) : new Map();
  const now = deps.clock.now();
  return records.map((record) => viewAuction(record, now, live.get(record.id)));
}

/** Auctions by id as viewers see them now, in the order asked (null for one there is none of): one read for all. */
export async function getAuctions(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, ids: readonly string[]): Promise<Array<AuctionView | null>> {
  const wanted = [...new Set(ids.map((id) => v.uuid('id', id)))];
  const records = await deps.db.auction.findMany({ where: { id: { in: wanted } } });
  const views = new Map((await viewAuctions(deps, records)).map((view) => [view.id, view]));
  return ids.map((id) => views.get(v.uuid('id', id)) ?? null);
}

/** One auction as the viewer sees it now, or null when there is none. */
export async function getAuction(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, id: string): Promise<AuctionView | null> {
  const record = await deps.db.auction.findUnique({ where: { id: v.uuid('id', id) } });
  if (!record) return null;
  const [view] = await viewAuctions(deps, [record]);
  return view ?? null;
}
