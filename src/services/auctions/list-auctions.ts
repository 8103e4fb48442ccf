import type { ServiceDeps } from '../deps.js';
import type { AuctionView } from '../../domain/auction.js';
import { badInput } from '../../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../../domain/cursor.js';
import type { Prisma } from '../../generated/prisma/client.js';
import * as v from '../validate.js';
import { viewAuctions } from './read-auctions.js';

export type AuctionOrder = 'ENDING_SOON' | 'NEWLY_LISTED' | 'PRICE_LOW_TO_HIGH' | 'PRICE_HIGH_TO_LOW';

export interface AuctionQuery {
  filter?: {
    status?: 'SCHEDULED' | 'ACTIVE' | 'ENDED' | 'CANCELLED' | null;
    sellerId?: string | null;
    query?: string | null;
    minPrice?: number | null;
    maxPrice?: number | null;
    endingBefore?: Date | null;
  } | null;
  orderBy?: AuctionOrder | null;
  first?: number | null;
  after?: string | null;
}

type SortColumn = 'endsAt' | 'createdAt' | 'currentPrice';
const ORDERS: Record<AuctionOrder, { column: SortColumn; direction: 'asc' | 'desc' }> = {
  ENDING_SOON: { column: 'endsAt', direction: 'asc' },
  NEWLY_LISTED: { column: 'createdAt', direction: 'desc' },
  PRICE_LOW_TO_HIGH: { column: 'currentPrice', direction: 'asc' },
  PRICE_HIGH_TO_LOW: { column: 'currentPrice', direction: 'desc' },
};

/** A page of auctions matching the filter, in the chosen order, after an opaque cursor. */
export async function listAuctions(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, query: AuctionQuery) {
  const orderBy = query.orderBy ?? 'ENDING_SOON';
  const { column, direction } = ORDERS[orderBy];
  const first = pageSize(query.first, 20);
  const where: Prisma.AuctionWhereInput[] = filterConditions(query.filter ?? {}, deps.clock.now());
  if (query.after) where.push(afterCursor(orderBy, column, direction, query.after));

  const records = await deps.db.auction.findMany({
    where: { AND: where },
    orderBy: [{ [column]: direction }, { id: direction }],
    take: first + 1,
  });
  const page = records.slice(0, first);
  const views = await viewAuctions(deps, page);
  const edges = views.map((node, i) => ({ node, cursor: cursorOf(orderBy, column, page[i]!) }));
  return {
    edges,
    pageInfo: { hasNextPage: records.length > first, endCursor: edges.at(-1)?.cursor ?? null },
  } satisfies { edges: Array<{ node: AuctionView; cursor: string }>; pageInfo: unknown };
}

function cursorOf(order: AuctionOrder, column: SortColumn, row: Record<SortColumn | 'id', unknown>): string {
  const value = row[column];
  return encodeCursor(order, [value instanceof Date ? value.toISOString() : (value as number), row.id as string]);
}

function afterCursor(order: AuctionOrder, column: SortColumn, direction: 'asc' | 'desc', cursor: string): Prisma.AuctionWhereInput {
  const [value, id] = column === 'currentPrice' ? decodeCursor(order, cursor, ['int', 'uuid']) : decodeCursor(order, cursor, ['instant', 'uuid']);
  const beyond = direction === 'asc' ? 'gt' : 'lt';
  return { OR: [{ [column]: { [beyond]: value } }, { [column]: value, id: { [beyond]: id } }] };
}

function filterConditions(filter: NonNullable<AuctionQuery['filter']>, now: Date): Prisma.AuctionWhereInput[] {
  const where: Prisma.AuctionWhereInput[] = [];
  switch (filter.status) {
    case 'SCHEDULED':
      where.push({ state: 'OPEN', startsAt: { gt: now }, endsAt: { gt: now } });
      break;
    case 'ACTIVE':
      where.push({ state: 'OPEN', startsAt: { lte: now }, endsAt: { gt: now } });
      break;
    case 'ENDED':
      where.push({ OR: [{ state: 'ENDED' }, { state: 'OPEN', endsAt: { lte: now } }] });
      break;
    case 'CANCELLED':
      where.push({ state: 'CANCELLED' });
      break;
  }
  if (filter.sellerId) where.push({ sellerId: v.uuid('sellerId', filter.sellerId) });
  if (filter.query) {
    const words = v.text('query', filter.query, { min: 0, max: 200 }).split(/\s+/).filter(Boolean).slice(0, 10);
    for (const word of words) {
      where.push({
        OR: [
          { title: { contains: word, mode: 'insensitive' } },
          { description: { contains: word, mode: 'insensitive' } },
        ],
      });
    }
  }
  if (filter.minPrice != null) where.push({ currentPrice: { gte: filter.minPrice } });
  if (filter.maxPrice != null) where.push({ currentPrice: { lte: filter.maxPrice } });
  if (filter.minPrice != null && filter.maxPrice != null && filter.minPrice > filter.maxPrice) {
    throw badInput('minPrice', 'minPrice must not be above maxPrice.');
  }
  if (filter.endingBefore) where.push({ endsAt: { lt: filter.endingBefore } });
  return where;
}
