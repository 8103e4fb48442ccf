import { GraphQLScalarType, Kind } from 'graphql';
import { badInput } from '../domain/errors.js';

// An explicit offset is required so that no instant depends on the server's time zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(value: unknown): Date {
  const date = typeof value === 'string' && ISO_INSTANT.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw badInput('', `DateTime must be an ISO-8601 instant with an offset, e.g. "2026-11-22T10:15:30.000Z"; got ${JSON.stringify(value)}.`);
  }
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in UTC, ISO-8601 with milliseconds, e.g. 2026-11-22T10:15:30.000Z.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseInstant,
  parseLiteral: (ast) => parseInstant(ast.kind === Kind.STRING ? ast.value : undefined),
});
