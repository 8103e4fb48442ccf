import { badInput } from './errors.js';

/** What one keyset value of a cursor may be; each is checked so that a forged cursor can only fail as the client's mistake. */
export type CursorPart = 'int' | 'instant' | 'uuid';
type PartValue<P extends CursorPart> = P extends 'instant' ? Date : P extends 'int' ? number : string;

// Cursors this server makes are under 100 characters; anything much longer is not one of them.
export const MAX_CURSOR_LENGTH = 200;
// Keyset columns are Postgres `integer`: a larger number would fail the query instead of matching nothing.
const MAX_INT = 2_147_483_647;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A four-digit year keeps the instant inside what Postgres `timestamptz` can hold.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An opaque cursor: the keyset values of the last row, base64url-encoded JSON. */
export function encodeCursor(kind: string, values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');
}

function partOf(part: CursorPart, value: unknown): number | string | Date | undefined {
  switch (part) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_INT ? value : undefined;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? value : undefined;
    case 'instant': {
      if (typeof value !== 'string' || !ISO_INSTANT.test(value)) return undefined;
      // Only an instant that prints back as written is one encodeCursor made: `Date` rolls 02-30 over.
      const date = new Date(value);
      return !Number.isNaN(date.getTime()) && date.toISOString() === value ? date : undefined;
    }
  }
}

/**
 * Decodes a cursor made by encodeCursor for the same `kind` and the keyset `parts` it holds;
 * BAD_USER_INPUT (field `after`) for anything else: junk, another list's cursor, or values of the wrong type.
 */
export function decodeCursor<const P extends readonly CursorPart[]>(
  kind: string,
  cursor: string,
  parts: P,
): { [K in keyof P]: PartValue<P[K]> } {
  const invalid = () => badInput('after', 'after is not a cursor of this list.');
  // Node's base64 decoder skips characters outside the alphabet, so junk would decode to something.
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== parts.length + 1 || parsed[0] !== kind) throw invalid();
  const values = parts.map((part, i) => partOf(part, parsed[i + 1]));
  if (values.some((value) => value === undefined)) throw invalid();
  return values as { [K in keyof P]: PartValue<P[K]> };
}

/** Checks a page size: 1 to 100. */
export function pageSize(first: number | null | undefined, fallback: number, max = 100): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput('first', `first must be between 1 and ${max}.`);
  return size;
}
