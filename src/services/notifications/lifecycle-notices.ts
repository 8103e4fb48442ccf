import type { AuctionCancelledMessage, AuctionEndedMessage, AuctionLogMessage } from '../../ports/bid-log.js';
import { sendNotices, type NoticeDeps, type OutgoingNotice } from './send-notices.js';

type LifecycleMessage = AuctionEndedMessage | AuctionCancelledMessage;
type NoticeAuction = { id: string; title: string; currency: string; sellerId: string };

/**
 * Tells the people of an auction how it ended: the winner (WON) and the seller (SOLD), or the seller
 * alone (UNSOLD); when it is cancelled, everyone who bid on it (CANCELLED). Live and by SMS, each
 * SMS once however often the messages are handled. Bids are ignored. Throws when the batch should
 * come again: a database or live-bus error, or bids the persister has not stored yet.
 */
export async function notifyLifecycle(deps: NoticeDeps, messages: AuctionLogMessage[]): Promise<void> {
  const events = messages.filter((m): m is LifecycleMessage => m.type === 'AuctionEnded' || m.type === 'AuctionCancelled');
  if (events.length === 0) return;
  const auctions = await deps.db.auction.findMany({
    where: { id: { in: [...new Set(events.map((e) => e.auctionId))] } },
    select: { id: true, title: true, currency: true, sellerId: true },
  });
  const auctionById = new Map(auctions.map((a) => [a.id, a]));

  const notices: OutgoingNotice[] = [];
  for (const event of events) {
    const auction = auctionById.get(event.auctionId);
    if (!auction) {
      deps.logger.warn({ auctionId: event.auctionId, seq: event.seq, type: event.type }, 'lifecycle notices not sent: the auction is unknown');
      continue;
    }
    notices.push(...(event.type === 'AuctionEnded' ? endedNotices(event, auction) : await cancelledNotices(deps, event, auction)));
  }
  await sendNotices(deps, notices);
}

function endedNotices(event: AuctionEndedMessage, auction: NoticeAuction): OutgoingNotice[] {
  const about = { auctionId: auction.id, seq: event.seq, at: event.at, auction };
  if (!event.sold) {
    // Unsold with bids means the reserve was not met: the seller wants to know how close it came.
    return [{ ...about, userId: auction.sellerId, kind: 'UNSOLD', amount: event.bidCount > 0 ? event.currentPrice : null }];
  }
  const notices: OutgoingNotice[] = [{ ...about, userId: auction.sellerId, kind: 'SOLD', amount: event.finalPrice }];
  if (event.winnerId) notices.unshift({ ...about, userId: event.winnerId, kind: 'WON', amount: event.finalPrice });
  return notices;
}

async function cancelledNotices(deps: Pick<NoticeDeps, 'db'>, event: AuctionCancelledMessage, auction: NoticeAuction): Promise<OutgoingNotice[]> {
  // The bidders are read from Postgres, which the bid persister fills from this same log in a
  // consumer group of its own: until it has stored the cancellation it may lack bids placed before.
  const stored = await deps.db.auctionEvent.findUnique({ where: { auctionId_seq: { auctionId: auction.id, seq: event.seq } }, select: { seq: true } });
  if (!stored) throw new Error(`cancellation notices of auction ${auction.id} wait for the bid persister to store seq ${event.seq}`);
  const bidders = await deps.db.bid.findMany({
    where: { auctionId: auction.id, seq: { lt: event.seq } },
    distinct: ['bidderId'],
    select: { bidderId: true },
  });
  // The seller cancelled it, so needs no telling; a seller cannot bid on their own auction anyway.
  return bidders
    .filter((b) => b.bidderId !== auction.sellerId)
    .map((b) => ({ auctionId: auction.id, seq: event.seq, at: event.at, auction, userId: b.bidderId, kind: 'CANCELLED', amount: null, afterEnd: event.afterEnd }));
}
