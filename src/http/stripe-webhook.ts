import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { ServiceDeps } from '../services/deps.js';
import { InvalidWebhookError, type PaymentProvider } from '../ports/payments.js';
import { recordPaymentEvent } from '../services/payments/record-payment-event.js';

export interface StripeWebhookDeps extends Pick<ServiceDeps, 'db' | 'clock'> {
  /** Null when Stripe is not configured: every delivery is then refused. */
  payments: PaymentProvider | null;
  logger: Logger;
}

/** Stripe's event deliveries, `POST /stripe`; mounted under `/webhooks`. */
export function createStripeWebhookRouter({ db, clock, payments, logger: parent }: StripeWebhookDeps): Router {
  const logger = parent.child({ component: 'stripe-webhook' });
  const router = express.Router();

  // The signature covers the bytes as sent: the body must reach the check unparsed.
  router.post('/stripe', express.raw({ type: 'application/json', limit: '1mb' }), async (req, res) => {
    if (!payments) {
      res.status(404).json({ error: 'Stripe is not configured on this server (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET)' });
      return;
    }
    const body: unknown = req.body;
    let event;
    try {
      if (!Buffer.isBuffer(body)) throw new InvalidWebhookError('the body is not application/json');
      event = payments.verifyWebhook(body, req.header('stripe-signature'));
    } catch (error) {
      if (!(error instanceof InvalidWebhookError)) throw error;
      logger.warn({ reason: error.message, hasSignature: Boolean(req.header('stripe-signature')) }, 'refused an unsigned, forged or stale Stripe event');
      res.status(400).json({ error: `invalid Stripe event: ${error.message}` });
      return;
    }
    const context = { eventId: event.eventId, eventType: event.providerType, paymentId: event.paymentId };
    try {
      const outcome = await recordPaymentEvent({ db, clock }, event);
      if (outcome === 'UNKNOWN_PAYMENT') logger.warn(context, 'Stripe event for no payment of ours; acknowledged');
      else logger.debug({ ...context, outcome }, 'Stripe event recorded');
    } catch (error) {
      // A 5xx makes Stripe deliver the event again, with backoff, for up to three days.
      logger.error({ err: error, ...context }, 'recording a Stripe event failed');
      res.status(500).json({ error: 'the event could not be recorded; deliver it again' });
      return;
    }
    res.status(200).json({ received: true });
  });

  return router;
}
