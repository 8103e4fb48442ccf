import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { BidPlacedMessage } from '../ports/bid-log.js';
import type { LiveEvents, LiveOutbid } from '../ports/live-events.js';
import type { SmsSender } from '../ports/sms.js';
import type { UseCaseMetrics } from '../ports/metrics.js';
import { DEFAULT_SMS_RETRY, sendOutbidSms, type OutbidSms, type SmsRetry } from '../services/notifications/send-outbid-sms.js';
import { inParallel } from '../services/in-parallel.js';
import { notifyLifecycle } from '../services/notifications/lifecycle-notices.js';
import { parseBatch } from './bid-worker.js';
import type { LogBatch, LogConsumer } from '../ports/log-consumer.js';
import { runWorker, type Worker } from './run-worker.js';
import { outbidBy, type Outbid } from '../services/bids/decision-bids.js';

export const NOTIFIER_GROUP = 'notifier';

/** How many auctions of one batch have their notices sent at the same time. */
const AUCTIONS_IN_PARALLEL = 8;

export interface NotifierDeps {
  db: PrismaClient;
  live: LiveEvents;
  /** Null when no SMS provider is configured. */
  sms: SmsSender | null;
  publicUrl: string;
  outbidSmsWindowSeconds: number;
  /** Retries of a transient SMS failure; the default suits Twilio. */
  smsRetry?: SmsRetry;
  /** Counts each notice's outcome; absent where nobody scrapes (unit tests). */
  metrics?: Pick<UseCaseMetrics, 'outbidSms'>;
  logger: Logger;
}

export interface NotificationWorkerDeps extends NotifierDeps {
  consumer: LogConsumer;
}

/**
 * Tells bidders they were outbid, and sellers and bidders how auctions ended or were cancelled: live
 * to their subscriptions, and by SMS when they opted in.
 */
export function createNotificationWorker(deps: NotificationWorkerDeps): Worker {
  const { consumer, ...rest } = deps;
  const logger = deps.logger.child({ worker: NOTIFIER_GROUP });
  const notifier: NotifierDeps = { ...rest, logger };

  const handle = async (batch: LogBatch): Promise<void> => {
    const { parsed, invalid } = parseBatch(batch.messages);
    // The bid persister dead-letters what nobody can read; a second copy from here would only confuse.
    for (const { message, reason } of invalid) logger.warn({ partition: batch.partition, offset: message.offset, reason }, 'unreadable message skipped');
    await notifyOutbids(notifier, parsed.flatMap((p) => (p.entry.type === 'BidPlaced' ? [p.entry] : [])));
    // A purchase's end follows its bid.
    await notifyLifecycle(notifier, parsed.flatMap((p) => (p.entry.type === 'BidPlaced' ? (p.entry.ended ? [p.entry.ended] : []) : [p.entry])));
  };
  return runWorker('notification worker', consumer, handle, logger);
}

/**
 * Notifies every bidder these bids outbid: the live event at least once, the SMS at most once, and
 * a record of what became of each SMS. Replaying bids already notified sends nothing new. Throws on database
 * and live-bus errors, so the batch is delivered again; SMS failures are recorded, not thrown.
 */
export async function notifyOutbids(deps: NotifierDeps, bids: BidPlacedMessage[]): Promise<void> {
  const outbids = bids.flatMap((message) => {
    const outbid = outbidBy(message);
    return outbid ? [{ message, outbid }] : [];
  });
  if (outbids.length === 0) return;
  // Side by side, so that an outage of the live bus does not hold back the SMS. A failure of either
  // fails the batch: on redelivery the recorded SMS are not sent again, and subscribers drop the
  // repeated live events by (auctionId, seq).
  const [live, sms] = await Promise.allSettled([deps.live.publishOutbids(outbids.map(liveOutbid)), sendSmsNotices(deps, outbids)]);
  if (live.status === 'rejected') throw live.reason;
  if (sms.status === 'rejected') throw sms.reason;
}

interface OutbidNotice {
  message: BidPlacedMessage;
  outbid: Outbid;
}

async function sendSmsNotices(deps: NotifierDeps, outbids: OutbidNotice[]): Promise<void> {
  const userIds = [...new Set(outbids.map((o) => o.outbid.userId))];
  const [recipients, auctions] = await Promise.all([
    deps.db.user.findMany({ where: { id: { in: userIds }, smsOptIn: true, phone: { not: null } }, select: { id: true, phone: true } }),
    deps.db.auction.findMany({ where: { id: { in: [...new Set(outbids.map((o) => o.message.auctionId))] } }, select: { id: true, title: true, currency: true } }),
  ]);
  const phones = new Map(recipients.map((u) => [u.id, u.phone!]));
  const auctionById = new Map(auctions.map((a) => [a.id, a]));

  // The throttle compares each notice with the ones before it, so one auction's go in log order.
  const byAuction = new Map<string, OutbidSms[]>();
  for (const { message, outbid } of outbids) {
    const { userId } = outbid;
    const phone = phones.get(userId);
    const auction = auctionById.get(message.auctionId);
    if (!phone) continue;
    if (!auction) {
      deps.logger.warn({ auctionId: message.auctionId, bidId: outbid.by.id }, 'outbid SMS not sent: the auction is unknown');
      continue;
    }
    const notice: OutbidSms = { userId, phone, auction, bidId: outbid.by.id, at: message.at, currentPrice: message.currentPrice, minimumNextBid: message.minimumNextBid };
    const notices = byAuction.get(message.auctionId);
    if (notices) notices.push(notice);
    else byAuction.set(message.auctionId, [notice]);
  }

  const smsDeps = {
    db: deps.db,
    sms: deps.sms,
    publicUrl: deps.publicUrl,
    windowSeconds: deps.outbidSmsWindowSeconds,
    retry: deps.smsRetry ?? DEFAULT_SMS_RETRY,
    logger: deps.logger,
  };
  await inParallel([...byAuction.values()], AUCTIONS_IN_PARALLEL, async (notices) => {
    for (const notice of notices) {
      const outcome = await sendOutbidSms(smsDeps, notice);
      deps.metrics?.outbidSms(outcome);
    }
  });
}

function liveOutbid({ message, outbid }: OutbidNotice): LiveOutbid {
  return {
    userId: outbid.userId,
    auctionId: message.auctionId,
    seq: outbid.by.seq,
    yourBidId: outbid.yourBidId,
    currentPrice: message.currentPrice,
    minimumNextBid: message.minimumNextBid,
    at: message.at,
  };
}
