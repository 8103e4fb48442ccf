import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { parseMoney } from '../../src/domain/money.js';
import { outbidSmsBody } from '../../src/services/notifications/send-outbid-sms.js';
import { describeApp, startTestApp, testTarget, type TestApp } from '../support/app.js';
import { ok, request } from '../support/client.js';
import { createAuction, signUpUser, type TestUser } from '../support/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { PlaceBidDocument, UpdateMeDocument } from '../generated/graphql.js';

const PUBLIC_URL = 'https://auctions.example.com';
const ACCOUNT_SID = `AC${'7'.repeat(32)}`;
const AUTH_TOKEN = 'fake-twilio-auth-token';
const FROM = '+15005550006';

const twilioEnv = (fake: FakeTwilio, windowSeconds = 600) => ({
  TWILIO_ACCOUNT_SID: ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  TWILIO_FROM_NUMBER: FROM,
  TWILIO_API_URL: fake.url,
  OUTBID_SMS_WINDOW_SECONDS: String(windowSeconds),
  PUBLIC_URL,
});

let phoneCounter = 0;
/** A distinct E.164 number per user, so each SMS names its recipient. */
const nextPhone = () => `+1415555${String(1000 + ++phoneCounter)}`;

async function texter(url: string, displayName: string): Promise<TestUser & { phone: string }> {
  const phone = nextPhone();
  return { ...(await signUpUser(url, { displayName, phone, smsOptIn: true })), phone };
}

/** Places a bid that must be accepted; answers the new bid and auction state. */
async function bid(url: string, user: TestUser, auctionId: string, amount: string) {
  const result = await request(url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey: randomUUID() } }, user.token);
  if (result.errors || !result.data) throw new Error(`bid refused: ${JSON.stringify(result.errors)}`);
  return result.data.placeBid;
}

/** Waits until the auction has `count` notices and none is still being sent. */
const settledNotices = (app: App, auctionId: string, count: number, timeoutMs = 30_000) =>
  vi.waitFor(
    async () => {
      const rows = await app.deps.db.notification.findMany({ where: { auctionId }, orderBy: { eventAt: 'asc' } });
      expect(rows.length, `notices so far: ${JSON.stringify(rows.map((r) => r.status))}`).toBeGreaterThanOrEqual(count);
      expect(rows.filter((r) => r.status === 'PENDING')).toEqual([]);
      return rows;
    },
    { timeout: timeoutMs, interval: 50 },
  );

const smsAbout = (fake: FakeTwilio, auctionId: string) => fake.messages.filter((m) => m.form.Body?.includes(`/auctions/${auctionId}`));

