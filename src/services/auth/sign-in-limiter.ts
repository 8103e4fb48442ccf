import { createHash } from 'node:crypto';
import type { AttemptLimiter } from './attempt-limiter.js';

// The limiter's store (Redis, possibly shared) sees a digest rather than the address itself.
const emailKey = (email: string) => createHash('sha256').update(email).digest('base64url');

/** Limits sign-in attempts per email (failed ones) and per client address (all of them). */
export class SignInLimiter {
  constructor(
    private readonly perEmail: AttemptLimiter,
    private readonly perIp: AttemptLimiter,
  ) {}

  /**
   * Spends an attempt of the address and of the email before the password is checked, so that
   * once a budget is spent even the right password is refused until its window passes.
   */
  async admit(email: string, ip: string): Promise<void> {
    await this.perIp.spend(ip);
    await this.perEmail.spend(emailKey(email));
  }

  /** A right password gives its attempt back: only failures count against the email. */
  async succeeded(email: string): Promise<void> {
    await this.perEmail.refund(emailKey(email));
  }
}
