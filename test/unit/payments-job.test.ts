import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { scratchPglite, type ScratchPglite } from '../support/pglite.js';
import { createStripePayments } from '../../src/adapters/stripe/stripe-payments.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { Clock } from '../../src/ports/clock.js';
import type { PaymentProvider } from '../../src/ports/payments.js';
import { createPaymentsJob, type PaymentsJobDeps } from '../../src/services/payments/payments-job.js';
import { backoffMs, type OverduePayment } from '../../src/services/payments/process-payment.js';
import { recordPaymentEvent } from '../../src/services/payments/record-payment-event.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

const logger = pino({ level: 'silent' });
const PUBLIC_URL = 'https://auctions.example.com';
const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const HOUR = 3_600_000;
const RETRY = { firstDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 5 };

/** The job's clock: it moves only when a test moves it. */
function settableClock(): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = T0;
  return {
    now: () => new Date(now),
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('the payments job', () => {
  let scratch: ScratchPglite;
  let db: PrismaClient;
  let stripe: FakeStripe;
  let payments: PaymentProvider;
  let clock: ReturnType<typeof settableClock>;
  let sellerId: string;
  let winnerId: string;

  beforeAll(async () => {
    scratch = await scratchPglite('payments-job');
    db = scratch.db;
    stripe = await startFakeStripe();
    payments = createStripePayments({ secretKey: 'sk_test_job', webhookSecret: 'whsec_job', apiUrl: stripe.url });
    sellerId = await user('seller');
    winnerId = await user('winner');
  });
  afterAll(async () => {
    await stripe?.close();
    await scratch?.remove();
  });
  beforeEach(async () => {
    // Each test sees only its own payments due.
    await db.payment.deleteMany();
    clock = settableClock();
  });

  async function user(name: string): Promise<string> {
    const created = await db.user.create({ data: { email: `${name}-${randomUUID()}@example.com`, passwordHash: 'x', displayName: name } });
    return created.id;
  }

  async function endedAuction(title = 'Vintage camera'): Promise<string> {
    const endsAt = new Date(T0 - HOUR);
    const auction = await db.auction.create({
      data: {
        sellerId,
        title,
        description: 'A rangefinder',
        currency: 'EUR',
        startingPrice: 1000,
        currentPrice: 5000,
        startsAt: new Date(T0 - 48 * HOUR),
        endsAt,
        scheduledEndsAt: endsAt,
        endedAt: endsAt,
        state: 'ENDED',
        winnerId,
      },
    });
    return auction.id;
  }

  /** A payment as the bid persister records a sale: awaiting payment, due at once, no checkout yet. */
  async function soldPayment(overrides: { auctionId?: string; dueAt?: Date; title?: string } = {}) {
    const auctionId = overrides.auctionId ?? (await endedAuction(overrides.title));
    return db.payment.create({
      data: {
        auctionId,
        payerId: winnerId,
        amount: 5000,
        currency: 'EUR',
        status: 'REQUIRES_PAYMENT',
        dueAt: overrides.dueAt ?? new Date(T0 + 95 * HOUR),
        nextAttemptAt: new Date(T0),
      },
    });
  }

  const job = (overrides: Partial<PaymentsJobDeps> = {}) =>
    createPaymentsJob({ db, clock, logger, payments, publicUrl: PUBLIC_URL, retry: RETRY, ...overrides });
  const checkoutRequestsFor = (paymentId: string) =>
    stripe.requests.filter((request) => request.path === '/v1/checkout/sessions' && request.form.client_reference_id === paymentId);
  const reload = (id: string) => db.payment.findUniqueOrThrow({ where: { id } });

  it('opens a checkout for a sold auction with its title, price and return links, and comes back at the deadline', async () => {
    const payment = await soldPayment({ title: 'Brass telescope' });

    expect(await job().runOnce()).toEqual(['checkout']);

    const [request] = checkoutRequestsFor(payment.id);
    expect(request!.form).toMatchObject({
      'line_items[0][price_data][product_data][name]': 'Brass telescope',
      'line_items[0][price_data][unit_amount]': '5000',
      'line_items[0][price_data][currency]': 'eur',
      success_url: `${PUBLIC_URL}/auctions/${payment.auctionId}?payment=success`,
      cancel_url: `${PUBLIC_URL}/auctions/${payment.auctionId}?payment=cancelled`,
      'metadata[paymentId]': payment.id,
      customer_email: expect.stringMatching(/^winner-/),
    });
    const session = stripe.sessions.find((s) => s.form.client_reference_id === payment.id)!;
    expect(await reload(payment.id)).toMatchObject({
      status: 'REQUIRES_PAYMENT',
      providerSessionId: session.id,
      checkoutUrl: session.url,
      nextAttemptAt: payment.dueAt,
      attempts: 0,
    });
  });

  it('opens one checkout per payment when two jobs run at the same time', async () => {
    const sold = await Promise.all(Array.from({ length: 6 }, () => soldPayment()));
    const [first, second] = [job({ batchSize: 4 }), job({ batchSize: 4 })];

    const steps = await Promise.all([first.runOnce(), second.runOnce(), first.runOnce(), second.runOnce()]);

    expect(steps.flat().filter((step) => step === 'checkout')).toHaveLength(6);
    for (const payment of sold) {
      expect(checkoutRequestsFor(payment.id)).toHaveLength(1);
      expect((await reload(payment.id)).checkoutUrl).not.toBeNull();
    }
  });

  it('does not call Stripe again for a payment whose checkout is open', async () => {
    const payment = await soldPayment();
    await job().runOnce();
    clock.advance(HOUR);

    expect(await job().runOnce()).toEqual([]);
    expect(checkoutRequestsFor(payment.id)).toHaveLength(1);
  });

  it('retries a transient failure after a backoff, with the same idempotency key', async () => {
    const payment = await soldPayment();
    stripe.failNext(1, { status: 503 });

    await job().runOnce();
    const failed = await reload(payment.id);
    expect(failed).toMatchObject({ checkoutUrl: null, attempts: 1, failureReason: null });
    expect(failed.nextAttemptAt!.getTime()).toBeGreaterThan(T0);

    // Not due again until the backoff has passed.
    expect(await job().runOnce()).toEqual([]);
    clock.set(failed.nextAttemptAt!.getTime());
    expect(await job().runOnce()).toEqual(['checkout']);

    const requests = checkoutRequestsFor(payment.id);
    expect(requests.map((request) => request.idempotencyKey)).toEqual([`checkout-${payment.id}`, `checkout-${payment.id}`]);
    expect(await reload(payment.id)).toMatchObject({ attempts: 0, providerSessionId: expect.stringMatching(/^cs_test_/) });
  });

  it('stops retrying a checkout Stripe refuses, keeps the reason, and fails the payment at its deadline', async () => {
    const payment = await soldPayment();
    stripe.failNext(1, { status: 400, type: 'invalid_request_error', message: 'Invalid currency: zzz' });

    await job().runOnce();
    expect(await reload(payment.id)).toMatchObject({
      status: 'REQUIRES_PAYMENT',
      failureReason: expect.stringContaining('Invalid currency'),
      nextAttemptAt: payment.dueAt,
    });

    clock.set(payment.dueAt.getTime());
    expect(await job().runOnce()).toEqual(['overdue']);
    expect(checkoutRequestsFor(payment.id)).toHaveLength(1);
    expect(await reload(payment.id)).toMatchObject({ status: 'FAILED', failureReason: 'unpaid by the deadline' });
  });

  it('refunds a succeeded payment whose sale was cancelled, once', async () => {
    const payment = await soldPayment();
    await db.payment.update({
      where: { id: payment.id },
      data: { status: 'SUCCEEDED', providerPaymentIntent: 'pi_test_refund_me', refundRequestedAt: new Date(T0), nextAttemptAt: new Date(T0) },
    });

    expect(await job().runOnce()).toEqual(['refund']);
    expect(await job().runOnce()).toEqual([]);

    const refunds = stripe.refunds.filter((refund) => refund.form['metadata[paymentId]'] === payment.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.form.payment_intent).toBe('pi_test_refund_me');
    expect(await reload(payment.id)).toMatchObject({ status: 'REFUNDED', providerRefundId: refunds[0]!.id, nextAttemptAt: null });
  });

  it('keeps a refund Stripe refuses for a person to make, with the reason, and does not retry it', async () => {
    const payment = await soldPayment();
    await db.payment.update({
      where: { id: payment.id },
      data: { status: 'SUCCEEDED', providerPaymentIntent: 'pi_test_disputed', refundRequestedAt: new Date(T0), nextAttemptAt: new Date(T0) },
    });
    stripe.failNext(1, { status: 400, type: 'invalid_request_error', code: 'charge_disputed', message: 'Charge has been disputed' });

    await job().runOnce();
    clock.advance(24 * HOUR);
    expect(await job().runOnce()).toEqual([]);
    expect(await reload(payment.id)).toMatchObject({ status: 'SUCCEEDED', failureReason: expect.stringContaining('disputed'), nextAttemptAt: null });
  });

  it('expires the open checkout and fails the payment when its sale is cancelled', async () => {
    const payment = await soldPayment();
    await job().runOnce();
    const { providerSessionId } = await reload(payment.id);
    // What cancelling the sale does to its payment.
    clock.advance(HOUR);
    await db.payment.update({ where: { id: payment.id }, data: { refundRequestedAt: clock.now(), nextAttemptAt: clock.now() } });

    expect(await job().runOnce()).toEqual(['cancel']);

    expect(stripe.requests.at(-1)).toMatchObject({ path: `/v1/checkout/sessions/${providerSessionId}/expire` });
    expect(stripe.sessions.find((session) => session.id === providerSessionId)!.status).toBe('expired');
    expect(await reload(payment.id)).toMatchObject({ status: 'FAILED', failureReason: 'sale cancelled', checkoutUrl: null, nextAttemptAt: null });
  });

  it('fails a cancelled sale whose checkout was never opened without calling Stripe', async () => {
    const payment = await soldPayment();
    await db.payment.update({ where: { id: payment.id }, data: { refundRequestedAt: new Date(T0) } });
    const before = stripe.requests.length;

    expect(await job().runOnce()).toEqual(['cancel']);
    expect(stripe.requests.length).toBe(before);
    expect(await reload(payment.id)).toMatchObject({ status: 'FAILED', failureReason: 'sale cancelled' });
  });

  it('fails a payment unpaid by its deadline, records the runner-up and tells the seller', async () => {
    const payment = await soldPayment();
    const [bob, carol] = [await user('bob'), await user('carol')];
    let seq = 0;
    for (const [bidderId, amount] of [[bob, 3000], [carol, 4500], [winnerId, 4600], [bob, 4500], [winnerId, 5000]] as const) {
      seq += 1;
      await db.bid.create({
        data: { id: randomUUID(), auctionId: payment.auctionId, bidderId, amount, seq, idempotencyKey: `key-${seq}`, placedAt: new Date(T0 - 2 * HOUR + seq) },
      });
    }
    await job().runOnce();
    const { providerSessionId } = await reload(payment.id);
    const told: OverduePayment[] = [];

    clock.set(payment.dueAt.getTime());
    expect(await job({ onPaymentOverdue: async (overdue) => void told.push(overdue) }).runOnce()).toEqual(['overdue']);

    expect(stripe.sessions.find((session) => session.id === providerSessionId)!.status).toBe('expired');
    expect(await reload(payment.id)).toMatchObject({
      status: 'FAILED',
      failureReason: 'unpaid by the deadline',
      checkoutUrl: null,
      runnerUpId: carol,
      runnerUpAmount: 4500,
      nextAttemptAt: null,
    });
    expect(told).toEqual([
      {
        paymentId: payment.id,
        auctionId: payment.auctionId,
        sellerId,
        payerId: winnerId,
        amount: 5000,
        currency: 'EUR',
        dueAt: payment.dueAt,
        runnerUpId: carol,
        runnerUpAmount: 4500,
      },
    ]);
  });

  it('records no runner-up when nobody else bid', async () => {
    const payment = await soldPayment({ dueAt: new Date(T0) });

    expect(await job().runOnce()).toEqual(['overdue']);
    expect(await reload(payment.id)).toMatchObject({ status: 'FAILED', runnerUpId: null, runnerUpAmount: null });
  });

  it('tells the seller again after a failed attempt, until it succeeds', async () => {
    const payment = await soldPayment({ dueAt: new Date(T0) });
    const onPaymentOverdue = vi.fn<(overdue: OverduePayment) => Promise<void>>().mockRejectedValueOnce(new Error('the notices table is locked'));

    await job({ onPaymentOverdue }).runOnce();
    const afterFailure = await reload(payment.id);
    expect(afterFailure).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(afterFailure.nextAttemptAt).not.toBeNull();

    clock.set(afterFailure.nextAttemptAt!.getTime());
    expect(await job({ onPaymentOverdue }).runOnce()).toEqual(['tell-seller']);
    expect(onPaymentOverdue).toHaveBeenCalledTimes(2);
    expect(onPaymentOverdue.mock.calls[1]![0]).toMatchObject({ paymentId: payment.id, sellerId });
    expect(await reload(payment.id)).toMatchObject({ status: 'FAILED', nextAttemptAt: null, attempts: 0 });
  });

  it('opens a new checkout under a new key when the first expired before the deadline', async () => {
    const payment = await soldPayment();
    await job().runOnce();
    const first = await reload(payment.id);
    clock.advance(24 * HOUR);
    await recordPaymentEvent(
      { db, clock },
      { type: 'checkout.expired', eventId: 'evt_expired', providerType: 'checkout.session.expired', paymentId: payment.id, sessionId: first.providerSessionId! },
    );

    expect(await job().runOnce()).toEqual(['checkout']);

    const renewed = await reload(payment.id);
    expect(renewed.providerSessionId).not.toBe(first.providerSessionId);
    expect(renewed.checkoutUrl).not.toBeNull();
    expect(checkoutRequestsFor(payment.id).map((request) => request.idempotencyKey)).toEqual([
      `checkout-${payment.id}`,
      `checkout-${payment.id}-after-${first.providerSessionId}`,
    ]);
  });

  it('works through due payments in the background until stopped', async () => {
    const payment = await soldPayment();
    const running = job({ intervalMs: 10 });
    running.start();
    try {
      await vi.waitFor(async () => expect((await reload(payment.id)).checkoutUrl).not.toBeNull(), { timeout: 10_000 });
    } finally {
      await running.stop();
    }
    expect(checkoutRequestsFor(payment.id)).toHaveLength(1);
  });
});

describe('payment retry backoff', () => {
  const retry = { firstDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 10 };

  it('doubles from the first delay, between half and all of it', () => {
    expect(backoffMs(retry, 0, () => 0)).toBe(500);
    expect(backoffMs(retry, 0, () => 1)).toBe(1_000);
    expect(backoffMs(retry, 3, () => 1)).toBe(8_000);
  });

  it('never waits longer than the cap', () => {
    expect(backoffMs(retry, 20, () => 1)).toBe(60_000);
    expect(backoffMs(retry, 1_000, () => 1)).toBe(60_000);
  });
});
