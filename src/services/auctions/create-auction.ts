import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';
import { unauthenticated } from '../../domain/errors.js';
import { checkPrices, checkSchedule, checkSoftClose } from '../../domain/auction-rules.js';
import * as v from '../validate.js';
import { viewAuctions } from './read-auctions.js';
import { freshBookEntry } from '../bids/book-entry.js';

export interface CreateAuctionCommand {
  title: string;
  description: string;
  startingPrice: number;
  reservePrice?: number | null;
  buyNowPrice?: number | null;
  currency?: string | null;
  startsAt?: Date | null;
  endsAt: Date;
  softCloseSeconds?: number | null;
}

/** Lists an item for sale by the signed-in user. */
export async function createAuction(deps: Pick<ServiceDeps, 'db' | 'clock' | 'priceBook'>, viewer: Viewer, input: CreateAuctionCommand): Promise<AuctionView> {
  if (!viewer) throw unauthenticated();
  const now = deps.clock.now();
  const title = v.text('title', input.title, { max: 120 });
  const description = v.text('description', input.description, { min: 0, max: 10_000 });
  const currency = v.currency(input.currency ?? 'USD');
  const prices = { startingPrice: input.startingPrice, reservePrice: input.reservePrice ?? null, buyNowPrice: input.buyNowPrice ?? null };
  checkPrices(prices);
  const startsAt = input.startsAt ?? now;
  checkSchedule(startsAt, input.endsAt, now, { isNew: true });
  const softCloseSeconds = input.softCloseSeconds ?? 0;
  checkSoftClose(softCloseSeconds);

  const record = await deps.db.auction.create({
    data: {
      sellerId: viewer.id,
      title,
      description,
      currency,
      ...prices,
      currentPrice: prices.startingPrice,
      startsAt: startsAt < now ? now : startsAt,
      endsAt: input.endsAt,
      scheduledEndsAt: input.endsAt,
      softCloseSeconds,
    },
  });
  await deps.priceBook.load(freshBookEntry(record));
  const [view] = await viewAuctions(deps, [record]);
  return view!;
}
