import { badInput } from './errors.js';
import { assertPositiveMoney, formatMoney } from './money.js';

export const MAX_DURATION_MS = 30 * 24 * 3600 * 1000;
export const MAX_SOFT_CLOSE_SECONDS = 3600;
/** Soft-close extensions stop this long after the end the seller set. */
export const EXTENSION_CAP_MS = 24 * 3600 * 1000;
/** With bids, a running auction may be withdrawn only while more than this remains (eBay's rule). */
export const CANCEL_WITH_BIDS_MIN_REMAINING_MS = 12 * 3600 * 1000;
/** How long after its end a sold auction's sale may still be cancelled (and a payment refunded). */
export const SALE_CANCEL_WINDOW_MS = 30 * 24 * 3600 * 1000;
// A start a little in the past is allowed: the client's clock and the request take time.
export const START_GRACE_MS = 60_000;

/** Checks when an auction runs: it starts no earlier than now, ends after it starts and in the future, within 30 days. */
export function checkSchedule(startsAt: Date, endsAt: Date, now: Date, { isNew }: { isNew: boolean }): void {
  if (isNew && startsAt.getTime() < now.getTime() - START_GRACE_MS) throw badInput('startsAt', 'startsAt must not be in the past.');
  if (endsAt <= startsAt) throw badInput('endsAt', 'endsAt must be after startsAt.');
  if (endsAt <= now) throw badInput('endsAt', 'endsAt must be in the future.');
  if (endsAt.getTime() - startsAt.getTime() > MAX_DURATION_MS) throw badInput('endsAt', 'endsAt must be within 30 days of startsAt.');
}

/** Checks the prices: each above zero and capped; the reserve at least the start; Buy It Now above both. */
export function checkPrices(prices: { startingPrice: number; reservePrice: number | null; buyNowPrice: number | null }): void {
  assertPositiveMoney('startingPrice', prices.startingPrice);
  if (prices.reservePrice !== null) {
    assertPositiveMoney('reservePrice', prices.reservePrice);
    if (prices.reservePrice < prices.startingPrice) throw badInput('reservePrice', 'reservePrice must not be below startingPrice.');
  }
  if (prices.buyNowPrice !== null) {
    assertPositiveMoney('buyNowPrice', prices.buyNowPrice);
    if (prices.buyNowPrice <= prices.startingPrice) throw badInput('buyNowPrice', 'buyNowPrice must be above startingPrice.');
    if (prices.reservePrice !== null && prices.buyNowPrice < prices.reservePrice) {
      throw badInput('buyNowPrice', `buyNowPrice must not be below the reserve price (${formatMoney(prices.reservePrice)}).`);
    }
  }
}

export function checkSoftClose(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_SOFT_CLOSE_SECONDS) {
    throw badInput('softCloseSeconds', `softCloseSeconds must be between 0 and ${MAX_SOFT_CLOSE_SECONDS}.`);
  }
}
