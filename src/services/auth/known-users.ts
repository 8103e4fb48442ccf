import type { Logger } from 'pino';

/** Whether the user a valid token names still exists; asked on every authenticated operation. */
export interface KnownUsers {
  exists(id: string): Promise<boolean>;
  /** Records that the user exists: the caller has just read or created them. */
  remember(id: string): void;
}

export interface KnownUsersOptions {
  /** The authoritative answer (Postgres); rejects when it cannot tell. */
  lookup(id: string): Promise<boolean>;
  /** How long a user found to exist is trusted without asking again; 0 asks every time. */
  ttlMs: number;
  /** How long a missing user stays missing; short, so a restored user is let back in soon. */
  missingTtlMs: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries: number;
  logger: Logger;
  /** A monotonic clock in milliseconds. */
  now?: () => number;
}

/**
 * An in-process cache in front of the user look-up, so the hot paths (placeBid, every subscribe)
 * cost Postgres at most one read per user and TTL on each gateway instead of one per operation.
 * A user deleted (or lost to a database reset) is refused at most `ttlMs` later.
 */
export function createKnownUsers(options: KnownUsersOptions): KnownUsers {
  const { lookup, ttlMs, missingTtlMs, maxEntries, logger } = options;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { exists: boolean; until: number }>();
  // Concurrent operations of one user (a burst of bids) share one read.
  const inFlight = new Map<string, Promise<boolean>>();

  const store = (id: string, exists: boolean) => {
    const ttl = exists ? ttlMs : missingTtlMs;
    entries.delete(id);
    if (ttl <= 0) return;
    entries.set(id, { exists, until: now() + ttl });
    // A Map iterates in insertion order, so the first key is the entry stored longest ago.
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const ask = async (id: string): Promise<boolean> => {
    try {
      const exists = await lookup(id);
      store(id, exists);
      return exists;
    } catch (error) {
      // The token itself is valid, and bids are decided without Postgres: an outage of the
      // database must not stop bidding. The answer is not cached, so the next operation asks again.
      logger.warn({ err: error, userId: id }, 'could not check that the signed-in user exists; letting the token through');
      return true;
    } finally {
      inFlight.delete(id);
    }
  };

  return {
    async exists(id) {
      const entry = entries.get(id);
      if (entry && entry.until > now()) return entry.exists;
      let pending = inFlight.get(id);
      if (!pending) {
        pending = ask(id);
        inFlight.set(id, pending);
      }
      return pending;
    },
    remember(id) {
      store(id, true);
    },
  };
}
