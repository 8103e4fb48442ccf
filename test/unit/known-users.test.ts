import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createKnownUsers } from '../../src/services/auth/known-users.js';

const logger = pino({ level: 'silent' });

/** A user look-up that counts its reads, over a set of ids the test edits. */
function directory(ids: string[]) {
  const existing = new Set(ids);
  const reads: string[] = [];
  let failing = false;
  return {
    existing,
    reads,
    fail(on: boolean) {
      failing = on;
    },
    lookup: async (id: string) => {
      reads.push(id);
      if (failing) throw new Error('connection refused');
      return existing.has(id) ? `user ${id}` : null;
    },
  };
}

function cache(lookup: (id: string) => Promise<string | null>, overrides: { ttlMs?: number; missingTtlMs?: number; maxEntries?: number } = {}) {
  let now = 0;
  const users = createKnownUsers({ lookup, ttlMs: 60_000, missingTtlMs: 5_000, maxEntries: 1_000, logger, now: () => now, ...overrides });
  return { users, advance: (ms: number) => (now += ms) };
}

describe('known users', () => {
  it('asks the database once per user within the TTL, and again after it', async () => {
    const db = directory(['alice']);
    const { users, advance } = cache(db.lookup);
    expect(await users.exists('alice')).toBe(true);
    advance(59_999);
    expect(await users.exists('alice')).toBe(true);
    expect(db.reads).toEqual(['alice']);
    db.existing.delete('alice');
    advance(1);
    expect(await users.exists('alice')).toBe(false);
    expect(db.reads).toEqual(['alice', 'alice']);
  });

  it('shares one read among concurrent checks of the same user', async () => {
    const db = directory(['alice']);
    const { users } = cache(db.lookup);
    expect(await Promise.all(Array.from({ length: 20 }, () => users.exists('alice')))).toEqual(Array(20).fill(true));
    expect(db.reads).toEqual(['alice']);
  });

  it('remembers a missing user only briefly, so a restored one is let back in soon', async () => {
    const db = directory([]);
    const { users, advance } = cache(db.lookup);
    expect(await users.exists('bob')).toBe(false);
    db.existing.add('bob');
    advance(4_999);
    expect(await users.exists('bob')).toBe(false);
    advance(1);
    expect(await users.exists('bob')).toBe(true);
  });

  it('asks every time with a TTL of 0', async () => {
    const db = directory(['alice']);
    const { users } = cache(db.lookup, { ttlMs: 0, missingTtlMs: 0 });
    await users.exists('alice');
    await users.exists('alice');
    expect(db.reads).toEqual(['alice', 'alice']);
  });

  it('trusts a user it was told exists without asking', async () => {
    const db = directory([]);
    const { users } = cache(db.lookup);
    users.remember('carol', 'Carol');
    expect(await users.exists('carol')).toBe(true);
    expect(db.reads).toEqual([]);
  });

  it('knows the name with the same read, and a rename it was told of without asking', async () => {
    const db = directory(['erin']);
    const { users } = cache(db.lookup);
    expect(await users.find('erin')).toEqual({ displayName: 'user erin' });
    users.remember('erin', 'Erin Renamed');
    expect(await users.find('erin')).toEqual({ displayName: 'Erin Renamed' });
    expect(await users.find('nobody')).toBeNull();
    expect(db.reads).toEqual(['erin', 'nobody']);
  });

  it('lets a valid token through while the database cannot answer, and asks again next time', async () => {
    const db = directory([]);
    const { users } = cache(db.lookup);
    db.fail(true);
    expect(await users.exists('dave')).toBe(true);
    expect(await users.find('dave')).toEqual({ displayName: null });
    db.fail(false);
    expect(await users.exists('dave')).toBe(false);
    expect(db.reads).toEqual(['dave', 'dave', 'dave']);
  });

  it('keeps at most maxEntries users, dropping the oldest', async () => {
    const db = directory(['a', 'b', 'c']);
    const { users } = cache(db.lookup, { maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) await users.exists(id);
    await users.exists('c');
    await users.exists('b');
    expect(db.reads).toEqual(['a', 'b', 'c']);
    await users.exists('a');
    expect(db.reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
