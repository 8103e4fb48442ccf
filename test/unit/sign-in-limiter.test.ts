import { describe, expect, it } from 'vitest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AttemptLimiter } from '../../src/services/auth/attempt-limiter.js';
import { SignInLimiter } from '../../src/services/auth/sign-in-limiter.js';
import { AppError } from '../../src/domain/errors.js';

const limiter = (perEmail: number, perIp: number) =>
  new SignInLimiter(
    new AttemptLimiter(new RateLimiterMemory({ keyPrefix: 'email', points: perEmail, duration: 900 })),
    new AttemptLimiter(new RateLimiterMemory({ keyPrefix: 'ip', points: perIp, duration: 60 })),
  );

const outcome = (attempt: Promise<void>) =>
  attempt.then(
    () => 'admitted',
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  );

describe('the sign-in limiter', () => {
  it('admits exactly the budget of 40 parallel attempts on one email', async () => {
    const limits = limiter(10, 1_000);
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => outcome(limits.admit('ann@example.com', `10.0.0.${i}`))));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(30);
  });

  it('refuses the email until the window passes once its budget is spent, whatever the password', async () => {
    const limits = limiter(2, 1_000);
    await limits.admit('ann@example.com', '10.0.0.1');
    await limits.admit('ann@example.com', '10.0.0.1');
    const refused = await limits.admit('ann@example.com', '10.0.0.1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('RATE_LIMITED');
    expect((refused as AppError).details.retryAfterSeconds).toBeGreaterThan(800);
    expect(await outcome(limits.admit('bob@example.com', '10.0.0.1'))).toBe('admitted');
  });

  it('counts only failed attempts against the email: a success gives its attempt back', async () => {
    const limits = limiter(2, 1_000);
    for (let i = 0; i < 5; i++) {
      await limits.admit('ann@example.com', '10.0.0.1');
      await limits.succeeded('ann@example.com');
    }
    await limits.admit('ann@example.com', '10.0.0.1');
    await limits.admit('ann@example.com', '10.0.0.1');
    expect(await outcome(limits.admit('ann@example.com', '10.0.0.1'))).toBe('RATE_LIMITED');
  });

  it('limits every attempt from one address, across emails', async () => {
    const limits = limiter(10, 3);
    const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(limits.admit(`user${i}@example.com`, '10.0.0.1'))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'admitted', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});
