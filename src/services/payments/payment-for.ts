import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { AuctionView } from '../../domain/auction.js';

/**
 * The auction's payment, seen only by the winner and the seller; the checkout link only by the
 * winner, and only while it can still be paid (a paid, failed or refunded payment's link is dead).
 */
export async function paymentFor(deps: Pick<ServiceDeps, 'db'>, viewer: Viewer, auction: AuctionView) {
  if (!viewer || (viewer.id !== auction.sellerId && viewer.id !== auction.winnerId)) return null;
  const payment = await deps.db.payment.findUnique({ where: { auctionId: auction.id } });
  if (!payment) return null;
  return {
    id: payment.id,
    status: payment.status,
    amount: payment.amount,
    checkoutUrl: viewer.id === payment.payerId && payment.status === 'REQUIRES_PAYMENT' ? payment.checkoutUrl : null,
    updatedAt: payment.updatedAt,
  };
}
