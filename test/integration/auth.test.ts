import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, testTarget, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { createAuction, signUpUser, type TestUser } from '../support/factories.js';
import { closeCodeOf, connect, subscribe } from '../support/ws-client.js';
import {
  CreateAuctionDocument,
  MeDocument,
  OutbidDocument,
  PlaceBidDocument,
  RefreshTokenDocument,
  SignInDocument,
  SignOutDocument,
  SignUpDocument,
} from '../generated/graphql.js';

/** A token signed with the server's own secret, with whatever claims the test needs. */
async function signedToken(app: TestApp, claims: { sub: string; exp?: number }): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub).setIssuer('auction-platform').setIssuedAt();
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(app.env.JWT_SECRET));
}

const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

const codeOf = (result: { errors?: Array<{ extensions?: { code?: string } }> }) => result.errors?.[0]?.extensions?.code;

/** Expects `token` to be refused with UNAUTHENTICATED (401) on a query and two mutations, and on the WebSocket (4403). */
async function expectRefusedEverywhere(app: TestApp, token: string, auctionId: string): Promise<void> {
  const me = await request(app.url, MeDocument, {}, token);
  expect([me.status, codeOf(me)]).toEqual([401, 'UNAUTHENTICATED']);
  const create = await request(
    app.url,
    CreateAuctionDocument,
    { input: { title: 'Lamp', description: 'Brass', startingPrice: '10.00', endsAt: new Date(Date.now() + 3_600_000).toISOString() } },
    token,
  );
  expect([create.status, codeOf(create)]).toEqual([401, 'UNAUTHENTICATED']);
  const bid = await request(app.url, PlaceBidDocument, { input: { auctionId, amount: '10.00', idempotencyKey: randomUUID() } }, token);
  expect([bid.status, codeOf(bid)]).toEqual([401, 'UNAUTHENTICATED']);
  expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${token}` })).toBe(4403);
}

describeApp('access tokens', () => {
  let app: TestApp;
  let seller: TestUser;
  let auctionId: string;
  beforeAll(async () => {
    // Asking Postgres on every operation shows a deletion at once; the cache itself has unit tests.
    app = await startTestApp({ env: { AUTH_USER_CACHE_SECONDS: '0', REFRESH_TOKEN_TTL_SECONDS: '3600' } });
    seller = await signUpUser(app.url, { displayName: 'Seller' });
    auctionId = (await createAuction(app.url, seller)).id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('takes a token the server issued, on HTTP and on the WebSocket', async () => {
    const token = await signedToken(app, { sub: seller.id, exp: inSeconds(600) });
    expect((await ok(app.url, MeDocument, {}, token)).me?.id).toBe(seller.id);
    expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${token}` })).toBe(0);
  });

  it('refuses a correctly signed token for a user that never existed, everywhere', async () => {
    await expectRefusedEverywhere(app, await signedToken(app, { sub: randomUUID(), exp: inSeconds(600) }), auctionId);
  });

  it('refuses a correctly signed token whose subject is not a user id at all', async () => {
    const me = await request(app.url, MeDocument, {}, await signedToken(app, { sub: 'admin', exp: inSeconds(600) }));
    expect([me.status, codeOf(me)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses the token of a user who was deleted, everywhere', async () => {
    const gone = await signUpUser(app.url, { displayName: 'Gone' });
    expect((await ok(app.url, MeDocument, {}, gone.token)).me?.id).toBe(gone.id);
    await app.deps.db.user.delete({ where: { id: gone.id } });
    await expectRefusedEverywhere(app, gone.token, auctionId);
  });

  it('refuses new subscribes on an open WebSocket once its user is gone', async () => {
    const gone = await signUpUser(app.url, { displayName: 'Gone' });
    const client = await connect(app.wsUrl, gone.token);
    try {
      await app.deps.db.user.delete({ where: { id: gone.id } });
      const outbid = subscribe(client, OutbidDocument);
      await outbid.ended();
      expect(outbid.errors.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    } finally {
      await client.dispose();
    }
  });

  it('refuses an expired token, everywhere', async () => {
    await expectRefusedEverywhere(app, await signedToken(app, { sub: seller.id, exp: inSeconds(-1) }), auctionId);
  });

  it('refuses a correctly signed token without an expiry, everywhere', async () => {
    await expectRefusedEverywhere(app, await signedToken(app, { sub: seller.id }), auctionId);
  });

  it('issues tokens that expire after JWT_TTL_SECONDS, with a refresh token that lasts longer', async () => {
    const before = Date.now();
    const { signUp } = await ok(app.url, SignUpDocument, { input: { email: `ttl-${randomUUID()}@example.com`, password: 'correct horse battery', displayName: 'Tess' } });
    const after = Date.now();
    const expiresAt = Date.parse(signUp.tokenExpiresAt);
    // The token's exp has whole seconds, so it may be up to a second before issue time + TTL.
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000 - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 900_000);
    const payload = JSON.parse(Buffer.from(signUp.token.split('.')[1]!, 'base64url').toString()) as { exp?: number };
    expect(payload.exp! * 1000).toBe(expiresAt);
    expect(Date.parse(signUp.refreshTokenExpiresAt)).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(signUp.refreshToken).not.toBe(signUp.token);
  });
});

