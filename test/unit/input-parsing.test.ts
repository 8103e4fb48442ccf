import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kind, parse, visit, type ASTNode, type DocumentNode } from 'graphql';
import { parseInstant } from '../../src/schema/date-time.scalar.js';
import { fieldOfLiteral } from '../../src/schema/scalar-input.js';

// Fixed seeds: a failure is reproduced by running the file again, not by luck.
const SEED = 20261122;

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * Whether the parts name a real UTC time, told by Date's own rollover: set the parts and see whether
 * any moved (February 30th becomes March 2nd, 24:00 the next day). Independent of the scalar's table.
 */
function existsInCalendar(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

describe('the DateTime scalar', () => {
  it('reads back every instant it prints, to the millisecond', () => {
    // Four-digit years, the range the scalar accepts.
    const instants = fc.integer({ min: Date.parse('0000-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') });
    fc.assert(
      fc.property(instants, (ms) => {
        expect(parseInstant(new Date(ms).toISOString())?.getTime()).toBe(ms);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('accepts a date and time exactly when it exists in the calendar, instead of rolling it over', () => {
    const parts = fc.tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 33 }),
      fc.integer({ min: 0, max: 26 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
    );
    fc.assert(
      fc.property(parts, ([year, month, day, hour, minute, second]) => {
        const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}Z`;
        const parsed = parseInstant(text);
        if (existsInCalendar(year, month, day, hour, minute, second)) {
          expect(parsed?.toISOString(), text).toBe(`${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.000Z`);
        } else {
          expect(parsed, text).toBeNull();
        }
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it.each([
    ['February 29th of a common year', '2027-02-29T00:00:00Z'],
    ['February 29th of a century that is not a leap year', '2100-02-29T12:00:00Z'],
    ['a thirteenth month', '2026-13-01T00:00:00Z'],
    ['month zero', '2026-00-10T00:00:00Z'],
    ['April 31st', '2026-04-31T00:00:00Z'],
    ['24:00', '2026-06-01T24:00:00Z'],
    ['minute 60', '2026-06-01T10:60:00Z'],
    ['a leap second', '2026-06-30T23:59:60Z'],
    ['an offset of 24 hours', '2026-06-01T10:00:00+24:00'],
    ['an offset with minute 60', '2026-06-01T10:00:00+01:60'],
    ['no offset', '2026-06-01T10:00:00'],
    ['a date without a time', '2026-06-01'],
  ])('refuses %s', (_name, text) => {
    expect(parseInstant(text)).toBeNull();
  });

  it.each([
    ['February 29th of a leap year', '2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['February 29th of a leap century', '2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['an instant with an offset, moved to UTC', '2026-01-01T01:15:30+02:30', '2025-12-31T22:45:30.000Z'],
    ['an instant without seconds', '2026-01-01T10:15Z', '2026-01-01T10:15:00.000Z'],
    ['nine fraction digits, kept to the millisecond', '2026-01-01T10:15:30.123456789Z', '2026-01-01T10:15:30.123Z'],
    ['a year below 100, kept as written', '0050-03-01T00:00:00Z', '0050-03-01T00:00:00.000Z'],
  ])('accepts %s', (_name, text, iso) => {
    expect(parseInstant(text)?.toISOString()).toBe(iso);
  });
});

/** The first node of a kind whose printed position matches, so a case can point at one value. */
function valueAt(document: DocumentNode, predicate: (node: ASTNode) => boolean): ASTNode {
  let found: ASTNode | undefined;
  visit(document, {
    enter(node) {
      if (!found && predicate(node)) found = node;
    },
  });
  if (!found) throw new Error('no such node in the document');
  return found;
}

const stringValue = (value: string) => (node: ASTNode) => node.kind === Kind.STRING && node.value === value;

describe('naming the field of a literal', () => {
  it.each([
    ['an argument', '{ auction(id: "bad") { id } }', 'id'],
    ['a field of an input object', 'mutation { placeBid(input: { auctionId: "a", amount: "bad", idempotencyKey: "k" }) { bid { id } } }', 'amount'],
    ['a field after a nested object', '{ auctions(filter: { status: ACTIVE, query: "bad" }) { edges { cursor } } }', 'query'],
    ['an item of a list, past a nested object', '{ f(tags: [{ a: "x" }, "y", "bad"]) }', 'tags'],
    ['a value behind a comment', '{ auction(id: # the id\n "bad") { id } }', 'id'],
    ['a directive argument', '{ serverTime @include(if: "bad") }', 'if'],
    ['the default value of a variable', 'query ($limit: Money = "bad") { serverTime }', 'limit'],
  ])('names %s', (_name, source, field) => {
    expect(fieldOfLiteral(valueAt(parse(source), stringValue('bad')))).toBe(field);
  });

  it('names the argument or input field node itself', () => {
    const document = parse('{ auctions(filter: { nope: 1 }) { edges { cursor } } }');
    expect(fieldOfLiteral(valueAt(document, (node) => node.kind === Kind.OBJECT_FIELD))).toBe('nope');
    expect(fieldOfLiteral(valueAt(document, (node) => node.kind === Kind.ARGUMENT))).toBe('filter');
  });

  it('names nothing for a node that is not a value, or a document kept without locations', () => {
    expect(fieldOfLiteral(valueAt(parse('{ a(x: 1) b }'), (node) => node.kind === Kind.FIELD && node.name.value === 'b'))).toBeNull();
    expect(fieldOfLiteral(valueAt(parse('{ auction(id: "bad") { id } }', { noLocation: true }), stringValue('bad')))).toBeNull();
  });
});
