import { randomUUID } from 'node:crypto';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStripePayments } from '../../src/adapters/stripe/stripe-payments.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { createStripeWebhookRouter } from '../../src/http/stripe-webhook.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import type { AuctionView } from '../../src/domain/auction.js';
import { paymentFor } from '../../src/services/payments/payment-for.js';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

const WEBHOOK_SECRET = 'whsec_webhook_suite';
const STRIPE_ENV = { STRIPE_SECRET_KEY: 'sk_test_webhook_suite', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };

/** A delivery as Stripe makes it: the event's JSON, signed with the endpoint's secret. */
function signed(event: object, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
  return { payload, signature };
}

/** Posts a delivery to the server at `url` (its GraphQL URL will do: only the origin is used). */
async function deliver(url: string, delivery: { payload: string; signature?: string }) {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (delivery.signature !== undefined) headers['stripe-signature'] = delivery.signature;
  const response = await fetch(`${new URL(url).origin}/webhooks/stripe`, { method: 'POST', headers, body: delivery.payload });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const event = (type: string, object: Record<string, unknown>) => ({
  id: `evt_${randomUUID().replace(/-/g, '')}`,
  object: 'event',
  type,
  created: Math.floor(Date.now() / 1000),
  data: { object },
});

const sessionCompleted = (payment: { id: string; providerSessionId: string | null }, intent = 'pi_test_paid') =>
  event('checkout.session.completed', {
    id: payment.providerSessionId,
    object: 'checkout.session',
    payment_status: 'paid',
    status: 'complete',
    payment_intent: intent,
    client_reference_id: payment.id,
    metadata: { paymentId: payment.id },
  });

const newUser = async (db: PrismaClient, name: string): Promise<string> =>
  (await db.user.create({ data: { email: `${name}-${randomUUID()}@example.com`, passwordHash: 'x', displayName: name } })).id;

const chargeRefunded = (intent: string) =>
  event('charge.refunded', { id: `ch_${randomUUID().slice(0, 8)}`, object: 'charge', payment_intent: intent, refunded: true, metadata: {}, refunds: { object: 'list', data: [{ id: 're_test_1' }] } });

describeApp('Stripe webhooks', () => {
  let app: TestApp;
  let db: PrismaClient;
  let sellerId: string;
  let winnerId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: STRIPE_ENV, roles: ['gateway'] });
    db = app.deps.db;
    sellerId = await newUser(db, 'seller');
    winnerId = await newUser(db, 'winner');
  });
  afterAll(() => app?.close());

  /** A sold auction's payment with its checkout open, as the payments job leaves it. */
  async function openPayment() {
    const endsAt = new Date(Date.now() - 60_000);
    const auction = await db.auction.create({
      data: {
        sellerId,
        title: 'Vintage camera',
        description: 'A rangefinder',
        currency: 'EUR',
        startingPrice: 1000,
        currentPrice: 5000,
        startsAt: new Date(endsAt.getTime() - 86_400_000),
        endsAt,
        scheduledEndsAt: endsAt,
        state: 'ENDED',
        winnerId,
      },
    });
    const sessionId = `cs_test_${randomUUID().replace(/-/g, '')}`;
    return db.payment.create({
      data: {
        auctionId: auction.id,
        payerId: winnerId,
        amount: 5000,
        currency: 'EUR',
        status: 'REQUIRES_PAYMENT',
        providerSessionId: sessionId,
        checkoutUrl: `https://checkout.stripe.test/c/pay/${sessionId}`,
        dueAt: new Date(Date.now() + 96 * 3_600_000),
        nextAttemptAt: new Date(Date.now() + 96 * 3_600_000),
      },
    });
  }
  const reload = (id: string) => db.payment.findUniqueOrThrow({ where: { id } });

  it('records a completed checkout as SUCCEEDED, with its payment intent', async () => {
    const payment = await openPayment();

    const answer = await deliver(app.url, signed(sessionCompleted(payment, 'pi_test_completed')));

    expect(answer).toEqual({ status: 200, body: { received: true } });
    expect(await reload(payment.id)).toMatchObject({ status: 'SUCCEEDED', providerPaymentIntent: 'pi_test_completed', nextAttemptAt: null });
  });

  it('finds the payment by its checkout session when the event carries no payment id', async () => {
    const payment = await openPayment();
    const completed = sessionCompleted(payment);
    const object = completed.data.object as Record<string, unknown>;
    object.metadata = {};
    object.client_reference_id = null;

    expect((await deliver(app.url, signed(completed))).status).toBe(200);
    expect((await reload(payment.id)).status).toBe('SUCCEEDED');
  });

  it('records a payment_intent.succeeded as SUCCEEDED', async () => {
    const payment = await openPayment();
    const succeeded = event('payment_intent.succeeded', { id: 'pi_test_intent', object: 'payment_intent', status: 'succeeded', metadata: { paymentId: payment.id } });

    expect((await deliver(app.url, signed(succeeded))).status).toBe(200);
    expect(await reload(payment.id)).toMatchObject({ status: 'SUCCEEDED', providerPaymentIntent: 'pi_test_intent' });
  });

  it('records a full refund as REFUNDED', async () => {
    const payment = await openPayment();
    await deliver(app.url, signed(sessionCompleted(payment, 'pi_test_to_refund')));

    expect((await deliver(app.url, signed(chargeRefunded('pi_test_to_refund')))).status).toBe(200);
    expect(await reload(payment.id)).toMatchObject({ status: 'REFUNDED', providerRefundId: 're_test_1' });
  });

  it('changes nothing for a replayed event, even after the payment moved on', async () => {
    const payment = await openPayment();
    const completed = signed(sessionCompleted(payment, 'pi_test_replayed'));
    await deliver(app.url, completed);
    await deliver(app.url, completed);
    await deliver(app.url, signed(chargeRefunded('pi_test_replayed')));
    const refunded = await reload(payment.id);

    // Stripe signs each delivery afresh: the replay is the same event, newly signed.
    expect((await deliver(app.url, signed(JSON.parse(completed.payload) as object))).status).toBe(200);
    expect(await reload(payment.id)).toEqual(refunded);
    expect(refunded.status).toBe('REFUNDED');
  });

  it('does not move a payment backwards when events arrive out of order', async () => {
    const payment = await openPayment();
    await deliver(app.url, signed(sessionCompleted(payment, 'pi_test_out_of_order')));
    await deliver(app.url, signed(chargeRefunded('pi_test_out_of_order')));
    const refunded = await reload(payment.id);

    const late = [
      event('payment_intent.succeeded', { id: 'pi_test_out_of_order', object: 'payment_intent', metadata: { paymentId: payment.id } }),
      event('checkout.session.expired', { id: payment.providerSessionId, object: 'checkout.session', metadata: { paymentId: payment.id } }),
      event('payment_intent.payment_failed', { id: 'pi_test_out_of_order', object: 'payment_intent', metadata: { paymentId: payment.id }, last_payment_error: { message: 'Your card was declined.' } }),
    ];
    for (const delivery of late) expect((await deliver(app.url, signed(delivery))).status).toBe(200);
    expect(await reload(payment.id)).toEqual(refunded);
  });

  it('leaves a payment awaiting payment after a declined card, since the checkout stays open for another', async () => {
    const payment = await openPayment();
    const declined = event('payment_intent.payment_failed', {
      id: 'pi_test_declined',
      object: 'payment_intent',
      metadata: { paymentId: payment.id },
      last_payment_error: { message: 'Your card was declined.' },
    });

    expect((await deliver(app.url, signed(declined))).status).toBe(200);
    expect(await reload(payment.id)).toEqual(payment);
  });

  it('hands an expired checkout back to the payments job, and ignores the expiry of one already replaced', async () => {
    const payment = await openPayment();
    const stale = event('checkout.session.expired', { id: 'cs_test_replaced_long_ago', object: 'checkout.session', metadata: { paymentId: payment.id } });
    expect((await deliver(app.url, signed(stale))).status).toBe(200);
    expect(await reload(payment.id)).toEqual(payment);

    const expired = event('checkout.session.expired', { id: payment.providerSessionId, object: 'checkout.session', metadata: { paymentId: payment.id } });
    expect((await deliver(app.url, signed(expired))).status).toBe(200);
    const after = await reload(payment.id);
    expect(after).toMatchObject({ status: 'REQUIRES_PAYMENT', checkoutUrl: null });
    expect(after.nextAttemptAt!.getTime()).toBeLessThan(payment.nextAttemptAt!.getTime());
  });

  it('records a payment that lands after its sale was cancelled, and schedules its refund', async () => {
    const payment = await openPayment();
    await db.payment.update({ where: { id: payment.id }, data: { status: 'FAILED', failureReason: 'sale cancelled', refundRequestedAt: new Date(), nextAttemptAt: null } });

    expect((await deliver(app.url, signed(sessionCompleted(payment, 'pi_test_late')))).status).toBe(200);
    const after = await reload(payment.id);
    expect(after).toMatchObject({ status: 'SUCCEEDED', providerPaymentIntent: 'pi_test_late' });
    expect(after.nextAttemptAt).not.toBeNull();
    expect(after.refundRequestedAt).not.toBeNull();
  });

  it('refuses a forged signature with 400 and changes nothing', async () => {
    const payment = await openPayment();

    const answer = await deliver(app.url, signed(sessionCompleted(payment), { secret: 'whsec_not_ours' }));

    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/invalid Stripe event/);
    expect(await reload(payment.id)).toEqual(payment);
  });

  it('refuses a body changed after it was signed, and one without a signature', async () => {
    const payment = await openPayment();
    const genuine = signed({ ...sessionCompleted(payment), type: 'customer.created' });
    const tampered = { payload: genuine.payload.replace('customer.created', 'checkout.session.completed'), signature: genuine.signature };

    expect((await deliver(app.url, tampered)).status).toBe(400);
    expect((await deliver(app.url, { payload: signed(sessionCompleted(payment)).payload })).status).toBe(400);
    expect(await reload(payment.id)).toEqual(payment);
  });

  it('refuses a delivery signed too long ago with 400 and changes nothing', async () => {
    const payment = await openPayment();

    const answer = await deliver(app.url, signed(sessionCompleted(payment), { timestamp: Math.floor(Date.now() / 1000) - 3600 }));

    expect(answer.status).toBe(400);
    expect(await reload(payment.id)).toEqual(payment);
  });

  it('acknowledges event types it does not handle, and events about no payment of ours', async () => {
    const payment = await openPayment();
    const other = event('customer.created', { id: 'cus_1', object: 'customer', metadata: { paymentId: payment.id } });
    const stranger = sessionCompleted({ id: randomUUID(), providerSessionId: 'cs_test_someone_else' });

    expect(await deliver(app.url, signed(other))).toEqual({ status: 200, body: { received: true } });
    expect(await deliver(app.url, signed(stranger))).toEqual({ status: 200, body: { received: true } });
    expect(await reload(payment.id)).toEqual(payment);
  });
});

