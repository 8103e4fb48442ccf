/** What the payer is asked to pay for one ended auction; amounts in minor units. */
export interface CheckoutRequest {
  paymentId: string;
  auctionId: string;
  title: string;
  amount: number;
  /** ISO 4217, as the auction stores it. */
  currency: string;
  successUrl: string;
  cancelUrl: string;
  customerEmail?: string;
  /**
   * The payment's previous checkout, when it expired before the deadline and a new one is opened:
   * it takes part in the idempotency key, so the replacement is a new checkout and its retries are not.
   */
  replacesSessionId?: string | null;
}

export interface Checkout {
  sessionId: string;
  /** Where the payer completes the payment. */
  url: string;
  expiresAt: Date;
}

/**
 * A provider refused or failed a request. `permanent` ones would be refused again (a bad request, a
 * revoked key); the others (no answer, the provider's own failures, throttling, a concurrent request
 * with the same idempotency key) may be retried with the same request.
 */
export class PaymentProviderError extends Error {
  override name = 'PaymentProviderError';
  constructor(
    message: string,
    readonly permanent: boolean,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
    /** The provider's own error code (Stripe: resource_missing, idempotency_key_in_use, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A webhook delivery whose signature is missing, forged or too old: nothing in it may be trusted. */
export class InvalidWebhookError extends Error {
  override name = 'InvalidWebhookError';
}

/** Fields every event carries: the provider's event id and type, for logs. */
interface EventBase {
  eventId: string;
  providerType: string;
  /** Our payment id, when the provider echoed it back (metadata or the client reference). */
  paymentId: string | null;
}

/**
 * What a verified webhook reports, in the terms of this service. Events are delivered at least once
 * and in any order; whoever records them must make duplicates and stale ones harmless.
 */
export type PaymentEvent =
  /** The payer finished a checkout; `paid` is false for payment methods that settle later. */
  | (EventBase & { type: 'checkout.completed'; sessionId: string; paymentIntentId: string | null; paid: boolean })
  /** A checkout closed unpaid: its link no longer works. */
  | (EventBase & { type: 'checkout.expired'; sessionId: string })
  | (EventBase & { type: 'payment.succeeded'; paymentIntentId: string })
  /** One attempt failed (a declined card); the checkout stays open for another. */
  | (EventBase & { type: 'payment.failed'; paymentIntentId: string; reason: string | null })
  /** Money went back to the payer; `full` when all of it has. */
  | (EventBase & { type: 'refunded'; paymentIntentId: string | null; refundId: string | null; full: boolean })
  /** Anything else the provider sends: acknowledged and ignored. */
  | (EventBase & { type: 'ignored' });

/** Takes payments for ended auctions (Stripe in production; absent when no provider is configured). */
export interface PaymentProvider {
  /**
   * Opens a hosted checkout. The idempotency key comes from the payment id, so a retry, even by
   * another process after a lost answer, returns the same checkout rather than opening a second.
   * Throws PaymentProviderError.
   */
  createCheckout(request: CheckoutRequest): Promise<Checkout>;
  /** Closes an open checkout so that it can no longer be paid; throws PaymentProviderError. */
  expireCheckout(sessionId: string): Promise<void>;
  /** Refunds a payment in full, at most once per payment; throws PaymentProviderError. */
  refund(request: { paymentId: string; paymentIntentId: string }): Promise<{ refundId: string }>;
  /** Checks a webhook delivery's signature over its raw bytes and reads it; throws InvalidWebhookError. */
  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): PaymentEvent;
}
