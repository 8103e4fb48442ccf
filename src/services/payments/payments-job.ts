import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceDeps } from '../deps.js';
import type { PaymentProvider } from '../../ports/payments.js';
import { claimDuePayments } from './payment-rows.js';
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

export interface PaymentsJob {
  /** Starts polling in the background. */
  start(): void;
  /** Stops polling and waits for the payments in hand. */
  stop(): Promise<void>;
  /** Claims and works on one batch of due payments; resolves with what was done to each. */
  runOnce(): Promise<PaymentStep[]>;
}

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
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;

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

  async function poll(): Promise<void> {
    while (!stopping.signal.aborted) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).length;
      } catch (error) {
        logger.error({ err: error }, 'claiming due payments failed');
      }
      // A full batch suggests more are due: no pause. Jitter keeps several workers from polling in step.
      if (claimed < batchSize) {
        await delay(intervalMs * (0.5 + Math.random()), undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  return {
    start() {
      loop ??= poll();
    },
    async stop() {
      stopping.abort();
      await loop;
    },
    runOnce,
  };
}