describeApp('payments in the running app', () => {
  let stripe: FakeStripe;
  let app: TestApp;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    app = await startTestApp({ env: { ...STRIPE_ENV, STRIPE_API_URL: stripe.url, PUBLIC_URL: 'https://auctions.example.com' } });
  });
  afterAll(async () => {
    await app?.close();
    await stripe?.close();
  });

  it('opens the checkout of a sale, records its payment, and refunds it when the sale is cancelled', async () => {
    const db = app.deps.db;
    const sellerId = await newUser(db, 'seller');
    const winnerId = await newUser(db, 'winner');
    const endsAt = new Date(Date.now() - 60_000);
    const auction = await db.auction.create({
      data: {
        sellerId,
        winnerId,
        title: 'Vintage camera',
        description: 'A rangefinder',
        currency: 'USD',
        startingPrice: 1000,
        currentPrice: 2500,
        startsAt: new Date(endsAt.getTime() - 86_400_000),
        endsAt,
        scheduledEndsAt: endsAt,
        state: 'ENDED',
      },
    });
    const created = await db.payment.create({
      data: { auctionId: auction.id, payerId: winnerId, amount: 2500, currency: 'USD', status: 'REQUIRES_PAYMENT', dueAt: new Date(Date.now() + 96 * 3_600_000), nextAttemptAt: new Date() },
    });
    const view = { id: auction.id, sellerId, winnerId } as AuctionView;

    const opened = await vi.waitFor(
      async () => {
        const row = await db.payment.findUniqueOrThrow({ where: { id: created.id } });
        expect(row.checkoutUrl).not.toBeNull();
        return row;
      },
      { timeout: 20_000, interval: 50 },
    );
    const session = stripe.sessions.find((s) => s.id === opened.providerSessionId)!;
    expect(session.form.success_url).toBe(`https://auctions.example.com/auctions/${auction.id}?payment=success`);
    expect((await paymentFor(app.deps, { id: winnerId }, view))?.checkoutUrl).toBe(session.url);
    expect((await paymentFor(app.deps, { id: sellerId }, view))?.checkoutUrl).toBeNull();

    expect((await deliver(app.url, signed(sessionCompleted(opened, 'pi_test_running_app')))).status).toBe(200);
    expect(await paymentFor(app.deps, { id: winnerId }, view)).toMatchObject({ status: 'SUCCEEDED', checkoutUrl: null });

    // What cancelling the sale does to its payment.
    await db.payment.update({ where: { id: created.id }, data: { refundRequestedAt: new Date(), nextAttemptAt: new Date() } });
    await vi.waitFor(async () => expect((await db.payment.findUniqueOrThrow({ where: { id: created.id } })).status).toBe('REFUNDED'), {
      timeout: 20_000,
      interval: 50,
    });
    expect(stripe.refunds.filter((refund) => refund.form.payment_intent === 'pi_test_running_app')).toHaveLength(1);
  });
});

describeApp('Stripe webhooks without Stripe configured', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ roles: ['gateway'] });
  });
  afterAll(() => app?.close());

  it('answers 404, saying Stripe is not configured', async () => {
    const answer = await deliver(app.url, signed(event('checkout.session.completed', { id: 'cs_test_1', object: 'checkout.session' })));
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatch(/Stripe is not configured/);
  });
});

describe('Stripe webhooks when the database fails', () => {
  it('answers 500, so that Stripe delivers the event again', async () => {
    const failing = new Proxy({}, { get: () => () => Promise.reject(new Error('connection terminated')) }) as PrismaClient;
    const app = express().use(
      '/webhooks',
      createStripeWebhookRouter({
        db: failing,
        clock: systemClock,
        payments: createStripePayments({ secretKey: 'sk_test_unused', webhookSecret: WEBHOOK_SECRET }),
        logger: pino({ level: 'silent' }),
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await deliver(`http://127.0.0.1:${port}`, signed(sessionCompleted({ id: randomUUID(), providerSessionId: 'cs_test_1' })));
      expect(answer.status).toBe(500);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
