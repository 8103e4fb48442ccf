import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/services/auth/tokens.js';
import type { KnownUsers } from '../../src/services/auth/known-users.js';
import { AppError } from '../../src/domain/errors.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const ALICE = '6f1c2a8e-4b1d-4c53-9a57-0c0f3e0e8a11';

function service(options: { existing?: string[]; at?: Date } = {}) {
  const existing = new Set(options.existing ?? [ALICE]);
  let now = options.at ?? new Date('2026-12-02T12:00:00.000Z');
  const find = async (id: string) => (existing.has(id) ? { displayName: 'Alice' } : null);
  const users: KnownUsers = { find, exists: async (id) => existing.has(id), remember: (id) => existing.add(id) };
  const tokens = new TokenService({ secret: SECRET, accessTtlSeconds: 900, refreshTtlSeconds: 3_600, clock: { now: () => now }, users });
  return { tokens, existing, travel: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const sign = (claims: { sub?: string; exp?: number; iss?: string }, secret = SECRET) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(claims.iss ?? 'auction-platform').setIssuedAt();
  if (claims.sub) jwt.setSubject(claims.sub);
  if (claims.exp) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
};

const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => 'accepted',
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  );

describe('access tokens', () => {
  it('names the user it was issued for until it expires, and no longer', async () => {
    const { tokens, travel } = service();
    const { token, expiresAt } = await tokens.issue(ALICE, 'Alice');
    expect(expiresAt.toISOString()).toBe('2026-12-02T12:15:00.000Z');
    expect(await tokens.viewerFromAuthorization(`Bearer ${token}`)).toEqual({ id: ALICE, displayName: 'Alice' });
    travel(900_000);
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token whose signature was altered, right after accepting the same token unaltered', async () => {
    const { tokens } = service();
    const { token } = await tokens.issue(ALICE, 'Alice');
    expect(await tokens.viewerFromAuthorization(`Bearer ${token}`)).toEqual({ id: ALICE, displayName: 'Alice' });
    const [header, payload, signature] = token.split('.');
    const altered = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${altered}`))).toBe('UNAUTHENTICATED');
    // The payload is signed too: another user's id in an accepted token's payload is refused.
    const forgedPayload = Buffer.from(JSON.stringify({ sub: '00000000-0000-4000-8000-000000000000', iss: 'auction-platform', exp: 4102444800 })).toString('base64url');
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${header}.${forgedPayload}.${signature}`))).toBe('UNAUTHENTICATED');
    expect(await tokens.viewerFromAuthorization(`Bearer ${token}`)).toEqual({ id: ALICE, displayName: 'Alice' });
  });

  it('refuses an accepted token from the second it expires, as often as it is sent', async () => {
    const { tokens, travel } = service();
    const { token } = await tokens.issue(ALICE, 'Alice');
    travel(899_999);
    expect(await tokens.viewerFromAuthorization(`Bearer ${token}`)).toEqual({ id: ALICE, displayName: 'Alice' });
    travel(1);
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses a correctly signed token without an expiry, and takes the same token with one', async () => {
    const { tokens } = service({ at: new Date() });
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${await sign({ sub: ALICE })}`))).toBe('UNAUTHENTICATED');
    const exp = Math.floor(Date.now() / 1000) + 3_600;
    expect(await tokens.viewerFromAuthorization(`Bearer ${await sign({ sub: ALICE, exp })}`)).toEqual({ id: ALICE, displayName: 'Alice' });
  });

  it('refuses a correctly signed token whose user does not exist', async () => {
    const { tokens, existing } = service();
    const { token } = await tokens.issue(ALICE, 'Alice');
    existing.delete(ALICE);
    expect(await refusal(tokens.viewerFromAuthorization(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another secret or naming no user', async () => {
    const { tokens } = service({ at: new Date() });
    const exp = Math.floor(Date.now() / 1000) + 3_600;
    expect(await refusal(tokens.viewerFromAuthorization(await sign({ sub: ALICE, exp }, `${SECRET}-other`)))).toBe('UNAUTHENTICATED');
    expect(await refusal(tokens.viewerFromAuthorization(await sign({ exp })))).toBe('UNAUTHENTICATED');
  });

  it('treats a missing authorization as an anonymous viewer', async () => {
    const { tokens } = service();
    expect(await tokens.viewerFromAuthorization(undefined)).toBeNull();
    expect(await tokens.viewerFromAuthorization('  ')).toBeNull();
  });
});

describe('refresh tokens', () => {
  it('are random, stored only as a hash, and expire after the refresh TTL', () => {
    const { tokens } = service();
    const first = tokens.newRefreshToken();
    const second = tokens.newRefreshToken();
    expect(first.token).not.toBe(second.token);
    expect(first.hash).toBe(tokens.hashRefreshToken(first.token));
    expect(first.hash).not.toContain(first.token);
    expect(first.expiresAt.toISOString()).toBe('2026-12-02T13:00:00.000Z');
  });
});
