import { MAX_DURATION_MS, MAX_SOFT_CLOSE_SECONDS } from '../../src/domain/auction-rules.js';
import { bidIncrement, incrementTableArgs, minimumNextBid } from '../../src/domain/increments.js';
import { MAX_MONEY } from '../../src/domain/money.js';
import type { AuctionRecord } from '../../src/domain/auction.js';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';
import { demoDisplayName, drawListing } from './catalog.js';
import { createRandom, deriveSeed, type Random } from './random.js';

// Pure planning of the demo data: what to write, decided from a seed and a clock, with no I/O.

/** Every demo account signs in with this. */
export const DEMO_PASSWORD = 'auction-demo-pass';

export type DemoRole = 'seller' | 'bidder';

export interface DemoUserPlan {
  email: string;
  displayName: string;
  role: DemoRole;
}

/** The demo accounts: about a quarter sellers, the rest bidders, with fixed emails so a rerun finds them. */
export function demoUsers(count: number): DemoUserPlan[] {
  if (!Number.isInteger(count) || count < 2) throw new RangeError('the demo needs at least 2 users: a seller and a bidder');
  const sellers = Math.max(1, Math.floor(count / 4));
  const plan = (role: DemoRole, index: number): DemoUserPlan => ({
    email: `demo-${role}-${index + 1}@example.com`,
    displayName: demoDisplayName(role === 'seller' ? index : index + 7),
    role,
  });
  return [
    ...Array.from({ length: sellers }, (_, i) => plan('seller', i)),
    ...Array.from({ length: count - sellers }, (_, i) => plan('bidder', i)),
  ];
}

export interface PriceBand {
  /** Inclusive, minor units. */
  from: number;
  /** Exclusive, minor units. */
  to: number;
}

// The top increment band has no upper bound; demo items stop at 25,000.00.
const TOP_BAND_CEILING = 25_000_00;

/** The bid-increment bands as price ranges, read from the table the price book itself applies. */
export function priceBands(): PriceBand[] {
  const table = incrementTableArgs();
  const bands: PriceBand[] = [];
  let from = 0;
  // The table is [upTo, increment, upTo, increment, ..., topIncrement].
  for (let i = 0; i + 1 < table.length; i += 2) {
    bands.push({ from, to: table[i]! });
    from = table[i]!;
  }
  bands.push({ from, to: TOP_BAND_CEILING });
  return bands;
}

const BANDS = priceBands();

// Prices people write: 0.05 steps under a dollar, then 0.50, whole dollars, tens, fifties.
function niceStep(amount: number): number {
  if (amount < 1_00) return 5;
  if (amount < 20_00) return 50;
  if (amount < 1_000_00) return 1_00;
  if (amount < 10_000_00) return 10_00;
  return 50_00;
}

const roundUpNicely = (amount: number): number => Math.ceil(amount / niceStep(amount)) * niceStep(amount);

/** A starting price inside the band, spread evenly on a log scale and rounded as a seller would. */
export function startingPriceIn(band: PriceBand, random: Random): number {
  const low = Math.max(band.from, 5);
  const raw = Math.exp(Math.log(low) + random.next() * (Math.log(band.to) - Math.log(low)));
  let price = roundUpNicely(raw);
  if (price >= band.to) price = low;
  // Some sellers like 9.99.
  if (price >= 1_00 && price < 100_00 && price - 1 >= band.from && random.chance(0.25)) price -= 1;
  return price;
}

export interface PlannedBid {
  id: string;
  bidderId: string;
  amount: number;
  placedAt: Date;
}

/** An auction as createAuction would store it, before any bid, and the bids it will get. */
export interface PlannedAuction
  extends Pick<
    AuctionRecord,
    'id' | 'sellerId' | 'title' | 'description' | 'currency' | 'startingPrice' | 'reservePrice' | 'buyNowPrice' | 'startsAt' | 'endsAt' | 'softCloseSeconds'
  > {
  createdAt: Date;
  /** Oldest first; the nth bid gets seq n, as the price book numbers an auction's first bids. */
  bids: PlannedBid[];
}