describeApp('refresh tokens', () => {
  let app: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIGN_IN_ATTEMPTS_PER_IP: '1000' } });
    user = await signUpUser(app.url, { displayName: 'Riley' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const signIn = async () => (await ok(app.url, SignInDocument, { email: user.email, password: user.password })).signIn;
  const refresh = (token: string) => request(app.url, RefreshTokenDocument, { token });

  it('trades a refresh token for a new token and refresh token that work', async () => {
    const session = await signIn();
    const { refreshToken: renewed } = await ok(app.url, RefreshTokenDocument, { token: session.refreshToken });
    expect(renewed.user.id).toBe(user.id);
    expect(renewed.refreshToken).not.toBe(session.refreshToken);
    expect((await ok(app.url, MeDocument, {}, renewed.token)).me?.id).toBe(user.id);
    const again = await ok(app.url, RefreshTokenDocument, { token: renewed.refreshToken });
    expect(again.refreshToken.user.id).toBe(user.id);
  });

  it('refuses a refresh token once it has been used', async () => {
    const session = await signIn();
    await ok(app.url, RefreshTokenDocument, { token: session.refreshToken });
    const reused = await refresh(session.refreshToken);
    expect(codeOf(reused)).toBe('UNAUTHENTICATED');
  });

  it('takes a reused refresh token as stolen: the tokens rotated from it stop working, other sessions do not', async () => {
    const stolen = await signIn();
    const other = await signIn();
    const { refreshToken: thief } = await ok(app.url, RefreshTokenDocument, { token: stolen.refreshToken });
    expect(codeOf(await refresh(stolen.refreshToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(thief.refreshToken))).toBe('UNAUTHENTICATED');
    expect((await ok(app.url, RefreshTokenDocument, { token: other.refreshToken })).refreshToken.user.id).toBe(user.id);
  });

  it('lets one of two concurrent uses of a refresh token through, and then revokes what it was rotated into', async () => {
    const session = await signIn();
    const [first, second] = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    const winners = [first!, second!].filter((result) => result.data?.refreshToken);
    expect(winners).toHaveLength(1);
    expect([first!, second!].map(codeOf).filter(Boolean)).toEqual(['UNAUTHENTICATED']);
    expect(codeOf(await refresh(winners[0]!.data!.refreshToken.refreshToken))).toBe('UNAUTHENTICATED');
  });

  it('refuses a refresh token after signOut, while the token already issued works until it expires', async () => {
    const session = await signIn();
    expect((await ok(app.url, SignOutDocument, { refreshToken: session.refreshToken })).signOut).toBe(true);
    expect(codeOf(await refresh(session.refreshToken))).toBe('UNAUTHENTICATED');
    expect((await ok(app.url, MeDocument, {}, session.token)).me?.id).toBe(user.id);
  });

  it('refuses an expired refresh token', async () => {
    const session = await signIn();
    // Ages the stored token rather than the clock: the lifetime itself is what the token service issues.
    await app.deps.db.refreshToken.update({
      where: { tokenHash: app.deps.tokens.hashRefreshToken(session.refreshToken) },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    expect(codeOf(await refresh(session.refreshToken))).toBe('UNAUTHENTICATED');
  });

  it('refuses an unknown refresh token', async () => {
    expect(codeOf(await refresh('not-a-refresh-token'))).toBe('UNAUTHENTICATED');
  });

  it('refuses the refresh token of a user who was deleted', async () => {
    const gone = await signUpUser(app.url, { displayName: 'Gone' });
    const { signIn: session } = await ok(app.url, SignInDocument, { email: gone.email, password: gone.password });
    await app.deps.db.user.delete({ where: { id: gone.id } });
    expect(codeOf(await refresh(session.refreshToken))).toBe('UNAUTHENTICATED');
  });
});

describeApp('sign-in limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIGN_IN_ATTEMPTS_PER_EMAIL: '5', SIGN_IN_ATTEMPTS_PER_IP: '1000' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const attempt = (url: string, email: string, password: string) => request(url, SignInDocument, { email, password }).then(codeOf);

  it('lets only the budget of 40 parallel wrong passwords reach the password check, and then refuses the right one', async () => {
    const user = await signUpUser(app.url);
    const codes = await Promise.all(Array.from({ length: 40 }, () => attempt(app.url, user.email, 'wrong password!')));
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(35);
    const right = await fails(app.url, SignInDocument, { email: user.email, password: user.password });
    expect(right.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(right.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('holds the budget across gateways (services only: the embedded target keeps limits in one process)', async (ctx) => {
    if (testTarget() !== 'services') ctx.skip('only Redis shares limits between gateways');
    // A second gateway on the same Postgres and Redis, as production runs several.
    const other = await startTestApp({ env: app.env, roles: ['gateway'] });
    try {
      const user = await signUpUser(app.url);
      const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(i % 2 ? app.url : other.url, user.email, 'wrong password!')));
      expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(5);
      expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(35);
    } finally {
      await other.close();
    }
  });
});

describeApp('sign-up limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIGN_UP_ATTEMPTS_PER_IP: '3' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('refuses a burst of sign-ups from one address beyond its budget with RATE_LIMITED, and a malformed one costs nothing', async () => {
    const malformed = await fails(app.url, SignUpDocument, { input: { email: 'not-an-email', password: 'correct horse battery', displayName: 'Nope' } });
    expect(malformed.extensions?.code).toBe('BAD_USER_INPUT');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        request(app.url, SignUpDocument, { input: { email: `burst-${i}-${randomUUID()}@example.com`, password: 'correct horse battery', displayName: `Burst ${i}` } }),
      ),
    );
    expect(results.filter((result) => result.data?.signUp.token)).toHaveLength(3);
    const limited = results.filter((result) => codeOf(result) === 'RATE_LIMITED');
    expect(limited).toHaveLength(5);
    expect(limited[0]!.errors![0]!.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });
});
