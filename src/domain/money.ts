import { badInput } from './errors.js';

/** The largest amount the platform accepts: 10,000,000.00 in minor units. */
export const MAX_MONEY = 1_000_000_000;

const MONEY_PATTERN = /^(0|[1-9]\d{0,9})\.\d{2}$/;

/** Parses a strict "123.45" string into integer minor units, or returns null when malformed. */
export function parseMoney(text: unknown): number | null {
  if (typeof text !== 'string' || !MONEY_PATTERN.test(text)) return null;
  const [whole, fraction] = text.split('.') as [string, string];
  const minor = Number(whole) * 100 + Number(fraction);
  return Number.isSafeInteger(minor) ? minor : null;
}

/** Formats integer minor units as "123.45". */
export function formatMoney(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`not a money amount: ${minor}`);
  const whole = Math.floor(minor / 100);
  const fraction = minor % 100;
  return `${whole}.${fraction.toString().padStart(2, '0')}`;
}

/** Rejects an amount that is not above zero or above the platform maximum. */
export function assertPositiveMoney(field: string, minor: number): void {
  if (minor <= 0) throw badInput(field, `${field} must be above zero.`);
  if (minor > MAX_MONEY) throw badInput(field, `${field} must be at most ${formatMoney(MAX_MONEY)}.`);
}
