import type { ServiceDeps } from '../deps.js';
import type { AuctionEvent } from '../../domain/events.js';
import { badInput } from '../../domain/errors.js';
import { pageSize } from '../../domain/cursor.js';

/** An event as Postgres holds it: the live event's fields, with its time as a Date. */
export type StoredEvent = (AuctionEvent extends infer E ? (E extends AuctionEvent ? Omit<E, 'at'> & { at: Date } : never) : never);

/** An auction's events after `afterSeq`, oldest first: how a subscriber catches up after a gap. */
export async function listEvents(deps: Pick<ServiceDeps, 'db'>, auctionId: string, args: { afterSeq: number; first?: number | null }): Promise<StoredEvent[]> {
  if (!Number.isInteger(args.afterSeq) || args.afterSeq < 0) throw badInput('afterSeq', 'afterSeq must be 0 or more.');
  const first = pageSize(args.first, 100, 500);
  const rows = await deps.db.auctionEvent.findMany({
    where: { auctionId, seq: { gt: args.afterSeq } },
    orderBy: { seq: 'asc' },
    take: first,
  });
  return rows.map((row) => ({ ...toStoredEvent(row), at: row.at }));
}

/** A row of auction_events as the event it records (the bid persister wrote the payload from the same types). */
export function toStoredEvent(row: { type: string; auctionId: string; seq: number; at: Date; payload: unknown }): AuctionEvent {
  return { type: row.type, auctionId: row.auctionId, seq: row.seq, at: row.at.toISOString(), payload: row.payload } as AuctionEvent;
}
