import type { ServiceDeps } from '../deps.js';
import type { AuctionView } from '../../domain/auction.js';
import { badInput } from '../../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../../domain/cursor.js';
import { Prisma } from '../../generated/prisma/client.js';
import * as v from '../validate.js';
import { viewAuctions } from './read-auctions.js';
import { searchTerms } from './search-terms.js';

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

// Each order walks one index, (column, id) or (state, column, id), forwards or backwards: both
// keys run the same way, so the keyset condition is one row comparison the index can seek to.
const ORDERS: Record<AuctionOrder, { column: 'ends_at' | 'created_at' | 'current_price'; descending: boolean }> = {
  ENDING_SOON: { column: 'ends_at', descending: false },
  NEWLY_LISTED: { column: 'created_at', descending: true },
  PRICE_LOW_TO_HIGH: { column: 'current_price', descending: false },
  PRICE_HIGH_TO_LOW: { column: 'current_price', descending: true },
};

const MAX_QUERY_LENGTH = 200;

interface PageRow {
  id: string;
  key: Date | number;
}

/** A page of auctions matching the filter, in the chosen order, after an opaque cursor. */
export async function listAuctions(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, query: AuctionQuery) {
  const orderBy = query.orderBy ?? 'ENDING_SOON';
  const { column, descending } = ORDERS[orderBy];
  const first = pageSize(query.first, 20);
  const where = filterConditions(query.filter ?? {}, deps.clock.now());
  if (query.after) where.push(afterCursor(orderBy, query.after));

  // Prisma cannot express the text search or a row comparison, so the page's ids are chosen in SQL
  // (with the keyset value each cursor is made of, as of that same read) and the rows read by id.
  const order = Prisma.raw(`${column} ${descending ? 'DESC' : 'ASC'}, id ${descending ? 'DESC' : 'ASC'}`);
  const rows = await deps.db.$queryRaw<PageRow[]>`
    SELECT id::text AS id, ${Prisma.raw(column)} AS key FROM auctions
    WHERE ${where.length > 0 ? Prisma.join(where, ' AND ') : Prisma.sql`TRUE`}
    ORDER BY ${order}
    LIMIT ${first + 1}::int`;
  const page = rows.slice(0, first);
  const records = page.length === 0 ? [] : await deps.db.auction.findMany({ where: { id: { in: page.map((row) => row.id) } } });
  const byId = new Map(records.map((record) => [record.id, record]));
  // An id the first read chose is still there: auctions are never deleted.
  const views = await viewAuctions(deps, page.map((row) => byId.get(row.id)!));
  const edges = views.map((node, i) => ({ node, cursor: cursorOf(orderBy, page[i]!) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
  } satisfies { edges: Array<{ node: AuctionView; cursor: string }>; pageInfo: unknown };
}

function cursorOf(order: AuctionOrder, row: PageRow): string {
  return encodeCursor(order, [row.key instanceof Date ? row.key.toISOString() : Number(row.key), row.id]);
}

function afterCursor(order: AuctionOrder, cursor: string): Prisma.Sql {
  const { column, descending } = ORDERS[order];
  const [value, id] = column === 'current_price' ? decodeCursor(order, cursor, ['int', 'uuid']) : decodeCursor(order, cursor, ['instant', 'uuid']);
  const key = value instanceof Date ? Prisma.sql`${value.toISOString()}::timestamptz` : Prisma.sql`${value}::int`;
  return Prisma.sql`(${Prisma.raw(column)}, id) ${Prisma.raw(descending ? '<' : '>')} (${key}, ${id}::uuid)`;
}

function filterConditions(filter: NonNullable<AuctionQuery['filter']>, now: Date): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  const at = Prisma.sql`${now.toISOString()}::timestamptz`;
  switch (filter.status) {
    case 'SCHEDULED':
      where.push(Prisma.sql`state = 'OPEN' AND starts_at > ${at} AND ends_at > ${at}`);
      break;
    case 'ACTIVE':
      where.push(Prisma.sql`state = 'OPEN' AND starts_at <= ${at} AND ends_at > ${at}`);
      break;
    case 'ENDED':
      where.push(Prisma.sql`(state = 'ENDED' OR (state = 'OPEN' AND ends_at <= ${at}))`);
      break;
    case 'CANCELLED':
      where.push(Prisma.sql`state = 'CANCELLED'`);
      break;
  }
  if (filter.sellerId) where.push(Prisma.sql`seller_id = ${v.uuid('sellerId', filter.sellerId)}::uuid`);
  if (filter.query) {
    const terms = searchTerms(v.text('query', filter.query, { min: 0, max: MAX_QUERY_LENGTH }));
    if (terms) where.push(Prisma.sql`search_vector @@ ${tsquery(terms.words, terms.prefix)}`);
  }
  // bigint: a price beyond the integer column's range matches nothing instead of failing the query.
  if (filter.minPrice != null) where.push(Prisma.sql`current_price >= ${filter.minPrice}::bigint`);
  if (filter.maxPrice != null) where.push(Prisma.sql`current_price <= ${filter.maxPrice}::bigint`);
  if (filter.minPrice != null && filter.maxPrice != null && filter.minPrice > filter.maxPrice) {
    throw badInput('minPrice', 'minPrice must not be above maxPrice.');
  }
  if (filter.endingBefore) where.push(Prisma.sql`ends_at < ${filter.endingBefore.toISOString()}::timestamptz`);
  return where;
}

// The configuration must be the one search_vector is built with ('simple'; the migration says why).
// The prefix is letters and digits only (searchTerms), so quoting it makes one lexeme and no syntax.
function tsquery(words: string, prefix: string | null): Prisma.Sql {
  const whole = Prisma.sql`plainto_tsquery('simple'::regconfig, ${words})`;
  if (prefix === null) return whole;
  const start = Prisma.sql`to_tsquery('simple'::regconfig, ${`'${prefix}':*`})`;
  return words === '' ? start : Prisma.sql`(${whole} && ${start})`;
}
