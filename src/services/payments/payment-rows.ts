import type { PrismaClient } from '../../generated/prisma/client.js';

// The `payments` rows as the payments job reads and writes them. `next_attempt_at` is the job's
// schedule and its claim at once: a row is due once it has passed, and claiming pushes it a lease
// into the future, so another job (another process) skips the row until the lease lapses.

/** Why a payment failed, as `failure_reason` records it. */
export const FAILURE_REASON = {
  cancelled: 'sale cancelled',
  overdue: 'unpaid by the deadline',
} as const;

export type PaymentState = 'REQUIRES_PAYMENT' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED' | 'NOT_CONFIGURED';

/** A payment the job holds the claim on, with what it needs of the auction and the payer. */
export interface ClaimedPayment {
  id: string;
  auctionId: string;
  payerId: string;
  amount: number;
  currency: string;
  status: PaymentState;
  providerSessionId: string | null;
  providerPaymentIntent: string | null;
  checkoutUrl: string | null;
  dueAt: Date;
  refundRequestedAt: Date | null;
  providerRefundId: string | null;
  failureReason: string | null;
  /** Consecutive transient failures of the step in hand. */
  attempts: number;
  title: string;
  sellerId: string;
  payerEmail: string;
  /** The claim: `next_attempt_at` as the claim set it. Writes that find another value leave it. */
  claimedUntil: Date;
}

/**
 * Claims up to `limit` due payments. `SKIP LOCKED` lets concurrent claims pass each other's rows
 * instead of waiting on them, and the lease they set keeps those rows theirs after the commit.
 */
export async function claimDuePayments(db: PrismaClient, options: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedPayment[]> {
  const rows = await db.$queryRaw<Array<Omit<ClaimedPayment, 'claimedUntil'>>>`
    WITH due AS (
      SELECT id FROM payments
      WHERE status IN ('REQUIRES_PAYMENT', 'SUCCEEDED', 'FAILED') AND next_attempt_at <= ${options.now.toISOString()}::timestamptz
      ORDER BY next_attempt_at
      LIMIT ${options.limit}::int
      FOR UPDATE SKIP LOCKED
    )
    UPDATE payments p SET next_attempt_at = ${options.leaseUntil.toISOString()}::timestamptz
    FROM due, auctions a, users u
    WHERE p.id = due.id AND a.id = p.auction_id AND u.id = p.payer_id
    RETURNING
      p.id::text AS "id", p.auction_id::text AS "auctionId", p.payer_id::text AS "payerId", p.amount, p.currency,
      p.status::text AS "status", p.provider_session_id AS "providerSessionId",
      p.provider_payment_intent AS "providerPaymentIntent", p.checkout_url AS "checkoutUrl", p.due_at AS "dueAt",
      p.refund_requested_at AS "refundRequestedAt", p.provider_refund_id AS "providerRefundId",
      p.failure_reason AS "failureReason", p.attempts, a.title, a.seller_id::text AS "sellerId", u.email AS "payerEmail"`;
  return rows.map((row) => ({ ...row, claimedUntil: options.leaseUntil }));
}

/** The checkout is open; the job comes back at the deadline, or at once when the sale was cancelled meanwhile. */
export async function recordCheckout(db: PrismaClient, id: string, checkout: { sessionId: string; url: string }, now: Date): Promise<boolean> {
  const changed = await db.$executeRaw`
    UPDATE payments SET
      provider_session_id = ${checkout.sessionId}, checkout_url = ${checkout.url}, failure_reason = NULL, attempts = 0,
      next_attempt_at = CASE WHEN refund_requested_at IS NOT NULL THEN ${now.toISOString()}::timestamptz ELSE due_at END,
      updated_at = now()
    WHERE id = ${id}::uuid AND status = 'REQUIRES_PAYMENT'`;
  return changed > 0;
}

/** The provider refunded the payment (its webhook may have said so first). */
export async function recordRefunded(db: PrismaClient, id: string, refundId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE payments SET
      status = 'REFUNDED', provider_refund_id = COALESCE(provider_refund_id, ${refundId}), failure_reason = NULL,
      attempts = 0, next_attempt_at = NULL, updated_at = now()
    WHERE id = ${id}::uuid AND status IN ('SUCCEEDED', 'REFUNDED')`;
}

/**
 * Fails a payment still awaiting payment; false when it no longer was (a webhook recorded it paid
 * first, and scheduled whatever follows). `nextAttemptAt` keeps the row due for a step after this one.
 */
export async function recordFailed(
  db: PrismaClient,
  id: string,
  failure: { reason: string; runnerUp: RunnerUp | null; nextAttemptAt: Date | null },
): Promise<boolean> {
  const changed = await db.$executeRaw`
    UPDATE payments SET
      status = 'FAILED', failure_reason = ${failure.reason}, checkout_url = NULL,
      runner_up_id = ${failure.runnerUp?.bidderId ?? null}::uuid, runner_up_amount = ${failure.runnerUp?.amount ?? null}::int,
      attempts = 0, next_attempt_at = ${failure.nextAttemptAt?.toISOString() ?? null}::timestamptz, updated_at = now()
    WHERE id = ${id}::uuid AND status = 'REQUIRES_PAYMENT'`;
  return changed > 0;
}

/** A transient failure: the same step again at `retryAt`. */
export async function retryLater(db: PrismaClient, payment: ClaimedPayment, retryAt: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE payments SET
      attempts = attempts + 1,
      next_attempt_at = CASE WHEN next_attempt_at = ${payment.claimedUntil.toISOString()}::timestamptz
        THEN ${retryAt.toISOString()}::timestamptz ELSE next_attempt_at END
    WHERE id = ${payment.id}::uuid`;
}

/** The step will not succeed by retrying: the reason is kept, and the row waits for `nextAttemptAt` (null: nothing). */
export async function giveUp(db: PrismaClient, payment: ClaimedPayment, reason: string, nextAttemptAt: Date | null): Promise<void> {
  await db.$executeRaw`
    UPDATE payments SET
      failure_reason = ${reason}, attempts = 0, updated_at = now(),
      next_attempt_at = CASE WHEN next_attempt_at = ${payment.claimedUntil.toISOString()}::timestamptz
        THEN ${nextAttemptAt?.toISOString() ?? null}::timestamptz ELSE next_attempt_at END
    WHERE id = ${payment.id}::uuid`;
}

/**
 * Nothing more to do until `at` (null: ever). A row rescheduled by someone else since the claim (a
 * cancelled sale, an expired checkout) keeps that schedule: it is due sooner.
 */
export async function rescheduleAt(db: PrismaClient, payment: ClaimedPayment, at: Date | null): Promise<void> {
  await db.$executeRaw`
    UPDATE payments SET
      attempts = 0,
      next_attempt_at = CASE WHEN next_attempt_at = ${payment.claimedUntil.toISOString()}::timestamptz
        THEN ${at?.toISOString() ?? null}::timestamptz ELSE next_attempt_at END
    WHERE id = ${payment.id}::uuid`;
}

export interface RunnerUp {
  bidderId: string;
  amount: number;
}

/** The highest bid on the auction by anyone but the payer (the earlier of equal ones), for a second-chance offer. */
export async function findRunnerUp(db: PrismaClient, auctionId: string, payerId: string): Promise<RunnerUp | null> {
  const rows = await db.$queryRaw<RunnerUp[]>`
    SELECT bidder_id::text AS "bidderId", amount FROM bids
    WHERE auction_id = ${auctionId}::uuid AND bidder_id <> ${payerId}::uuid
    ORDER BY amount DESC, seq ASC
    LIMIT 1`;
  return rows[0] ?? null;
}
