import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import { badInput } from '../../domain/errors.js';
import { checkPrices, checkSchedule } from '../../domain/auction-rules.js';
import * as v from '../validate.js';
import { assertNotOver, sellersAuction } from './auction-access.js';
import { getAuction } from './read-auctions.js';

export interface UpdateAuctionCommand {
  title?: string | null;
  description?: string | null;
  reservePrice?: number | null;
  buyNowPrice?: number | null;
  endsAt?: Date | null;
}

const BID_LOCKED_FIELDS = ['reservePrice', 'buyNowPrice', 'endsAt'] as const;

/** Edits a listing: text until it ends, prices and end time only until the first bid. A null price removes it. */
export async function updateAuction(
  deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>,
  viewer: Viewer,
  id: string,
  input: UpdateAuctionCommand,
): Promise<AuctionView> {
  const auction = await sellersAuction(deps, viewer, id);
  assertNotOver(auction);

  const data: Record<string, unknown> = {};
  if (input.title !== undefined) {
    if (input.title === null) throw badInput('title', 'title cannot be removed.');
    data.title = v.text('title', input.title, { max: 120 });
  }
  if (input.description !== undefined) {
    data.description = v.text('description', input.description ?? '', { min: 0, max: 10_000 });
  }
  const lockedChanges = BID_LOCKED_FIELDS.filter((field) => input[field] !== undefined);
  if (lockedChanges.length > 0) {
    if (auction.bidCount > 0) throw badInput(lockedChanges[0]!, `${lockedChanges[0]} cannot change once the auction has a bid.`);
    if (input.endsAt === null) throw badInput('endsAt', 'endsAt cannot be removed.');
    const prices = {
      startingPrice: auction.startingPrice,
      reservePrice: input.reservePrice === undefined ? auction.reservePrice : input.reservePrice,
      buyNowPrice: input.buyNowPrice === undefined ? auction.buyNowPrice : input.buyNowPrice,
    };
    checkPrices(prices);
    const endsAt = input.endsAt ?? auction.endsAt;
    if (input.endsAt) checkSchedule(auction.startsAt, endsAt, deps.clock.now(), { isNew: false });
    Object.assign(data, { reservePrice: prices.reservePrice, buyNowPrice: prices.buyNowPrice, endsAt, scheduledEndsAt: endsAt });
  }
  if (Object.keys(data).length === 0) return auction;
  // The price book decides "before the first bid" atomically against bids in flight.
  const change = { endsAt: data.endsAt as Date, reservePrice: data.reservePrice as number | null, buyNowPrice: data.buyNowPrice as number | null };
  if (lockedChanges.length > 0 && !(await deps.priceBook.reschedule(auction.id, change))) {
    throw badInput(lockedChanges[0]!, `${lockedChanges[0]} cannot change once the auction has a bid.`);
  }

  // The conditions make the change atomic against a bid or a cancellation landing in between.
  const updated = await deps.db.auction.updateMany({
    where: { id: auction.id, state: 'OPEN', endsAt: { gt: deps.clock.now() }, ...(lockedChanges.length > 0 ? { bidCount: 0 } : {}) },
    data,
  });
  if (updated.count === 0) {
    const latest = await getAuction(deps, auction.id);
    assertNotOver(latest!);
    throw badInput(lockedChanges[0] ?? 'id', 'The auction changed meanwhile; reload it and try again.');
  }
  return (await getAuction(deps, auction.id))!;
}
