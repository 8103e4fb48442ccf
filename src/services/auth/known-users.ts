import type { Logger } from 'pino';

/** A user a valid token names, as far as this process knows it. */
export interface KnownUser {
  /** Null when the user exists but the look-up failed: only existence was assumed. */
  displayName: string | null;
}

/** Whether the user a valid token names still exists, and their name; asked on every authenticated operation. */
export interface KnownUsers {
  exists(id: string): Promise<boolean>;
  /** The user, or null when there is none. */
  find(id: string): Promise<KnownUser | null>;
  /** Records that the user exists with this name: the caller has just read, created or renamed them. */
  remember(id: string, displayName: string): void;
}

export interface KnownUsersOptions {
  /** The authoritative answer (Postgres): the user's display name, null when there is no such user; rejects when it cannot tell. */
  lookup(id: string): Promise<string | null>;
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
 * A user deleted (or lost to a database reset) is refused at most `ttlMs` later. The name comes
 * with the same read, so a bid's bidder alias costs nothing more; a rename on another gateway
 * shows there at most `ttlMs` later.
 */
export function createKnownUsers(options: KnownUsersOptions): KnownUsers {
  const { lookup, ttlMs, missingTtlMs, maxEntries, logger } = options;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { user: KnownUser | null; until: number }>();
  // Concurrent operations of one user (a burst of bids) share one read.
  const inFlight = new Map<string, Promise<KnownUser | null>>();

  const store = (id: string, user: KnownUser | null) => {
    const ttl = user ? ttlMs : missingTtlMs;
    entries.delete(id);
    if (ttl <= 0) return;
    entries.set(id, { user, until: now() + ttl });
    // A Map iterates in insertion order, so the first key is the entry stored longest ago.
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const ask = async (id: string): Promise<KnownUser | null> => {
    try {
      const displayName = await lookup(id);
      const user = displayName === null ? null : { displayName };
      store(id, user);
      return user;
    } catch (error) {
      // The token itself is valid, and bids are decided without Postgres: an outage of the
      // database must not stop bidding. The answer is not cached, so the next operation asks again.
      logger.warn({ err: error, userId: id }, 'could not check that the signed-in user exists; letting the token through');
      return { displayName: null };
    } finally {
      inFlight.delete(id);
    }
  };

  const find = (id: string): Promise<KnownUser | null> => {
    const entry = entries.get(id);
    if (entry && entry.until > now()) return Promise.resolve(entry.user);
    let pending = inFlight.get(id);
    if (!pending) {
      pending = ask(id);
      inFlight.set(id, pending);
    }
    return pending;
  };

  return {
    find,
    async exists(id) {
      return (await find(id)) !== null;
    },
    remember(id, displayName) {
      store(id, { displayName });
    },
  };
}
