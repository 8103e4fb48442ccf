import Stripe from 'stripe';
import { InvalidWebhookError, PaymentProviderError, type Checkout, type CheckoutRequest, type PaymentEvent, type PaymentProvider } from '../../ports/payments.js';

export interface StripePaymentsOptions {
  secretKey: string;
  /** The endpoint's signing secret (whsec_...), from the dashboard or `stripe listen`. */
  webhookSecret: string;
  /** Where every request goes instead of api.stripe.com: a proxy or a test server (origin only). */
  apiUrl?: string;
  /** How long one request may take before it counts as a (transient) failure. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/** Checkouts, refunds and webhook verification on Stripe's API, through the official SDK. */
export function createStripePayments(options: StripePaymentsOptions): PaymentProvider {
  const stripe = new Stripe(options.secretKey, {
    // Retries are the payments job's: it spaces them out and keeps the idempotency keys stable.
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    telemetry: false,
    ...(options.apiUrl ? apiAddress(options.apiUrl) : {}),
  });

  return {
    createCheckout: async (request: CheckoutRequest): Promise<Checkout> => {
      const metadata = { auctionId: request.auctionId, paymentId: request.paymentId };
      const idempotencyKey = request.replacesSessionId
        ? `checkout-${request.paymentId}-after-${request.replacesSessionId}`
        : `checkout-${request.paymentId}`;
      try {
        // Nothing here may depend on when it is sent: a retry under the same key must send the same
        // parameters, or Stripe refuses it. expires_at is left to Stripe (24 hours).
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'payment',
            line_items: [
              {
                quantity: 1,
                price_data: { currency: request.currency.toLowerCase(), unit_amount: request.amount, product_data: { name: request.title } },
              },
            ],
            success_url: request.successUrl,
            cancel_url: request.cancelUrl,
            client_reference_id: request.paymentId,
            metadata,
            payment_intent_data: { metadata },
            ...(request.customerEmail ? { customer_email: request.customerEmail } : {}),
          },
          { idempotencyKey },
        );
        if (!session.url) throw new PaymentProviderError(`Stripe opened checkout ${session.id} without a hosted page URL`, true);
        return { sessionId: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
      } catch (error) {
        throw toProviderError(error);
      }
    },

    expireCheckout: async (sessionId: string) => {
      try {
        await stripe.checkout.sessions.expire(sessionId);
      } catch (error) {
        throw toProviderError(error);
      }
    },

    refund: async ({ paymentId, paymentIntentId }) => {
      try {
        const refund = await stripe.refunds.create(
          { payment_intent: paymentIntentId, metadata: { paymentId } },
          { idempotencyKey: `refund-${paymentId}` },
        );
        if (refund.status === 'failed' || refund.status === 'canceled') {
          throw new PaymentProviderError(`Stripe refund ${refund.id} is ${refund.status}${refund.failure_reason ? ` (${refund.failure_reason})` : ''}`, true);
        }
        return { refundId: refund.id };
      } catch (error) {
        throw toProviderError(error);
      }
    },

    verifyWebhook: (rawBody: Buffer, signatureHeader: string | undefined): PaymentEvent => {
      if (!signatureHeader) throw new InvalidWebhookError('no Stripe-Signature header');
      let event: Stripe.Event;
      try {
        // The default tolerance (300 s) refuses a replay of an old delivery, signature and all.
        event = stripe.webhooks.constructEvent(rawBody, signatureHeader, options.webhookSecret);
      } catch (error) {
        throw new InvalidWebhookError(error instanceof Error ? error.message : String(error));
      }
      return toPaymentEvent(event);
    },
  };
}

/** The SDK takes an origin as host, port and protocol rather than as a URL. */
function apiAddress(apiUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`STRIPE_API_URL must be http:// or https://, got ${url.protocol}`);
  if (url.pathname !== '/' || url.search) throw new Error('STRIPE_API_URL must be an origin only: Stripe requests keep their own /v1 paths');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}

/** What the provider's metadata or client reference says our payment is. */
const paymentIdOf = (metadata: Stripe.Metadata | null | undefined, reference?: string | null): string | null =>
  metadata?.paymentId ?? reference ?? null;

const idOf = (value: string | { id: string } | null | undefined): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

function toPaymentEvent(event: Stripe.Event): PaymentEvent {
  const base = { eventId: event.id, providerType: event.type };
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      return {
        ...base,
        type: 'checkout.completed',
        paymentId: paymentIdOf(session.metadata, session.client_reference_id),
        sessionId: session.id,
        paymentIntentId: idOf(session.payment_intent),
        paid: session.payment_status === 'paid',
      };
    }
    case 'checkout.session.expired': {
      const session = event.data.object;
      return { ...base, type: 'checkout.expired', paymentId: paymentIdOf(session.metadata, session.client_reference_id), sessionId: session.id };
    }
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      return { ...base, type: 'payment.succeeded', paymentId: paymentIdOf(intent.metadata), paymentIntentId: intent.id };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      return {
        ...base,
        type: 'payment.failed',
        paymentId: paymentIdOf(intent.metadata),
        paymentIntentId: intent.id,
        reason: intent.last_payment_error?.message ?? null,
      };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      return {
        ...base,
        type: 'refunded',
        paymentId: paymentIdOf(charge.metadata),
        paymentIntentId: idOf(charge.payment_intent),
        // Recent API versions leave the refunds list out of the charge; the id is then unknown here.
        refundId: charge.refunds?.data?.[0]?.id ?? null,
        full: charge.refunded,
      };
    }
    default:
      return { ...base, type: 'ignored', paymentId: null };
  }
}

/**
 * Stripe answered with an HTTP error, or the request got no answer. Throttling (429), a concurrent
 * request under the same idempotency key (409) and Stripe's own failures pass; any other refusal
 * would be refused again. With no answer the request may or may not have been handled, which the
 * idempotency key makes safe to retry.
 */
function toProviderError(error: unknown): PaymentProviderError {
  if (error instanceof PaymentProviderError) return error;
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode;
    if (typeof status === 'number') {
      const transient = status === 429 || status === 409 || status >= 500;
      return new PaymentProviderError(`Stripe answered HTTP ${status}${error.code ? ` (${error.code})` : ''}: ${error.message}`, !transient, status, error.code);
    }
    return new PaymentProviderError(`Stripe could not be reached: ${error.message}`, false);
  }
  return new PaymentProviderError(`Stripe could not be reached: ${error instanceof Error ? error.message : String(error)}`, false);
}