export interface PlanContext {
  seed: number;
  now: Date;
  sellerIds: readonly string[];
  bidderIds: readonly string[];
  newId: () => string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const SHARE_SCHEDULED = 0.05;
const SHARE_ENDING_WITHIN_THE_HOUR = 0.04;
const SHARE_WITH_BIDS = 0.45;
const CURRENCIES = ['USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'EUR', 'GBP'] as const;
const SOFT_CLOSES = [0, 0, 0, 0, 0, 0, 120, 300, 600] as const;

/** The auction at `index` of a run: the same seed and clock give the same auction, ids aside. */
export function planAuction(ctx: PlanContext, index: number): PlannedAuction {
  const random = createRandom(deriveSeed(ctx.seed, index));
  const now = ctx.now.getTime();
  const listing = drawListing(random);
  const band = BANDS[Math.min(random.int(listing.bands[0], listing.bands[1]), BANDS.length - 1)]!;
  const startingPrice = startingPriceIn(band, random);
  const softCloseSeconds = Math.min(random.pick(SOFT_CLOSES), MAX_SOFT_CLOSE_SECONDS);
  const sellerId = random.pick(ctx.sellerIds);

  const scheduled = random.chance(SHARE_SCHEDULED);
  let startsAt: number;
  let endsAt: number;
  let createdAt: number;
  if (scheduled) {
    startsAt = ceilTo(now + random.int(HOUR, 3 * DAY), MINUTE);
    endsAt = startsAt + random.pick([1, 3, 5, 7, 10]) * DAY;
    createdAt = now - random.int(0, 2 * DAY);
  } else {
    startsAt = floorTo(now - random.int(10 * MINUTE, 6 * DAY), 1000);
    const remaining = random.chance(SHARE_ENDING_WITHIN_THE_HOUR) ? random.int(5 * MINUTE, HOUR) : random.int(HOUR, 10 * DAY);
    endsAt = ceilTo(now + remaining, MINUTE);
    createdAt = startsAt;
  }
  // Never past what createAuction accepts; the draws above already stay well inside it.
  endsAt = Math.min(endsAt, startsAt + MAX_DURATION_MS);

  const bids = scheduled || !random.chance(SHARE_WITH_BIDS) ? [] : planBids(ctx, random, { sellerId, startingPrice, startsAt, endsAt, softCloseSeconds });
  const reservePrice = random.chance(0.15) ? Math.min(roundUpNicely(startingPrice * (1.5 + random.next() * 2.5)), MAX_MONEY) : null;
  // Buy It Now is only offered until the first bid, so only auctions without bids carry one.
  const buyNowPrice =
    bids.length === 0 && random.chance(0.12)
      ? Math.min(roundUpNicely(Math.max(startingPrice, reservePrice ?? 0) * (1.5 + random.next() * 1.5)), MAX_MONEY)
      : null;

  return {
    id: ctx.newId(),
    sellerId,
    title: listing.title,
    description: listing.description,
    currency: random.pick(CURRENCIES),
    startingPrice,
    reservePrice,
    buyNowPrice: buyNowPrice !== null && buyNowPrice > startingPrice && buyNowPrice >= (reservePrice ?? 0) ? buyNowPrice : null,
    startsAt: new Date(startsAt),
    endsAt: new Date(endsAt),
    softCloseSeconds,
    createdAt: new Date(createdAt),
    bids,
  };
}

function planBids(
  ctx: PlanContext,
  random: Random,
  auction: { sellerId: string; startingPrice: number; startsAt: number; endsAt: number; softCloseSeconds: number },
): PlannedBid[] {
  // Every seeded bid lies in the past and before any soft-close window: none of them would have
  // moved the end, so the stored endsAt is what the price book would hold.
  const from = auction.startsAt + MINUTE;
  const until = Math.min(ctx.now.getTime(), auction.endsAt - auction.softCloseSeconds * 1000) - MINUTE;
  const anyoneElse = ctx.bidderIds.length > 1 || (ctx.bidderIds.length === 1 && ctx.bidderIds[0] !== auction.sellerId);
  if (until <= from || !anyoneElse) return [];

  const hot = random.chance(0.1);
  const wanted = hot ? random.int(15, 60) : 1 + Math.min(24, Math.floor(-Math.log(1 - random.next()) * 4));
  // Bidding picks up towards the end, as it does on real auctions.
  const times = Array.from({ length: wanted }, () => from + Math.floor((until - from) * Math.sqrt(random.next()))).sort((a, b) => a - b);

  const bids: PlannedBid[] = [];
  let price = auction.startingPrice;
  let leader: string | null = null;
  let previousTime = -Infinity;
  for (const drawn of times) {
    const amount = bids.length === 0 ? firstBid(auction.startingPrice, random) : raise(price, random);
    if (amount > MAX_MONEY) break;
    const at = Math.max(drawn, previousTime + 1);
    const bidderId = otherBidder(ctx.bidderIds, random, auction.sellerId, leader);
    bids.push({ id: ctx.newId(), bidderId, amount, placedAt: new Date(at) });
    price = amount;
    leader = bidderId;
    previousTime = at;
  }
  return bids;
}

function firstBid(startingPrice: number, random: Random): number {
  return random.chance(0.7) ? startingPrice : startingPrice + bidIncrement(startingPrice) * random.int(1, 3);
}

/** A raise over the current price: at least one increment, often more, sometimes to a round figure. */
function raise(current: number, random: Random): number {
  const steps = random.chance(0.6) ? 1 : random.chance(0.6) ? 2 : random.int(3, 8);
  const amount = current + bidIncrement(current) * steps;
  return random.chance(0.3) ? roundUpNicely(amount) : amount;
}

// A seller never bids on their own auction, and nobody outbids themself unless nobody else is there.
function otherBidder(bidderIds: readonly string[], random: Random, sellerId: string, leader: string | null): string {
  // Drawing until one fits is quick with many bidders, where filtering the list per bid is not.
  for (let attempt = 0; attempt < 16; attempt++) {
    const id = random.pick(bidderIds);
    if (id !== sellerId && id !== leader) return id;
  }
  const eligible = bidderIds.filter((id) => id !== sellerId);
  const others = eligible.filter((id) => id !== leader);
  return random.pick(others.length > 0 ? others : eligible);
}

const floorTo = (value: number, unit: number) => Math.floor(value / unit) * unit;
const ceilTo = (value: number, unit: number) => Math.ceil(value / unit) * unit;

/**
 * The log messages the price book would have produced for the auction's bids: seq and bidCount
 * count up from 1, each names the leader it displaced. The bid worker persists exactly these.
 */
export function bidMessages(auction: PlannedAuction): BidPlacedMessage[] {
  let previousLeader: BidPlacedMessage['previousLeader'] = null;
  return auction.bids.map((bid, index) => {
    const seq = index + 1;
    const placedAt = bid.placedAt.toISOString();
    const message: BidPlacedMessage = {
      v: 1,
      type: 'BidPlaced',
      id: bid.id,
      auctionId: auction.id,
      seq,
      at: placedAt,
      // The key is unique per bidder across all auctions, as a client's would be.
      bid: { id: bid.id, bidderId: bid.bidderId, amount: bid.amount, maxAmount: null, idempotencyKey: `seed-${bid.id}`, placedAt },
      currentPrice: bid.amount,
      bidCount: seq,
      minimumNextBid: minimumNextBid({ startingPrice: auction.startingPrice, currentPrice: bid.amount, bidCount: seq }),
      endsAt: auction.endsAt.toISOString(),
      previousLeader,
    };
    previousLeader = { bidId: bid.id, bidderId: bid.bidderId, amount: bid.amount };
    return message;
  });
}
