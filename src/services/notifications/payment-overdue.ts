import { sendNotices, type NoticeDeps } from './send-notices.js';

/** A winner's payment that was not made by its deadline. */
export interface PaymentOverdue {
  paymentId: string;
  auctionId: string;
  sellerId: string;
  /** What the winner owed, in minor units of the auction's currency. */
  amount: number;
  dueAt: Date;
}

/**
 * Tells the seller that the winner did not pay in time (PAYMENT_OVERDUE): live, and by SMS once
 * however often it is called. The notice is about the auction's end, so it carries that event's
 * seq. Throws on database and live-bus errors, and while the auction's end is not stored yet.
 */
export async function notifyPaymentOverdue(deps: NoticeDeps, overdue: PaymentOverdue): Promise<void> {
  const [auction, ended] = await Promise.all([
    deps.db.auction.findUnique({ where: { id: overdue.auctionId }, select: { id: true, title: true, currency: true } }),
    deps.db.auctionEvent.findFirst({ where: { auctionId: overdue.auctionId, type: 'AuctionEnded' }, select: { seq: true } }),
  ]);
  if (!auction || !ended) throw new Error(`payment ${overdue.paymentId}: auction ${overdue.auctionId} has no stored end to notify about`);
  await sendNotices(deps, [
    { userId: overdue.sellerId, kind: 'PAYMENT_OVERDUE', auctionId: auction.id, seq: ended.seq, amount: overdue.amount, at: overdue.dueAt.toISOString(), auction },
  ]);
}
