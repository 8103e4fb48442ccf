import type { ServiceDeps } from '../deps.js';
import type { BidKind, BidView } from '../../domain/bid.js';
import { decodeCursor, encodeCursor, pageSize } from '../../domain/cursor.js';
import { aliasOf } from '../users/view-user.js';

type BidRow = {
  id: string;
  auctionId: string;
  bidderId: string;
  amount: number;
  maxAmount: number | null;
  kind: BidKind;
  seq: number;
  placedAt: Date;
  bidder: { displayName: string };
};

export const toBidView = (row: BidRow): BidView => ({
  id: row.id,
  auctionId: row.auctionId,
  bidderId: row.bidderId,
  amount: row.amount,
  seq: row.seq,
  placedAt: row.placedAt,
  bidderAlias: aliasOf(row.bidder.displayName),
  kind: row.kind,
  maxAmount: row.maxAmount,
});

/** An auction's persisted bids, newest first, after an opaque cursor. */
export async function listBids(deps: Pick<ServiceDeps, 'db'>, auctionId: string, args: { first?: number | null; after?: string | null }) {
  const first = pageSize(args.first, 20);
  let beforeSeq: number | undefined;
  if (args.after) {
    [beforeSeq] = decodeCursor('bids', args.after, ['int']);
  }
  const rows = await deps.db.bid.findMany({
    where: { auctionId, ...(beforeSeq === undefined ? {} : { seq: { lt: beforeSeq } }) },
    include: { bidder: { select: { displayName: true } } },
    orderBy: { seq: 'desc' },
    take: first + 1,
  });
  const edges = rows.slice(0, first).map((row) => ({ node: toBidView(row), cursor: encodeCursor('bids', [row.seq]) }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
