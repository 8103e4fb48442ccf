import { rateLimited } from '../../domain/errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Hashes and checks passwords; the costly part of signing up and signing in. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
}

export const scryptHasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword };

export interface HashingBounds {
  /** Hashes running at once. */
  concurrency: number;
  /** Operations waiting for a slot; the next is refused at once. */
  maxWaiting: number;
  /** How long an operation waits for a slot before it is refused. */
  maxWaitMs: number;
}

/**
 * Runs at most `concurrency` hashes of `inner` at once. Each scrypt hash holds 32 MiB and a libuv
 * thread, so an unbounded burst of sign-ups would exhaust memory and starve the other users of the
 * thread pool (file system, DNS, PGlite). Excess operations wait in order; past `maxWaiting`
 * waiting, or after `maxWaitMs`, they answer RATE_LIMITED instead.
 */
export function boundedHasher(inner: PasswordHasher, bounds: HashingBounds): PasswordHasher {
  let running = 0;
  const waiting: Array<{ admit(): void; timer: NodeJS.Timeout }> = [];

  const acquire = (): Promise<void> => {
    if (running < bounds.concurrency) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length >= bounds.maxWaiting) return Promise.reject(rateLimited(1));
    return new Promise<void>((resolve, reject) => {
      const entry = {
        admit: resolve,
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1);
          reject(rateLimited(1));
        }, bounds.maxWaitMs),
      };
      waiting.push(entry);
    });
  };

  const release = () => {
    const next = waiting.shift();
    if (!next) {
      running--;
      return;
    }
    // The slot passes straight to the next waiter: `running` stays the same.
    clearTimeout(next.timer);
    next.admit();
  };

  const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
    await acquire();
    try {
      return await work();
    } finally {
      release();
    }
  };

  return {
    hash: (password) => bounded(() => inner.hash(password)),
    verify: (password, stored) => bounded(() => inner.verify(password, stored)),
  };
}
