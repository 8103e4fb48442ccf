import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageSize } from '../../src/domain/cursor.js';
import { queryDepth } from '../../src/http/query-limits.js';
import { parse } from 'graphql';

describe('cursors', () => {
  it('round-trip the keyset values they encode', () => {
    const cursor = encodeCursor('ENDING_SOON', ['2026-11-22T12:00:00.000Z', 'abc']);
    expect(decodeCursor('ENDING_SOON', cursor, 2)).toEqual(['2026-11-22T12:00:00.000Z', 'abc']);
  });
  it('are opaque: no raw value shows in them', () => {
    expect(encodeCursor('bids', [42])).not.toContain('42');
  });
  it('refuse a cursor of another ordering with BAD_USER_INPUT on after', () => {
    const cursor = encodeCursor('ENDING_SOON', ['x', 'y']);
    expect(() => decodeCursor('NEWLY_LISTED', cursor, 2)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ field: 'after' }) }));
  });
  it('refuse garbage', () => {
    expect(() => decodeCursor('bids', 'not-a-cursor', 1)).toThrow();
    expect(() => decodeCursor('bids', Buffer.from('{"a":1}').toString('base64url'), 1)).toThrow();
  });
  it('page sizes run from 1 to 100', () => {
    expect(pageSize(null, 20)).toBe(20);
    expect(pageSize(100, 20)).toBe(100);
    expect(() => pageSize(101, 20)).toThrow();
    expect(() => pageSize(0, 20)).toThrow();
  });
});

describe('query depth', () => {
  it('counts nesting through fragments', () => {
    const document = parse('query { a { b { ...F } } } fragment F on T { c { d } }');
    expect(queryDepth(document)).toBe(4);
  });
  it('survives fragment cycles', () => {
    const document = parse('query { a { ...F } } fragment F on T { b { ...F } }');
    expect(queryDepth(document)).toBe(2);
  });
});
