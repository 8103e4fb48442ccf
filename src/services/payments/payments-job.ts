import type { ServiceDeps } from '../deps.js';
import type { PaymentProvider } from '../../ports/payments.js';
import { claimDuePayments } from './payment-rows.js';
import { pollingJob, type PollingJob } from '../polling-job.js';
import { DEFAULT_PAYMENT_RETRY, processPayment, type OverduePayment, type PaymentRetry, type PaymentStep } from './process-payment.js';

export interface PaymentsJobDeps extends Pick<ServiceDeps, 'db' | 'clock' | 'logger'> {
  payments: PaymentProvider;
  /** The public origin, for the checkout's return links. */
  publicUrl: string;
  /** Tells the seller that the winner did not pay in time; repeated until it resolves. */
  onPaymentOverdue?: (payment: OverduePayment) => Promise<void>;
  /** The pause between polls when nothing was due (jittered by up to half either way). */
  intervalMs?: number;
  /** Payments claimed, and worked on together, per poll. */
  batchSize?: number;
  /** How long a claim holds: longer than any provider call takes, or two jobs could work on one payment. */
  leaseMs?: number;
  retry?: PaymentRetry;
}

export type PaymentsJob = PollingJob<PaymentStep>;

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_BATCH_SIZE = 10;
const DEFAULT_LEASE_MS = 2 * 60_000;

/**
 * The payments job of the workers role: opens checkouts for sold auctions, refunds cancelled sales,
 * fails payments past their deadline and tells their sellers. Any number of jobs, in any number of
 * processes, may run: each payment is claimed by one at a time.
 */
export function createPaymentsJob(deps: PaymentsJobDeps): PaymentsJob {
  const logger = deps.logger.child({ component: 'payments-job' });
  const intervalMs = deps.intervalMs ?? DEFAULT_INTERVAL_MS;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const stepDeps = {
    db: deps.db,
    payments: deps.payments,
    publicUrl: deps.publicUrl,
    retry: deps.retry ?? DEFAULT_PAYMENT_RETRY,
    logger,
    onPaymentOverdue: deps.onPaymentOverdue,
  };

  async function runOnce(): Promise<PaymentStep[]> {
    const now = deps.clock.now();
    const claimed = await claimDuePayments(deps.db, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: batchSize });
    return Promise.all(
      claimed.map((payment) =>
        processPayment(stepDeps, payment, now).catch((error: unknown): PaymentStep => {
          logger.error({ err: error, paymentId: payment.id }, 'working on a payment failed; it is tried again once its claim lapses');
          return 'none';
        }),
      ),
    );
  }

  return pollingJob({ intervalMs, batchSize, what: 'due payments', logger }, runOnce);
}
