import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripePayments } from '../../src/adapters/stripe/stripe-payments.js';
import { InvalidWebhookError, PaymentProviderError, type CheckoutRequest, type PaymentProvider } from '../../src/ports/payments.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

const SECRET_KEY = 'sk_test_payments_adapter';
const WEBHOOK_SECRET = 'whsec_payments_adapter';

function checkoutFor(paymentId = randomUUID()): CheckoutRequest {
  const auctionId = randomUUID();
  return {
    paymentId,
    auctionId,
    title: 'Vintage camera',
    amount: 12_345,
    currency: 'EUR',
    successUrl: `https://auctions.example.com/auctions/${auctionId}?payment=success`,
    cancelUrl: `https://auctions.example.com/auctions/${auctionId}?payment=cancelled`,
    customerEmail: 'alice@example.com',
  };
}

/** What the provider threw, so a test can look at its kind. */
async function failureOf(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

describe('the Stripe payments adapter', () => {
  let stripe: FakeStripe;
  let payments: PaymentProvider;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    payments = createStripePayments({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiUrl: stripe.url });
  });
  afterAll(() => stripe?.close());

  const requestsFor = (path: string) => stripe.requests.filter((request) => request.path === path);

  it('opens a checkout for the auction with its price, currency, title, return URLs and payment metadata', async () => {
    const request = checkoutFor();
    const checkout = await payments.createCheckout(request);

    const sent = stripe.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions', apiKey: SECRET_KEY, idempotencyKey: `checkout-${request.paymentId}` });
    expect(sent.form).toMatchObject({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'eur',
      'line_items[0][price_data][unit_amount]': '12345',
      'line_items[0][price_data][product_data][name]': 'Vintage camera',
      success_url: request.successUrl,
      cancel_url: request.cancelUrl,
      client_reference_id: request.paymentId,
      customer_email: 'alice@example.com',
      'metadata[auctionId]': request.auctionId,
      'metadata[paymentId]': request.paymentId,
      'payment_intent_data[metadata][auctionId]': request.auctionId,
      'payment_intent_data[metadata][paymentId]': request.paymentId,
    });
    const session = stripe.sessions.at(-1)!;
    expect(checkout.sessionId).toBe(session.id);
    expect(checkout.url).toBe(session.url);
    expect(checkout.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('sends the same idempotency key when a checkout is asked for again, and so opens only one', async () => {
    const request = checkoutFor();
    const before = stripe.sessions.length;
    stripe.failNext(1, { status: 500 });
    const failure = await failureOf(payments.createCheckout(request));
    const first = await payments.createCheckout(request);
    const second = await payments.createCheckout(request);

    expect(failure.permanent).toBe(false);
    const keys = requestsFor('/v1/checkout/sessions').slice(-3).map((sent) => sent.idempotencyKey);
    expect(keys).toEqual([`checkout-${request.paymentId}`, `checkout-${request.paymentId}`, `checkout-${request.paymentId}`]);
    expect(second.sessionId).toBe(first.sessionId);
    expect(stripe.sessions.length).toBe(before + 1);
  });

  it('opens a new checkout under a new key when it replaces an expired one', async () => {
    const request = checkoutFor();
    const first = await payments.createCheckout(request);
    const replacement = await payments.createCheckout({ ...request, replacesSessionId: first.sessionId });

    expect(replacement.sessionId).not.toBe(first.sessionId);
    expect(stripe.requests.at(-1)!.idempotencyKey).toBe(`checkout-${request.paymentId}-after-${first.sessionId}`);
  });

  it('refunds the payment intent in full under a key of its payment, once however often it is asked', async () => {
    const paymentId = randomUUID();
    const before = stripe.refunds.length;
    const first = await payments.refund({ paymentId, paymentIntentId: 'pi_test_123' });
    const again = await payments.refund({ paymentId, paymentIntentId: 'pi_test_123' });

    const sent = requestsFor('/v1/refunds').slice(-2);
    expect(sent.map((request) => request.idempotencyKey)).toEqual([`refund-${paymentId}`, `refund-${paymentId}`]);
    expect(sent[0]!.form).toEqual({ payment_intent: 'pi_test_123', 'metadata[paymentId]': paymentId });
    expect(again.refundId).toBe(first.refundId);
    expect(stripe.refunds.length).toBe(before + 1);
  });

  it('expires an open checkout', async () => {
    const { sessionId } = await payments.createCheckout(checkoutFor());
    await payments.expireCheckout(sessionId);

    expect(stripe.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/checkout/sessions/${sessionId}/expire` });
    expect(stripe.sessions.find((session) => session.id === sessionId)!.status).toBe('expired');
  });

  it('reports expiring a checkout that is no longer open as a permanent failure', async () => {
    const { sessionId } = await payments.createCheckout(checkoutFor());
    stripe.complete(sessionId);

    const failure = await failureOf(payments.expireCheckout(sessionId));
    expect(failure).toMatchObject({ permanent: true, status: 400 });
  });

  it.each([
    [{ status: 500 }, false],
    [{ status: 503 }, false],
    [{ status: 429, type: 'invalid_request_error', code: 'rate_limit' }, false],
    [{ status: 409, type: 'idempotency_error', code: 'idempotency_key_in_use' }, false],
    [{ status: 400, type: 'invalid_request_error', code: 'parameter_invalid_integer' }, true],
    [{ status: 401, type: 'invalid_request_error' }, true],
    [{ status: 404, type: 'invalid_request_error', code: 'resource_missing' }, true],
  ])('maps Stripe answering %j to a failure that is permanent: %s', async (failure, permanent) => {
    stripe.failNext(1, failure);
    const error = await failureOf(payments.createCheckout(checkoutFor()));
    expect(error).toMatchObject({ permanent, status: failure.status });
  });

  it('maps a connection that drops without an answer to a transient failure', async () => {
    // The SDK sends once more on its own after a dropped connection, even with its retries off.
    stripe.failNext(2, 'reset');
    const error = await failureOf(payments.createCheckout(checkoutFor()));
    expect(error.permanent).toBe(false);
    expect(error.status).toBeUndefined();
  });

  it('maps a refused connection to a transient failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = createStripePayments({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiUrl: `http://127.0.0.1:${port}` });

    const error = await failureOf(unreachable.refund({ paymentId: randomUUID(), paymentIntentId: 'pi_test_1' }));
    expect(error.permanent).toBe(false);
  });

  it('refuses an API URL with a path, since the SDK keeps its own', () => {
    expect(() => createStripePayments({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiUrl: `${stripe.url}/stripe` })).toThrow(/origin only/);
  });
});

describe('Stripe webhook verification', () => {
  const payments = createStripePayments({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET });

  function signed(event: object, options: { secret?: string; timestamp?: number } = {}) {
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
    return { body: Buffer.from(payload), header };
  }

  const completed = (paymentId: string) => ({
    id: 'evt_completed',
    object: 'event',
    type: 'checkout.session.completed',
    data: {
      object: {
        id: 'cs_test_1',
        object: 'checkout.session',
        payment_status: 'paid',
        payment_intent: 'pi_test_1',
        client_reference_id: paymentId,
        metadata: { paymentId, auctionId: randomUUID() },
      },
    },
  });

  it('reads a signed checkout.session.completed as a completed, paid checkout of its payment', () => {
    const paymentId = randomUUID();
    const { body, header } = signed(completed(paymentId));
    expect(payments.verifyWebhook(body, header)).toEqual({
      type: 'checkout.completed',
      eventId: 'evt_completed',
      providerType: 'checkout.session.completed',
      paymentId,
      sessionId: 'cs_test_1',
      paymentIntentId: 'pi_test_1',
      paid: true,
    });
  });

  it('reads a charge.refunded in full as a refund of its payment intent', () => {
    const charge = { id: 'ch_1', object: 'charge', payment_intent: 'pi_test_2', refunded: true, metadata: {}, refunds: { object: 'list', data: [{ id: 're_1' }] } };
    const { body, header } = signed({ id: 'evt_refunded', object: 'event', type: 'charge.refunded', data: { object: charge } });
    expect(payments.verifyWebhook(body, header)).toMatchObject({ type: 'refunded', paymentIntentId: 'pi_test_2', refundId: 're_1', full: true });
  });

  it('reads an event type it does not handle as ignored', () => {
    const { body, header } = signed({ id: 'evt_other', object: 'event', type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } });
    expect(payments.verifyWebhook(body, header)).toMatchObject({ type: 'ignored', providerType: 'customer.created' });
  });

  it('refuses a body signed with another secret, a changed body, a missing header and an old timestamp', () => {
    const event = completed(randomUUID());
    const forged = signed(event, { secret: 'whsec_someone_else' });
    const genuine = signed(event);
    const changed = Buffer.from(genuine.body.toString().replace('"paid"', '"unpaid"'));
    const stale = signed(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });

    expect(() => payments.verifyWebhook(forged.body, forged.header)).toThrow(InvalidWebhookError);
    expect(() => payments.verifyWebhook(changed, genuine.header)).toThrow(InvalidWebhookError);
    expect(() => payments.verifyWebhook(genuine.body, undefined)).toThrow(InvalidWebhookError);
    expect(() => payments.verifyWebhook(stale.body, stale.header)).toThrow(InvalidWebhookError);
  });
});
