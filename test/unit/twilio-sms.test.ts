import { createServer } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioSms } from '../../src/adapters/twilio/twilio-sms.js';
import { SmsError, type SmsSender } from '../../src/ports/sms.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';

const accountSid = `AC${'1'.repeat(32)}`;
const authToken = 'test-auth-token';
const from = '+15005550006';
const message = { to: '+14155550123', body: 'You have been outbid.', statusCallback: 'https://auctions.example.com/webhooks/twilio/status?notificationId=n1' };

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function smsErrorOf(promise: Promise<unknown>): Promise<SmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmsError);
  return error as SmsError;
}

describe('the Twilio SMS sender', () => {
  let fake: FakeTwilio;
  let sms: SmsSender;
  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid, authToken });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    sms = createTwilioSms({ accountSid, authToken, from, apiUrl: fake.url });
  });

  it('sends To, From, Body and StatusCallback with the account credentials and returns the message sid', async () => {
    const { providerMessageId } = await sms.send(message);
    const request = fake.requests.at(-1)!;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${accountSid}/Messages.json`,
      basicAuth: { username: accountSid, password: authToken },
      contentType: 'application/x-www-form-urlencoded',
      form: { To: message.to, From: from, Body: message.body, StatusCallback: message.statusCallback },
    });
    expect(request.userAgent).toMatch(/^twilio-node\//);
    expect(request.form.MessagingServiceSid).toBeUndefined();
    expect(providerMessageId).toBe(request.sid);
    expect(providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('sends through the Messaging Service instead of a number when one is configured', async () => {
    const messagingServiceSid = `MG${'2'.repeat(32)}`;
    const viaService = createTwilioSms({ accountSid, authToken, messagingServiceSid, apiUrl: fake.url });
    await viaService.send(message);
    const { form } = fake.requests.at(-1)!;
    expect(form.MessagingServiceSid).toBe(messagingServiceSid);
    expect(form.From).toBeUndefined();
  });

  it('refuses to be built without a from number or a Messaging Service', () => {
    expect(() => createTwilioSms({ accountSid, authToken, apiUrl: fake.url })).toThrow(/from number or a Messaging Service/);
  });

  it('reports an invalid number (HTTP 400, code 21211) as a permanent error carrying the Twilio code', async () => {
    fake.failNext(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const error = await smsErrorOf(sms.send(message));
    expect(error).toMatchObject({ permanent: true, code: '21211' });
    expect(error.message).toContain('not a valid phone number');
  });

  it('reports an unsubscribed recipient (code 21610) as permanent', async () => {
    fake.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    expect(await smsErrorOf(sms.send(message))).toMatchObject({ permanent: true, code: '21610' });
  });

  it('reports throttling (HTTP 429) as transient', async () => {
    fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests' });
    expect(await smsErrorOf(sms.send(message))).toMatchObject({ permanent: false, code: '20429' });
  });

  it('reports a Twilio server error (HTTP 500) as transient', async () => {
    fake.failNext(1, { status: 500, message: 'Internal Server Error' });
    expect(await smsErrorOf(sms.send(message))).toMatchObject({ permanent: false });
  });

  it('reports a reset connection as transient and possibly sent', async () => {
    fake.failNext(1, 'reset');
    expect(await smsErrorOf(sms.send(message))).toMatchObject({ permanent: false, mayHaveBeenSent: true });
  });

  it('reports a refused connection as transient, naming the network error', async () => {
    const nowhere = createTwilioSms({ accountSid, authToken, from, apiUrl: `http://127.0.0.1:${await closedPort()}` });
    const error = await smsErrorOf(nowhere.send(message));
    expect(error).toMatchObject({ permanent: false, code: 'ECONNREFUSED', mayHaveBeenSent: false });
  });

  it('reports a request that outlives its timeout as transient and possibly sent', async () => {
    const impatient = createTwilioSms({ accountSid, authToken, from, apiUrl: fake.url, timeoutMs: 100 });
    fake.delayResponses(1_000);
    try {
      expect(await smsErrorOf(impatient.send(message))).toMatchObject({ permanent: false, mayHaveBeenSent: true });
    } finally {
      fake.delayResponses(0);
    }
  });

  it('accepts a status callback signed with the auth token for its URL and parameters', () => {
    const url = 'https://auctions.example.com/webhooks/twilio/status?notificationId=n1';
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
    const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
    expect(sms.verifyCallback({ signature, url, params })).toBe(true);
  });

  it('refuses a callback that is unsigned, signed with another token, or altered after signing', () => {
    const url = 'https://auctions.example.com/webhooks/twilio/status?notificationId=n1';
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
    expect(sms.verifyCallback({ signature: undefined, url, params })).toBe(false);
    expect(sms.verifyCallback({ signature: twilio.getExpectedTwilioSignature('another-token', url, params), url, params })).toBe(false);
    const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
    expect(sms.verifyCallback({ signature, url, params: { ...params, MessageStatus: 'failed' } })).toBe(false);
    expect(sms.verifyCallback({ signature, url: url.replace('n1', 'n2'), params })).toBe(false);
  });
});
