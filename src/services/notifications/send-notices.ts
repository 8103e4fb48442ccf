import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { formatMoney } from '../../domain/money.js';
import type { LiveEvents, LiveNotice, NoticeKind } from '../../ports/live-events.js';
import type { SmsSender } from '../../ports/sms.js';
import { DEFAULT_SMS_RETRY, deliverClaimedSms, smsTitle, type SmsRetry } from './deliver-sms.js';
import { claimEventSmsNotice, recordEventNoProvider, type EventSmsNoticeKey } from './sms-notices.js';
import { inParallel } from '../in-parallel.js';

/** What sending lifecycle notices needs; the notification worker's deps have it all. */
export interface NoticeDeps {
  db: PrismaClient;
  live: LiveEvents;
  /** Null when no SMS provider is configured: notices are then recorded as skipped. */
  sms: SmsSender | null;
  /** The public origin, for the auction link and the status callback. */
  publicUrl: string;
  smsRetry?: SmsRetry;
  logger: Logger;
}

/** A notice on its way out, with what its SMS says about the auction. */
export interface OutgoingNotice extends LiveNotice {
  auction: { id: string; title: string; currency: string };
  /** For CANCELLED: the sale was cancelled after the auction ended, so a payment is refunded. */
  afterEnd?: boolean;
}

// The `kind` column of notifications, as the outbid notices write theirs.
const SMS_KIND: Record<NoticeKind, string> = {
  WON: 'won',
  SOLD: 'sold',
  UNSOLD: 'unsold',
  CANCELLED: 'cancelled',
  PAYMENT_OVERDUE: 'payment_overdue',
};

/** How many SMS are handed to the provider at once: a cancellation may concern hundreds of bidders. */
const SMS_IN_PARALLEL = 8;

/**
 * Sends each notice live (at least once) and by SMS to users who opted in (at most once per auction,
 * event seq, user and kind, whoever sends it). Throws on database and live-bus errors, so that the
 * caller tries again; SMS failures are recorded, not thrown.
 */
export async function sendNotices(deps: NoticeDeps, notices: OutgoingNotice[]): Promise<void> {
  if (notices.length === 0) return;
  // Side by side, so that an outage of the live bus does not hold back the SMS; on a retry the
  // recorded SMS are not sent again, and subscribers drop the repeated live notices.
  const [live, sms] = await Promise.allSettled([deps.live.publishNotices(notices.map(toLive)), sendSms(deps, notices)]);
  if (live.status === 'rejected') throw live.reason;
  if (sms.status === 'rejected') throw sms.reason;
}

function toLive(notice: OutgoingNotice): LiveNotice {
  const { userId, kind, auctionId, seq, amount, at } = notice;
  return { userId, kind, auctionId, seq, amount, at };
}

async function sendSms(deps: NoticeDeps, notices: OutgoingNotice[]): Promise<void> {
  const userIds = [...new Set(notices.map((n) => n.userId))];
  const recipients = await deps.db.user.findMany({
    where: { id: { in: userIds }, smsOptIn: true, phone: { not: null } },
    select: { id: true, phone: true },
  });
  const phones = new Map(recipients.map((u) => [u.id, u.phone!]));
  const texts = notices.filter((n) => phones.has(n.userId));
  await inParallel(texts, SMS_IN_PARALLEL, (notice) => sendNoticeSms(deps, notice, phones.get(notice.userId)!));
}

async function sendNoticeSms(deps: NoticeDeps, notice: OutgoingNotice, phone: string): Promise<void> {
  const { db, sms, logger } = deps;
  const key: EventSmsNoticeKey = { userId: notice.userId, auctionId: notice.auctionId, eventSeq: notice.seq, kind: SMS_KIND[notice.kind], at: notice.at };
  const context = { userId: notice.userId, auctionId: notice.auctionId, seq: notice.seq, kind: notice.kind };
  const what = `${key.kind} SMS`;
  if (!sms) {
    if (await recordEventNoProvider(db, key)) logger.info(context, `${what} not sent: no SMS provider is configured`);
    return;
  }
  // A claim left PENDING by a sender that stopped mid-send may or may not have reached the provider;
  // sending again could text the user twice, and the status callback settles the row either way.
  const claim = await claimEventSmsNotice(db, key);
  if (!claim) return;
  const link = `${deps.publicUrl.replace(/\/+$/, '')}/auctions/${notice.auctionId}`;
  const retry = deps.smsRetry ?? DEFAULT_SMS_RETRY;
  await deliverClaimedSms({ db, sms, publicUrl: deps.publicUrl, retry, logger }, claim.id, { to: phone, body: noticeSmsBody(notice, link) }, what, context);
}

/** The text of a notice's SMS: the auction, the price when there is one, what to do, and where. */
export function noticeSmsBody(notice: Pick<OutgoingNotice, 'kind' | 'amount' | 'auction' | 'afterEnd'>, link: string): string {
  const title = `"${smsTitle(notice.auction.title)}"`;
  const price = notice.amount === null ? null : `${formatMoney(notice.amount)} ${notice.auction.currency}`;
  switch (notice.kind) {
    case 'WON':
      return `You won ${title} for ${price}. Pay now to complete your purchase: ${link}`;
    case 'SOLD':
      return `${title} sold for ${price}. The winner has been asked to pay: ${link}`;
    case 'UNSOLD':
      return price
        ? `${title} ended without a sale: the highest bid, ${price}, did not meet your reserve. ${link}`
        : `${title} ended without a sale: nobody bid. ${link}`;
    case 'CANCELLED':
      return notice.afterEnd
        ? `The seller cancelled the sale of ${title}. Any payment you made is refunded: ${link}`
        : `The seller cancelled ${title}, which you bid on. Your bids no longer count: ${link}`;
    case 'PAYMENT_OVERDUE':
      return `The winner of ${title} did not pay ${price} in time: ${link}`;
  }
}
