import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../domain/errors.js';

/**
 * A budget of attempts per key (an email, a client address) per window. Spending is one atomic
 * step of the store (a Lua script on Redis, a synchronous update in memory), so parallel attempts
 * can never all pass a check made before any of them was counted.
 */
export class AttemptLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  /** Spends one attempt; RATE_LIMITED, with the seconds until the window ends, when none is left. */
  async spend(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw rateLimited(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      throw error;
    }
  }

  /** Gives one attempt back. */
  async refund(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }
}
