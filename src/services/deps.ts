import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Clock } from '../ports/clock.js';
import type { TokenService } from './auth/tokens.js';
import type { KnownUsers } from './auth/known-users.js';
import type { SignInLimiter } from './auth/sign-in-limiter.js';
import type { AttemptLimiter } from './auth/attempt-limiter.js';
import type { PasswordHasher } from './auth/password-hasher.js';
import type { BidLog } from '../ports/bid-log.js';
import type { LiveEvents } from '../ports/live-events.js';
import type { PriceBook } from '../ports/price-book.js';
import type { UseCaseMetrics } from '../ports/metrics.js';
import type { BidFinisher } from './bids/bid-finisher.js';

/** What the use cases need from the outside world; built once in the composition root. */
export interface ServiceDeps {
  db: PrismaClient;
  clock: Clock;
  logger: Logger;
  tokens: TokenService;
  /** Who the signed-in users are, cached per process (see known-users.ts). */
  users: KnownUsers;
  signInLimiter: SignInLimiter;
  /** Sign-ups per client address. */
  signUpLimiter: AttemptLimiter;
  /** Bounded: at most a few hashes at once, whoever asks. */
  passwords: PasswordHasher;
  priceBook: PriceBook;
  bidLog: BidLog;
  /** Publishes accepted bids to bidLog until it holds them; owned by the composition root. */
  bidFinisher: BidFinisher;
  live: LiveEvents;
  metrics: UseCaseMetrics;
  /** Which engine placeBid runs (BID_ENGINE): the price book, or the row-lock baseline of the benchmark. */
  bidEngine: 'price-book' | 'row-lock';
}