describeApp('outbid notifications', () => {
  describe('by SMS through Twilio', () => {
    let fake: FakeTwilio;
    let app: TestApp;
    let seller: TestUser;
    beforeAll(async () => {
      fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
      app = await startTestApp({ env: twilioEnv(fake) });
      seller = await signUpUser(app.url, { displayName: 'Seller' });
    });
    afterAll(async () => {
      await app?.close();
      await fake?.close();
    });

    const origin = () => new URL(app.url).origin;

    it('texts the outbid bidder once, from the configured number, with the title, new price, minimum next bid and link', async () => {
      const auction = await createAuction(app.url, seller, { title: 'Vintage camera', startingPrice: '10.00' });
      const alice = await texter(app.url, 'Alice');
      const bob = await texter(app.url, 'Bob');
      await bid(app.url, alice, auction.id, '10.00');
      const placed = await bid(app.url, bob, auction.id, '15.00');

      const [row] = await settledNotices(app, auction.id, 1);
      const sent = smsAbout(fake, auction.id);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
        basicAuth: { username: ACCOUNT_SID, password: AUTH_TOKEN },
        form: {
          To: alice.phone,
          From: FROM,
          Body: `You have been outbid on "Vintage camera": the price is now 15.00 USD. Bid ${placed.auction.minimumNextBid} USD or more to lead again: ${PUBLIC_URL}/auctions/${auction.id}`,
          StatusCallback: `${PUBLIC_URL}/webhooks/twilio/status?notificationId=${row!.id}`,
        },
      });
      expect(row).toMatchObject({ userId: alice.id, bidId: placed.bid.id, kind: 'outbid', channel: 'sms', status: 'SENT', providerMessageId: sent[0]!.sid, error: null });
    });

    it('suppresses a second outbid SMS to the same bidder on the same auction within the window', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const alice = await texter(app.url, 'Alice');
      const bob = await texter(app.url, 'Bob');
      await bid(app.url, alice, auction.id, '10.00');
      await bid(app.url, bob, auction.id, '15.00');
      await bid(app.url, alice, auction.id, '20.00');
      await bid(app.url, bob, auction.id, '25.00');

      const rows = await settledNotices(app, auction.id, 3);
      expect(rows.map((r) => [r.userId, r.status])).toEqual([
        [alice.id, 'SENT'],
        [bob.id, 'SENT'],
        [alice.id, 'SUPPRESSED'],
      ]);
      expect(smsAbout(fake, auction.id).map((m) => m.form.To)).toEqual([alice.phone, bob.phone]);
    });

    it('sends nothing new when a bid already notified comes through the log again', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const [alice, bob, carol] = [await texter(app.url, 'Alice'), await texter(app.url, 'Bob'), await texter(app.url, 'Carol')];
      await bid(app.url, alice, auction.id, '10.00');
      // The message exactly as the gateway published it, to publish it once more.
      const publish = vi.spyOn(app.deps.bidLog, 'publish');
      const outbidding = await bid(app.url, bob, auction.id, '15.00');
      const published = publish.mock.calls.map(([m]) => m);
      publish.mockRestore();
      await settledNotices(app, auction.id, 1);

      const message = published.find((m) => m.type === 'BidPlaced' && m.id === outbidding.bid.id);
      expect(message?.type === 'BidPlaced' && message.previousLeader?.bidderId).toBe(alice.id);
      await app.deps.bidLog.publish(message!, { timeoutMs: 5_000 });
      // The auction's notices are handled in log order: once carol's outbid of bob is recorded,
      // the replayed message before it has been handled too.
      await bid(app.url, carol, auction.id, '20.00');

      const rows = await settledNotices(app, auction.id, 2);
      expect(rows.map((r) => [r.userId, r.status])).toEqual([
        [alice.id, 'SENT'],
        [bob.id, 'SENT'],
      ]);
      expect(smsAbout(fake, auction.id).map((m) => m.form.To)).toEqual([alice.phone, bob.phone]);
    });

    it('texts nobody who has not opted in, has opted out, or has no phone', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const notOptedIn = await signUpUser(app.url, { displayName: 'Nina', phone: nextPhone(), smsOptIn: false });
      const optedOut = await texter(app.url, 'Otto');
      await ok(app.url, UpdateMeDocument, { input: { smsOptIn: false } }, optedOut.token);
      const noPhone = await signUpUser(app.url, { displayName: 'Pat' });
      const last = await texter(app.url, 'Lee');
      const sentinel = await texter(app.url, 'Sam');
      await bid(app.url, notOptedIn, auction.id, '10.00');
      await bid(app.url, optedOut, auction.id, '15.00');
      await bid(app.url, noPhone, auction.id, '20.00');
      await bid(app.url, last, auction.id, '25.00');
      // Outbids `last`, who does get a text: by then the three before were handled.
      await bid(app.url, sentinel, auction.id, '30.00');

      const rows = await settledNotices(app, auction.id, 1);
      expect(rows.map((r) => r.userId)).toEqual([last.id]);
      expect(smsAbout(fake, auction.id).map((m) => m.form.To)).toEqual([last.phone]);
    });

    it('sends nothing when bidders raise their own bid', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const alice = await texter(app.url, 'Alice');
      const bob = await texter(app.url, 'Bob');
      await bid(app.url, alice, auction.id, '10.00');
      await bid(app.url, alice, auction.id, '15.00');
      await bid(app.url, alice, auction.id, '20.00');
      await bid(app.url, bob, auction.id, '25.00');

      const rows = await settledNotices(app, auction.id, 1);
      expect(rows.map((r) => [r.userId, r.status])).toEqual([[alice.id, 'SENT']]);
      expect(smsAbout(fake, auction.id)).toHaveLength(1);
      expect(smsAbout(fake, auction.id)[0]!.form.Body).toContain('the price is now 25.00 USD');
    });

    it('records a permanent refusal as FAILED with the Twilio code, and the next notices still go out', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const [alice, bob, carol] = [await texter(app.url, 'Alice'), await texter(app.url, 'Bob'), await texter(app.url, 'Carol')];
      await bid(app.url, alice, auction.id, '10.00');
      fake.failNext(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
      await bid(app.url, bob, auction.id, '15.00');
      await bid(app.url, carol, auction.id, '20.00');

      const rows = await settledNotices(app, auction.id, 2);
      expect(rows.map((r) => [r.userId, r.status])).toEqual([
        [alice.id, 'FAILED'],
        [bob.id, 'SENT'],
      ]);
      expect(rows[0]!.error).toMatch(/^21211: /);
      expect(rows[0]!.providerMessageId).toBeNull();
      // Refused outright, so it was not tried again.
      expect(fake.requests.filter((r) => r.form.To === alice.phone)).toHaveLength(1);
      expect(smsAbout(fake, auction.id).map((m) => m.form.To)).toEqual([bob.phone]);
    });

    it('retries transient failures (throttling, Twilio errors) and records SENT once one goes through', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const alice = await texter(app.url, 'Alice');
      const bob = await texter(app.url, 'Bob');
      await bid(app.url, alice, auction.id, '10.00');
      fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests' });
      fake.failNext(1, { status: 503, message: 'Service Unavailable' });
      await bid(app.url, bob, auction.id, '15.00');

      const [row] = await settledNotices(app, auction.id, 1);
      expect(row).toMatchObject({ userId: alice.id, status: 'SENT', error: null });
      expect(fake.requests.filter((r) => r.form.To === alice.phone)).toHaveLength(3);
      expect(smsAbout(fake, auction.id)).toHaveLength(1);
      expect(row!.providerMessageId).toBe(smsAbout(fake, auction.id)[0]!.sid);
    });

    describe('the status callback', () => {
      async function sentNotice() {
        const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
        const alice = await texter(app.url, 'Alice');
        await bid(app.url, alice, auction.id, '10.00');
        await bid(app.url, await texter(app.url, 'Bob'), auction.id, '15.00');
        const [row] = await settledNotices(app, auction.id, 1);
        return { row: row!, message: smsAbout(fake, auction.id)[0]! };
      }
      const stored = (id: string) => app.deps.db.notification.findUniqueOrThrow({ where: { id } });

      it('records delivery when Twilio signs the callback, and keeps it when a late "sent" arrives', async () => {
        const { row, message } = await sentNotice();
        expect(await fake.sendStatus(message, 'delivered', { origin: origin() })).toBe(204);
        expect(await stored(row.id)).toMatchObject({ status: 'DELIVERED', providerMessageId: message.sid, error: null });
        expect(await fake.sendStatus(message, 'sent', { origin: origin() })).toBe(204);
        expect((await stored(row.id)).status).toBe('DELIVERED');
      });

      it('records an undelivered message with its error code', async () => {
        const { row, message } = await sentNotice();
        expect(await fake.sendStatus(message, 'undelivered', { origin: origin(), errorCode: '30005' })).toBe(204);
        expect(await stored(row.id)).toMatchObject({ status: 'UNDELIVERED', error: '30005' });
      });

      it('refuses a forged or unsigned callback with 403 and changes nothing', async () => {
        const { row, message } = await sentNotice();
        const url = `${PUBLIC_URL}/webhooks/twilio/status?notificationId=${row.id}`;
        const params = { AccountSid: ACCOUNT_SID, MessageSid: message.sid, MessageStatus: 'undelivered', ErrorCode: '30003' };
        const post = (headers: Record<string, string>, form = params) =>
          fetch(`${origin()}/webhooks/twilio/status?notificationId=${row.id}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
            body: new URLSearchParams(form).toString(),
          });
        const forged = twilio.getExpectedTwilioSignature('not-the-auth-token', url, params);
        const genuine = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

        expect((await post({ 'x-twilio-signature': forged })).status).toBe(403);
        expect((await post({})).status).toBe(403);
        // A genuine signature over other parameters, replayed with the status changed.
        expect((await post({ 'x-twilio-signature': genuine }, { ...params, MessageStatus: 'failed' })).status).toBe(403);
        expect(await stored(row.id)).toEqual(row);
      });
    });
  });

  describe('without Twilio credentials', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ env: { PUBLIC_URL } });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('records SKIPPED_NO_PROVIDER for an opted-in bidder and sends nothing', async () => {
      const seller = await signUpUser(app.url, { displayName: 'Seller' });
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const alice = await texter(app.url, 'Alice');
      await bid(app.url, alice, auction.id, '10.00');
      const placed = await bid(app.url, await texter(app.url, 'Bob'), auction.id, '15.00');
      const rows = await settledNotices(app, auction.id, 1);
      expect(rows.map((r) => [r.userId, r.bidId, r.status, r.providerMessageId])).toEqual([[alice.id, placed.bid.id, 'SKIPPED_NO_PROVIDER', null]]);
    });

    it('refuses every status callback with 403, since nothing can verify it', async () => {
      const url = `${PUBLIC_URL}/webhooks/twilio/status`;
      const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
      const response = await fetch(`${new URL(app.url).origin}/webhooks/twilio/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      expect(response.status).toBe(403);
    });
  });

  // Only on services: the embedded bid log lives inside one process, so a worker in another
  // process cannot read it. test/unit/notification-worker.test.ts covers the same crash in process.
  describe.skipIf(testTarget() !== 'services')('when the notification worker crashes (services only: the embedded bid log cannot be shared between processes)', () => {
    let fake: FakeTwilio;
    let gateway: TestApp;
    let child: ServerProcess['child'] | undefined;
    let restarted: App | undefined;
    beforeAll(async () => {
      fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
      // Window 0: every outbid is texted, so every one of them is a message to lose or double.
      gateway = await startTestApp({ roles: ['gateway'], env: twilioEnv(fake, 0) });
    });
    afterAll(async () => {
      child?.kill('SIGKILL');
      await restarted?.stop();
      await gateway?.close();
      await fake?.close();
    });

    it('the notification worker crashed mid-stream and restarted: no SMS lost, none sent twice', async () => {
      child = (await startServerProcess('workers', gateway.env)).child;
      const seller = await signUpUser(gateway.url, { displayName: 'Seller' });
      const bidders = await Promise.all(['Ann', 'Ben', 'Cat', 'Dan'].map((name) => texter(gateway.url, name)));
      const auctions = await Promise.all([1, 2].map(() => createAuction(gateway.url, seller, { title: 'Vintage camera', startingPrice: '10.00' })));
      const expected: string[] = [];
      const prices = new Map(auctions.map((a) => [a.id, 10_00]));
      let turn = 0;
      /** One round: a bid on each auction by the next bidder, outbidding the one before. */
      const round = async () => {
        const bidder = bidders[turn % bidders.length]!;
        const previous = turn > 0 ? bidders[(turn - 1) % bidders.length]! : undefined;
        turn++;
        for (const auction of auctions) {
          const price = prices.get(auction.id)!;
          const placed = await bid(gateway.url, bidder, auction.id, `${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')}`);
          prices.set(auction.id, price + 5_00);
          if (!previous) continue;
          const notice = { auction: { title: 'Vintage camera', currency: 'USD' }, currentPrice: parseMoney(placed.auction.currentPrice)!, minimumNextBid: parseMoney(placed.auction.minimumNextBid)! };
          expected.push(`${previous.phone} ${outbidSmsBody(notice, `${PUBLIC_URL}/auctions/${auction.id}`)}`);
        }
      };

      for (let i = 0; i < 5; i++) await round();
      await fake.waitForMessages(8, 45_000);

      // Twilio takes the next requests but the answers never reach the worker: it dies waiting.
      fake.holdResponses();
      for (let i = 0; i < 4; i++) await round();
      await heldSteady(fake);
      child.kill('SIGKILL');
      await once(child, 'exit');
      child = undefined;
      fake.release();

      for (let i = 0; i < 3; i++) await round();
      restarted = await startApp(loadConfig({ ...gateway.env }, false), pino({ level: 'silent' }), { roles: new Set(['workers']) });
      await fake.waitForMessages(expected.length, 45_000);

      // Twilio reports on every message it took, the held ones included; each report finds its notice.
      for (const message of fake.messages) expect(await fake.sendStatus(message, 'delivered', { origin: new URL(gateway.url).origin })).toBe(204);
      const notices = (await Promise.all(auctions.map((a) => settledNotices(gateway, a.id, expected.length / 2, 45_000)))).flat();
      // Once the notifier group has committed the end of the log, nothing is left to be sent twice.
      await vi.waitFor(
        async () => expect(await (await fetch(new URL('/metrics', gateway.url))).text()).toMatch(/^auction_consumer_lag_messages\{group="notifier"\} 0$/m),
        { timeout: 45_000, interval: 200 },
      );
      expect(fake.messages.map((m) => `${m.form.To} ${m.form.Body}`).sort()).toEqual([...expected].sort());
      expect(notices).toHaveLength(expected.length);
      expect(notices.every((n) => n.status === 'DELIVERED')).toBe(true);
      expect(new Set(notices.map((n) => n.providerMessageId)).size).toBe(expected.length);
    }, 150_000);
  });
});

/**
 * Waits until the fake holds answers and no new request has come for 750 ms: the worker is stuck on
 * them. A stuck worker announces nothing, so a quiet spell is the only sign there is; it is bounded
 * at 45 s, and a worker that never gets stuck fails the test.
 */
async function heldSteady(fake: FakeTwilio): Promise<void> {
  const deadline = Date.now() + 45_000;
  let last = -1;
  let steadySince = Date.now();
  while (Date.now() < deadline) {
    if (fake.requests.length !== last) {
      last = fake.requests.length;
      steadySince = Date.now();
    } else if (fake.held > 0 && Date.now() - steadySince > 750) {
      return;
    }
    await sleep(25);
  }
  throw new Error('the worker never got stuck on a held answer');
}
