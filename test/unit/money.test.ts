import { describe, expect, it } from 'vitest';
import { GraphQLError, Kind } from 'graphql';
import { formatMoney, parseMoney } from '../../src/domain/money.js';
import { MoneyScalar } from '../../src/schema/money.scalar.js';

describe('Money', () => {
  it('parses a decimal string with two fraction digits into minor units', () => {
    expect(parseMoney('125.50')).toBe(12550);
    expect(parseMoney('0.05')).toBe(5);
    expect(parseMoney('10000000.00')).toBe(1_000_000_000);
  });

  it.each(['1e3', '12.5', '-1.00', '12.505', '01.00', '1,000.00', ' 1.00', '', '.50', '1.'])('rejects %j', (text) => {
    expect(parseMoney(text)).toBeNull();
  });

  it('rejects numbers, which could carry float errors', () => {
    expect(parseMoney(12.5)).toBeNull();
    expect(() => MoneyScalar.parseValue(12.5)).toThrow(GraphQLError);
  });

  it('formats minor units with exactly two fraction digits', () => {
    expect(formatMoney(5)).toBe('0.05');
    expect(formatMoney(12550)).toBe('125.50');
    expect(formatMoney(0)).toBe('0.00');
  });

  it('round-trips every amount through format and parse', () => {
    for (const minor of [1, 99, 100, 101, 123_456_789, 1_000_000_000]) expect(parseMoney(formatMoney(minor))).toBe(minor);
  });

  it('reports a malformed literal as BAD_USER_INPUT', () => {
    const error = (() => {
      try {
        MoneyScalar.parseLiteral({ kind: Kind.FLOAT, value: '12.5' });
      } catch (e) {
        return e as GraphQLError;
      }
    })();
    expect(error?.extensions.code).toBe('BAD_USER_INPUT');
  });
});
