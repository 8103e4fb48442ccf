import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { checkQueryLimits } from '../../src/http/query-limits.js';

const schema = buildSchema('type Query { serverTime: String }');
const limits = { maxDepth: 10, maxComplexity: 100 };

function errorOf(query: string, operationName?: string): unknown {
  try {
    checkQueryLimits(schema, parse(query), {}, operationName, limits);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the query limits and the operation to run', () => {
  it('passes a document whose operation is found by name or as the only one', () => {
    expect(errorOf('{ serverTime }')).toBeUndefined();
    expect(errorOf('query A { serverTime } query B { serverTime }', 'B')).toBeUndefined();
  });

  it('refuses an operation name that matches none as the client\'s mistake, not a crash', () => {
    for (const name of ['EndingSoon', '']) {
      const error = errorOf('{ serverTime }', name);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('BAD_USER_INPUT');
      expect((error as AppError).message).toBe(`The document has no operation named "${name}".`);
    }
  });

  it('refuses a document with several operations and no name to choose one', () => {
    const error = errorOf('query A { serverTime } query B { serverTime }');
    expect((error as AppError).code).toBe('BAD_USER_INPUT');
    expect((error as AppError).message).toMatch(/several operations/);
  });
});
