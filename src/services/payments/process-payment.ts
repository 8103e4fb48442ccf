import type { Logger } from 'pino';
import type { ServiceDeps } from '../deps.js';
import { PaymentProviderError, type PaymentProvider } from '../../ports/payments.js';
import {
  FAILURE_REASON,
  findRunnerUp,
  giveUp,
  recordCheckout,
  recordFailed,
  recordRefunded,
  rescheduleAt,
  retryLater,
  type ClaimedPayment,
  type RunnerUp,
} from './payment-rows.js';

/** A winner's payment that was not made by its deadline, as the seller's notice needs it. */
export interface OverduePayment {
  paymentId: string;
  auctionId: string;
  sellerId: string;
  payerId: string;
  /** What the winner owed, in minor units of `currency`. */
  amount: number;
  currency: string;
  dueAt: Date;
  /** The highest bidder after the winner, if any, for a second-chance offer. */
  runnerUpId: string | null;
  runnerUpAmount: number | null;
}

/** How transient provider failures are spaced: doubling from the first delay up to the cap, with jitter. */
export interface PaymentRetry {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Failures of one step after which it is given up as if permanent. */
  maxAttempts: number;
}

// About 3.5 hours of retrying, most of it at the cap: a Stripe outage is waited out, a poison row is not kept forever.
export const DEFAULT_PAYMENT_RETRY: PaymentRetry = { firstDelayMs: 5_000, maxDelayMs: 15 * 60_000, maxAttempts: 20 };

export interface ProcessPaymentDeps extends Pick<ServiceDeps, 'db'> {
  payments: PaymentProvider;
  /** The public origin, for the checkout's return links. */
  publicUrl: string;
  retry: PaymentRetry;
  logger: Logger;
  /**
   * Tells the seller that the winner did not pay in time. Called after the payment is recorded
   * FAILED, and again (with backoff) until it resolves, so it must be harmless to repeat.
   */
  onPaymentOverdue?: (payment: OverduePayment) => Promise<void>;
}

/** What the job did with one claimed payment. */
export type PaymentStep = 'checkout' | 'refund' | 'cancel' | 'overdue' | 'tell-seller' | 'none';

/** The one step a claimed payment is due for at `now`; cancellation and the deadline come before a new checkout. */
export function stepFor(payment: ClaimedPayment, now: Date): PaymentStep {
  switch (payment.status) {
    case 'SUCCEEDED':
      return payment.refundRequestedAt && !payment.providerRefundId ? 'refund' : 'none';
    case 'FAILED':
      return payment.failureReason === FAILURE_REASON.overdue ? 'tell-seller' : 'none';
    case 'REQUIRES_PAYMENT':
      if (payment.refundRequestedAt) return 'cancel';
      if (payment.dueAt.getTime() <= now.getTime()) return 'overdue';
      return payment.checkoutUrl ? 'none' : 'checkout';
    default:
      return 'none';
  }
}

/**
 * Takes one claimed payment one step further: opens its checkout, refunds it, fails it when the sale
 * was cancelled or the deadline passed, or tells the seller. Provider failures are recorded (retried
 * later, or given up); database errors are thrown, and the row is tried again once its claim lapses.
 */
export async function processPayment(deps: ProcessPaymentDeps, payment: ClaimedPayment, now: Date): Promise<PaymentStep> {
  const step = stepFor(payment, now);
  const log = deps.logger.child({ paymentId: payment.id, auctionId: payment.auctionId, step });
  switch (step) {
    case 'checkout':
      await openCheckout(deps, payment, now, log);
      break;
    case 'refund':
      await refund(deps, payment, now, log);
      break;
    case 'cancel':
    case 'overdue':
      await fail(deps, payment, step, now, log);
      break;
    case 'tell-seller':
      await tellSeller(deps, payment, now, log);
      break;
    case 'none':
      // Awaiting the payer: back at the deadline. Anything else has nothing left to do.
      await rescheduleAt(deps.db, payment, payment.status === 'REQUIRES_PAYMENT' ? payment.dueAt : null);
      break;
  }
  return step;
}

async function openCheckout(deps: ProcessPaymentDeps, payment: ClaimedPayment, now: Date, log: Logger): Promise<void> {
  const link = `${deps.publicUrl.replace(/\/+$/, '')}/auctions/${payment.auctionId}`;
  const result = await attempt(deps, payment, () =>
    deps.payments.createCheckout({
      paymentId: payment.id,
      auctionId: payment.auctionId,
      title: payment.title,
      amount: payment.amount,
      currency: payment.currency,
      successUrl: `${link}?payment=success`,
      cancelUrl: `${link}?payment=cancelled`,
      customerEmail: payment.payerEmail,
      // Set only when an earlier checkout expired unpaid: the new one must not be answered with the old.
      replacesSessionId: payment.providerSessionId,
    }),
  );
  if (result.ok) {
    const recorded = await recordCheckout(deps.db, payment.id, result.value, now);
    if (recorded) log.info({ sessionId: result.value.sessionId }, 'checkout opened');
    else log.warn({ sessionId: result.value.sessionId }, 'checkout opened for a payment no longer awaiting one; it expires unused');
    return;
  }
  if (await retried(deps, payment, result, now, log)) return;
  log.error({ err: result.error }, 'checkout could not be opened; the payment fails at its deadline unless it is retried');
  await giveUp(deps.db, payment, `checkout could not be opened: ${result.error.message}`, payment.dueAt);
}

