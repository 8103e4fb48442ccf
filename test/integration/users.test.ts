import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { signUpUser } from '../support/factories.js';
import { MeDocument, ServerTimeDocument, SignInDocument, SignUpDocument, UpdateMeDocument } from '../generated/graphql.js';


describeApp('accounts', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIGN_IN_ATTEMPTS_PER_EMAIL: '3' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('accounts', () => {
    it('signs up a user and returns a token that identifies them', async () => {
      const user = await signUpUser(app.url, { displayName: 'Morgan', phone: '+14155550123', smsOptIn: true });
      const { me } = await ok(app.url, MeDocument, {}, user.token);
      expect(me).toMatchObject({ id: user.id, displayName: 'Morgan', email: user.email, phone: '+14155550123', smsOptIn: true });
    });

    it('answers me with null for an anonymous viewer', async () => {
      expect((await ok(app.url, MeDocument)).me).toBeNull();
    });

    it('refuses an invalid token with UNAUTHENTICATED', async () => {
      const result = await request(app.url, MeDocument, {}, 'not-a-token');
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it.each([
      ['email', { email: 'not-an-email' }],
      ['password', { password: 'short' }],
      ['displayName', { displayName: '   ' }],
      ['phone', { phone: '555-0123' }],
      ['smsOptIn', { smsOptIn: true, phone: null }],
    ])('rejects a bad %s with BAD_USER_INPUT naming the field', async (field, overrides) => {
      const input = { email: `x-${Math.random()}@example.com`, password: 'long enough password', displayName: 'Alex', ...overrides };
      const error = await fails(app.url, SignUpDocument, { input });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('rejects a second account with the same email', async () => {
      const user = await signUpUser(app.url);
      const error = await fails(app.url, SignUpDocument, { input: { email: user.email.toUpperCase(), password: 'another long password', displayName: 'Sam' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    });

    it('signs in with the right password', async () => {
      const user = await signUpUser(app.url);
      const { signIn } = await ok(app.url, SignInDocument, { email: user.email, password: user.password });
      expect(signIn.user.id).toBe(user.id);
      expect((await ok(app.url, MeDocument, {}, signIn.token)).me?.id).toBe(user.id);
    });

    it('gives a wrong password and an unknown email the same answer', async () => {
      const user = await signUpUser(app.url);
      const wrong = await fails(app.url, SignInDocument, { email: user.email, password: 'wrong password!' });
      const unknown = await fails(app.url, SignInDocument, { email: `nobody-${user.id}@example.com`, password: 'wrong password!' });
      expect(wrong).toEqual(unknown);
      expect(wrong.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('rate limits sign-in attempts per email, even with the right password afterwards', async () => {
      const user = await signUpUser(app.url);
      for (let i = 0; i < 3; i++) await fails(app.url, SignInDocument, { email: user.email, password: 'wrong password!' });
      const limited = await fails(app.url, SignInDocument, { email: user.email, password: user.password });
      expect(limited.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(limited.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    });

    it('updates the profile, and removing the phone turns SMS off', async () => {
      const user = await signUpUser(app.url, { phone: '+14155550123', smsOptIn: true });
      const renamed = await ok(app.url, UpdateMeDocument, { input: { displayName: 'Robin' } }, user.token);
      expect(renamed.updateMe).toMatchObject({ displayName: 'Robin', phone: '+14155550123', smsOptIn: true });
      const noPhone = await ok(app.url, UpdateMeDocument, { input: { phone: null } }, user.token);
      expect(noPhone.updateMe).toMatchObject({ phone: null, smsOptIn: false });
    });

    it('refuses updateMe without a token and changes nothing', async () => {
      const error = await fails(app.url, UpdateMeDocument, { input: { displayName: 'Nobody' } });
      expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('rejects an invalid phone on update and keeps the old one', async () => {
      const user = await signUpUser(app.url, { phone: '+14155550123' });
      const error = await fails(app.url, UpdateMeDocument, { input: { phone: 'call me' } }, user.token);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
      expect((await ok(app.url, MeDocument, {}, user.token)).me?.phone).toBe('+14155550123');
    });

    it('tells the server time', async () => {
      const before = Date.now();
      const { serverTime } = await ok(app.url, ServerTimeDocument);
      expect(Math.abs(new Date(serverTime).getTime() - before)).toBeLessThan(5_000);
      expect(serverTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });
  });
});
