import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { formatError, isUnavailable } from '../../src/http/errors.js';
import { badInput } from '../../src/domain/errors.js';

const formatted = (error: GraphQLError) => formatError(error.toJSON(), error);

describe('error formatting', () => {
  it('masks an unexpected error so nothing internal leaks', () => {
    const error = new GraphQLError('boom', { originalError: new Error('password column "x" is broken') });
    expect(formatted(error)).toMatchObject({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(formatted(error))).not.toContain('password');
  });

  it('passes an expected error through with its code and field', () => {
    const error = new GraphQLError('title must not be empty.', { path: ['createAuction'], originalError: badInput('title', 'title must not be empty.') });
    expect(formatted(error)).toMatchObject({ message: 'title must not be empty.', extensions: { code: 'BAD_USER_INPUT', field: 'title' } });
  });

  it('reports an unreachable dependency as UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isUnavailable(new Error('query failed', { cause: refused }))).toBe(true);
    expect(formatted(new GraphQLError('x', { originalError: refused })).extensions?.code).toBe('UNAVAILABLE');
  });

  it('names the field of a variable that failed coercion', () => {
    const error = new GraphQLError('Variable "$input" got invalid value "12.5" at "input.startingPrice"; Money must be …', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(formatted(error).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startingPrice' });
  });
});
