import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../domain/errors.js';

/** Limits sign-in attempts per email (failures) and per client address (all attempts). */
export class SignInLimiter {
  constructor(
    private readonly perEmail: RateLimiterAbstract,
    private readonly perIp: RateLimiterAbstract,
  ) {}

  /** Counts an attempt from `ip` and refuses it with RATE_LIMITED when either budget is spent. */
  async admit(email: string, ip: string): Promise<void> {
    const failures = await this.perEmail.get(email);
    if (failures && failures.remainingPoints <= 0) throw rateLimited(Math.ceil(failures.msBeforeNext / 1000));
    try {
      await this.perIp.consume(ip);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw rateLimited(Math.ceil(error.msBeforeNext / 1000));
      throw error;
    }
  }

  async recordFailure(email: string): Promise<void> {
    try {
      await this.perEmail.consume(email);
    } catch (error) {
      // Already over budget: the next admit() refuses; nothing more to count.
      if (!(error instanceof RateLimiterRes)) throw error;
    }
  }

  async recordSuccess(email: string): Promise<void> {
    await this.perEmail.delete(email);
  }
}
