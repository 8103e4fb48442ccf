import type { ServiceDeps } from '../deps.js';
import type { PaymentEvent } from '../../ports/payments.js';

/** What became of a webhook event: it moved a payment, found it already there, or was not ours to record. */
export type PaymentEventOutcome = 'RECORDED' | 'UNCHANGED' | 'UNKNOWN_PAYMENT' | 'IGNORED';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records what the provider reports on a payment. Deliveries repeat and arrive in any order, so
 * each change applies only from the states it may follow: a replayed or late "paid" never moves a
 * refunded payment back, and an old checkout's expiry never touches its replacement. Throws on
 * database errors, so that the provider delivers the event again.
 */
export async function recordPaymentEvent(deps: Pick<ServiceDeps, 'db' | 'clock'>, event: PaymentEvent): Promise<PaymentEventOutcome> {
  if (event.type === 'ignored') return 'IGNORED';
  // A declined card leaves the checkout open for another try: not a failed payment.
  if (event.type === 'payment.failed') return 'IGNORED';
  if (event.type === 'refunded' && !event.full) return 'IGNORED';
  if (event.type === 'checkout.completed' && !event.paid) {
    // Paid later (a bank debit): payment_intent.succeeded says when. Until then, only the intent is news.
    const id = await findPayment(deps, event);
    if (!id) return 'UNKNOWN_PAYMENT';
    if (!event.paymentIntentId) return 'UNCHANGED';
    const changed = await deps.db.$executeRaw`
      UPDATE payments SET provider_payment_intent = ${event.paymentIntentId}, updated_at = now()
      WHERE id = ${id}::uuid AND status = 'REQUIRES_PAYMENT' AND provider_payment_intent IS NULL`;
    return changed > 0 ? 'RECORDED' : 'UNCHANGED';
  }

  const id = await findPayment(deps, event);
  if (!id) return 'UNKNOWN_PAYMENT';
  const now = deps.clock.now().toISOString();
  let changed: number;
  switch (event.type) {
    case 'checkout.completed':
    case 'payment.succeeded': {
      const intent = event.paymentIntentId;
      // From FAILED too: the money was taken whatever we had decided, so it is recorded, and since
      // the sale is off (cancelled, or unpaid by the deadline), the payments job refunds it.
      changed = await deps.db.$executeRaw`
        UPDATE payments SET
          status = 'SUCCEEDED',
          provider_payment_intent = COALESCE(${intent}, provider_payment_intent),
          failure_reason = CASE WHEN status = 'FAILED' THEN failure_reason ELSE NULL END,
          refund_requested_at = CASE WHEN status = 'FAILED' THEN COALESCE(refund_requested_at, ${now}::timestamptz) ELSE refund_requested_at END,
          next_attempt_at = CASE WHEN status = 'FAILED' OR refund_requested_at IS NOT NULL THEN ${now}::timestamptz ELSE NULL END,
          attempts = 0,
          updated_at = now()
        WHERE id = ${id}::uuid AND status IN ('REQUIRES_PAYMENT', 'FAILED')`;
      break;
    }
    case 'checkout.expired':
      // Checkouts last 24 hours, the deadline longer: the payments job opens another, or fails the
      // payment if its deadline has passed or its sale was cancelled.
      changed = await deps.db.$executeRaw`
        UPDATE payments SET checkout_url = NULL, attempts = 0, next_attempt_at = ${now}::timestamptz, updated_at = now()
        WHERE id = ${id}::uuid AND status = 'REQUIRES_PAYMENT' AND provider_session_id = ${event.sessionId} AND checkout_url IS NOT NULL`;
      break;
    case 'refunded':
      changed = await deps.db.$executeRaw`
        UPDATE payments SET
          status = 'REFUNDED', provider_refund_id = COALESCE(provider_refund_id, ${event.refundId}),
          attempts = 0, next_attempt_at = NULL, updated_at = now()
        WHERE id = ${id}::uuid AND status = 'SUCCEEDED'`;
      break;
  }
  return changed > 0 ? 'RECORDED' : 'UNCHANGED';
}

/** The payment an event is about: by the id we gave the provider, else by the provider's own ids. */
async function findPayment(
  deps: Pick<ServiceDeps, 'db'>,
  event: { paymentId: string | null; sessionId?: string; paymentIntentId?: string | null },
): Promise<string | null> {
  const paymentId = event.paymentId && UUID.test(event.paymentId) ? event.paymentId : null;
  const sessionId = event.sessionId ?? null;
  const intentId = event.paymentIntentId ?? null;
  const rows = await deps.db.$queryRaw<Array<{ id: string }>>`
    SELECT id::text AS id FROM payments
    WHERE id = ${paymentId}::uuid OR provider_session_id = ${sessionId} OR provider_payment_intent = ${intentId}
    ORDER BY (id = ${paymentId}::uuid) DESC NULLS LAST
    LIMIT 1`;
  return rows[0]?.id ?? null;
}
