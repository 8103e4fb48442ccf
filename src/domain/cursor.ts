import { badInput } from './errors.js';

/** An opaque cursor: the keyset values of the last row, base64url-encoded JSON. */
export function encodeCursor(kind: string, values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor for the same `kind`; BAD_USER_INPUT (field `after`) otherwise. */
export function decodeCursor(kind: string, cursor: string, arity: number): Array<string | number> {
  const invalid = () => badInput('after', 'after is not a cursor of this list.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== arity + 1 || parsed[0] !== kind) throw invalid();
  const values = parsed.slice(1);
  if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) throw invalid();
  return values as Array<string | number>;
}

/** Checks a page size: 1 to 100. */
export function pageSize(first: number | null | undefined, fallback: number, max = 100): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput('first', `first must be between 1 and ${max}.`);
  return size;
}