async function refund(deps: ProcessPaymentDeps, payment: ClaimedPayment, now: Date, log: Logger): Promise<void> {
  const paymentIntentId = payment.providerPaymentIntent;
  if (!paymentIntentId) {
    log.error('refund requested for a payment without a recorded payment intent; refund it by hand');
    await giveUp(deps.db, payment, 'refund failed: no payment intent recorded', null);
    return;
  }
  const result = await attempt(deps, payment, () => deps.payments.refund({ paymentId: payment.id, paymentIntentId }));
  if (result.ok) {
    await recordRefunded(deps.db, payment.id, result.value.refundId);
    log.info({ refundId: result.value.refundId }, 'payment refunded');
    return;
  }
  if (await retried(deps, payment, result, now, log)) return;
  log.error({ err: result.error }, 'refund failed; refund it by hand');
  await giveUp(deps.db, payment, `refund failed: ${result.error.message}`, null);
}

/** Closes the checkout first, so that nobody can pay for a sale that is off, then fails the payment. */
async function fail(deps: ProcessPaymentDeps, payment: ClaimedPayment, step: 'cancel' | 'overdue', now: Date, log: Logger): Promise<void> {
  if (payment.checkoutUrl && payment.providerSessionId) {
    const sessionId = payment.providerSessionId;
    const result = await attempt(deps, payment, () => deps.payments.expireCheckout(sessionId));
    if (!result.ok) {
      if (await retried(deps, payment, result, now, log)) return;
      // Most often the checkout is no longer open: expired, or just paid, in which case the
      // webhook records the payment and, since it failed, it is refunded.
      log.warn({ err: result.error, sessionId }, 'checkout could not be expired; failing the payment anyway');
    }
  }
  if (step === 'cancel') {
    const failed = await recordFailed(deps.db, payment.id, { reason: FAILURE_REASON.cancelled, runnerUp: null, nextAttemptAt: null });
    if (failed) log.info('payment failed: the sale was cancelled');
    return;
  }
  const runnerUp = await findRunnerUp(deps.db, payment.auctionId, payment.payerId);
  // Still claimed: the seller is told next, and again after a failure, until the hook succeeds.
  const failed = await recordFailed(deps.db, payment.id, { reason: FAILURE_REASON.overdue, runnerUp, nextAttemptAt: payment.claimedUntil });
  if (!failed) return;
  log.info({ runnerUpId: runnerUp?.bidderId ?? null }, 'payment failed: unpaid by the deadline');
  await tellSeller(deps, { ...payment, status: 'FAILED', attempts: 0, runnerUp }, now, log);
}

async function tellSeller(
  deps: ProcessPaymentDeps,
  payment: ClaimedPayment & { runnerUp?: RunnerUp | null },
  now: Date,
  log: Logger,
): Promise<void> {
  const runnerUp = payment.runnerUp !== undefined ? payment.runnerUp : await runnerUpRecorded(deps, payment.id);
  const overdue: OverduePayment = {
    paymentId: payment.id,
    auctionId: payment.auctionId,
    sellerId: payment.sellerId,
    payerId: payment.payerId,
    amount: payment.amount,
    currency: payment.currency,
    dueAt: payment.dueAt,
    runnerUpId: runnerUp?.bidderId ?? null,
    runnerUpAmount: runnerUp?.amount ?? null,
  };
  if (!deps.onPaymentOverdue) {
    log.info({ sellerId: overdue.sellerId, runnerUpId: overdue.runnerUpId }, 'payment overdue; no seller notice is configured');
    await rescheduleAt(deps.db, payment, null);
    return;
  }
  try {
    await deps.onPaymentOverdue(overdue);
  } catch (error) {
    if (payment.attempts + 1 < deps.retry.maxAttempts) {
      const retryAt = new Date(now.getTime() + backoffMs(deps.retry, payment.attempts));
      log.warn({ err: error, attempt: payment.attempts + 1, retryAt }, 'telling the seller about an overdue payment failed; retrying');
      await retryLater(deps.db, payment, retryAt);
    } else {
      log.error({ err: error }, 'telling the seller about an overdue payment failed; given up');
      await rescheduleAt(deps.db, payment, null);
    }
    return;
  }
  await rescheduleAt(deps.db, payment, null);
}

async function runnerUpRecorded(deps: ProcessPaymentDeps, paymentId: string) {
  const row = await deps.db.payment.findUnique({ where: { id: paymentId }, select: { runnerUpId: true, runnerUpAmount: true } });
  return row?.runnerUpId && row.runnerUpAmount !== null ? { bidderId: row.runnerUpId, amount: row.runnerUpAmount } : null;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: PaymentProviderError; retry: boolean };

/** Calls the provider; a failure says whether the step may be tried again. */
async function attempt<T>(deps: ProcessPaymentDeps, payment: ClaimedPayment, call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (thrown) {
    // The port's contract is PaymentProviderError; anything else is unexpected, and treated as transient.
    const error = thrown instanceof PaymentProviderError ? thrown : new PaymentProviderError(thrown instanceof Error ? thrown.message : String(thrown), false);
    return { ok: false, error, retry: !error.permanent && payment.attempts + 1 < deps.retry.maxAttempts };
  }
}

/** Schedules the step again after a transient failure; false when it is not to be retried. */
async function retried(deps: ProcessPaymentDeps, payment: ClaimedPayment, result: { error: PaymentProviderError; retry: boolean }, now: Date, log: Logger) {
  if (!result.retry) return false;
  const retryAt = new Date(now.getTime() + backoffMs(deps.retry, payment.attempts));
  log.warn({ err: result.error, attempt: payment.attempts + 1, retryAt }, 'payment provider failed transiently; retrying');
  await retryLater(deps.db, payment, retryAt);
  return true;
}

/** The wait after `attempts` earlier failures: doubling, capped, and jittered so that retries spread out. */
export function backoffMs(retry: PaymentRetry, attempts: number, random = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.firstDelayMs * 2 ** Math.min(attempts, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
