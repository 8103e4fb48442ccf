import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageSize } from '../../src/domain/cursor.js';
import { queryDepth } from '../../src/http/query-limits.js';
import { parse } from 'graphql';

/** What a call throws, for assertions on the contract code and field rather than on "it threw". */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const badUserInput = (field: string) => expect.objectContaining({ code: 'BAD_USER_INPUT', details: expect.objectContaining({ field }) });

describe('cursors', () => {
  const ID = '7b0c3e52-52f4-4a36-9d6b-0c7f4a1e2d33';
  it('round-trip the keyset values they encode', () => {
    const cursor = encodeCursor('ENDING_SOON', ['2026-11-22T12:00:00.000Z', ID]);
    expect(decodeCursor('ENDING_SOON', cursor, ['instant', 'uuid'])).toEqual([new Date('2026-11-22T12:00:00.000Z'), ID]);
  });
  it('are opaque: no raw value shows in them', () => {
    expect(encodeCursor('bids', [42])).not.toContain('42');
  });
  it('refuse a cursor of another ordering with BAD_USER_INPUT on after', () => {
    const cursor = encodeCursor('ENDING_SOON', ['2026-11-22T12:00:00.000Z', ID]);
    expect(thrownBy(() => decodeCursor('NEWLY_LISTED', cursor, ['instant', 'uuid']))).toEqual(badUserInput('after'));
  });
  it.each([
    ['not base64 JSON', 'not-a-cursor!'],
    ['JSON that is not a list', Buffer.from('{"a":1}').toString('base64url')],
    ['a list of the wrong length', encodeCursor('bids', [1, 2])],
    ['a value of the wrong type', Buffer.from(JSON.stringify(['bids', { seq: 1 }])).toString('base64url')],
    ['a number beyond a Postgres integer', encodeCursor('bids', [2 ** 31])],
    ['the empty string', ''],
  ])('refuse %s with BAD_USER_INPUT on after', (_name, cursor) => {
    expect(thrownBy(() => decodeCursor('bids', cursor, ['int']))).toEqual(badUserInput('after'));
  });
  it('page sizes run from 1 to 100; outside that, BAD_USER_INPUT on first', () => {
    expect(pageSize(null, 20)).toBe(20);
    expect(pageSize(1, 20)).toBe(1);
    expect(pageSize(100, 20)).toBe(100);
    for (const size of [101, 0, -1, 2.5]) expect(thrownBy(() => pageSize(size, 20)), `first: ${size}`).toEqual(badUserInput('first'));
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
