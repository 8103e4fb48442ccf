import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badInput } from '../domain/errors.js';
import { toGraphQLError } from '../http/errors.js';
import { fieldOfLiteral, shownValue } from './scalar-input.js';

// An explicit offset is required so that no instant depends on the server's time zone.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The instant a string names, or null. Each part is checked against the calendar first: `Date`
 * would roll 2027-02-29 over to March 1st and 24:00 over to the next day, a different instant
 * from the one the client wrote.
 */
export function parseInstant(text: unknown): Date | null {
  const match = typeof text === 'string' ? ISO_INSTANT.exec(text) : null;
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const fraction = match[7] ?? '';
  const [sign, offsetHours, offsetMinutes] = [match[8] === '-' ? -1 : 1, Number(match[9] ?? 0), Number(match[10] ?? 0)];
  const daysInMonth = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0 to 99 as written instead of moving them to 1900.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  return new Date(date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

function instantOrRefusal(value: unknown, field: string | null, shown = shownValue(value)): Date {
  const date = parseInstant(value);
  if (!date) {
    // A GraphQLError, or graphql-js would put words of its own in front of the message.
    throw toGraphQLError(
      badInput(field ?? '', `DateTime must be an ISO-8601 instant with an offset that exists in the calendar, e.g. "2026-11-22T10:15:30.000Z"; got ${shown}.`),
    );
  }
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in UTC, ISO-8601 with milliseconds, e.g. 2026-11-22T10:15:30.000Z.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  // A variable's own name and path are added by the input guard (http/input-guard.ts), which knows them.
  parseValue: (value) => instantOrRefusal(value, null),
  parseLiteral: (ast: ValueNode) =>
    ast.kind === Kind.STRING ? instantOrRefusal(ast.value, fieldOfLiteral(ast)) : instantOrRefusal(undefined, fieldOfLiteral(ast), 'a non-string literal'),
});
