import { afterEach, describe, expect, it, vi } from 'vitest';
import { boundedHasher, scryptHasher, type PasswordHasher } from '../../src/services/auth/password-hasher.js';
import { AppError } from '../../src/domain/errors.js';

/** A hasher whose operations finish only when the test says so, counting how many run at once. */
function heldHasher() {
  const held: Array<() => void> = [];
  let running = 0;
  let mostAtOnce = 0;
  const hold = async <T>(value: T): Promise<T> => {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise<void>((resolve) => held.push(resolve));
    running--;
    return value;
  };
  const hasher: PasswordHasher = { hash: (password) => hold(`hashed:${password}`), verify: () => hold(true) };
  return {
    hasher,
    get running() {
      return running;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
    /** Lets the oldest held operation finish. */
    finishOne() {
      held.shift()?.();
    },
  };
}

// Lets every promise chain that can move on do so.
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

afterEach(() => {
  vi.useRealTimers();
});

describe('the bounded password hasher', () => {
  it('never runs more hashes at once than its concurrency, and finishes every one of a burst', async () => {
    const inner = heldHasher();
    const hasher = boundedHasher(inner.hasher, { concurrency: 2, maxWaiting: 100, maxWaitMs: 60_000 });
    const burst = Array.from({ length: 12 }, (_, i) => (i % 2 ? hasher.verify(`p${i}`, 'stored') : hasher.hash(`p${i}`)));
    await settle();
    expect(inner.running).toBe(2);
    for (let i = 0; i < 12; i++) {
      inner.finishOne();
      await settle();
      expect(inner.running).toBeLessThanOrEqual(2);
    }
    const results = await Promise.all(burst);
    expect(inner.mostAtOnce).toBe(2);
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 ? true : `hashed:p${i}`)));
  });

  it('refuses with RATE_LIMITED at once what would wait beyond the queue, and serves the rest', async () => {
    const inner = heldHasher();
    const hasher = boundedHasher(inner.hasher, { concurrency: 2, maxWaiting: 3, maxWaitMs: 60_000 });
    const outcomes = Array.from({ length: 8 }, (_, i) => hasher.hash(`p${i}`).then(() => 'hashed', codeOf));
    await settle();
    for (let i = 0; i < 5; i++) {
      inner.finishOne();
      await settle();
    }
    expect(await Promise.all(outcomes)).toEqual(['hashed', 'hashed', 'hashed', 'hashed', 'hashed', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(inner.mostAtOnce).toBe(2);
  });

  it('refuses with RATE_LIMITED an operation that waited too long, without losing its place to the others', async () => {
    vi.useFakeTimers();
    const inner = heldHasher();
    const hasher = boundedHasher(inner.hasher, { concurrency: 1, maxWaiting: 10, maxWaitMs: 1_000 });
    const first = hasher.hash('first');
    const waiter = hasher.hash('waiter').then(() => 'hashed', codeOf);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(await waiter).toBe('RATE_LIMITED');
    const later = hasher.hash('later');
    inner.finishOne();
    await expect(first).resolves.toBe('hashed:first');
    await vi.advanceTimersByTimeAsync(0);
    inner.finishOne();
    await expect(later).resolves.toBe('hashed:later');
  });

  it('gives the slot back when a hash fails', async () => {
    const failing: PasswordHasher = { hash: () => Promise.reject(new Error('no memory')), verify: () => Promise.resolve(true) };
    const hasher = boundedHasher(failing, { concurrency: 1, maxWaiting: 0, maxWaitMs: 1_000 });
    await expect(hasher.hash('a')).rejects.toThrow('no memory');
    await expect(hasher.verify('a', 'b')).resolves.toBe(true);
  });
});

describe('scrypt passwords', () => {
  it('verifies the password a hash was made from, and no other', async () => {
    const stored = await scryptHasher.hash('correct horse battery');
    expect(await scryptHasher.verify('correct horse battery', stored)).toBe(true);
    expect(await scryptHasher.verify('correct horse batterz', stored)).toBe(false);
  });
});
