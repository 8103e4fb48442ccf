import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { formatMoney } from '../../domain/money.js';
import type { SmsSender } from '../../ports/sms.js';
import { claimSmsNotice, recordNoProvider, type SmsNoticeKey } from './sms-notices.js';
import { deliverClaimedSms, smsTitle, type SmsRetry } from './deliver-sms.js';

export { DEFAULT_SMS_RETRY, type SmsRetry } from './deliver-sms.js';

export const OUTBID_KIND = 'outbid';

export interface OutbidSmsDeps {
  db: PrismaClient;
  /** Null when no provider is configured: notices are then recorded as skipped. */
  sms: SmsSender | null;
  /** The public origin, for the auction link and the status callback. */
  publicUrl: string;
  windowSeconds: number;
  retry: SmsRetry;
  logger: Logger;
}

/** One user outbid on one auction by one bid, with what the message says. */
export interface OutbidSms {
  userId: string;
  phone: string;
  auction: { id: string; title: string; currency: string };
  /** The bid that took the lead, and when. */
  bidId: string;
  at: string;
  currentPrice: number;
  minimumNextBid: number;
}

export type OutbidSmsOutcome = 'SENT' | 'FAILED' | 'PENDING' | 'SUPPRESSED' | 'SKIPPED_NO_PROVIDER' | 'ALREADY_RECORDED';

/**
 * Sends the outbid SMS at most once per notice and at most one per user and auction per window,
 * recording the outcome. Provider errors end up recorded, never thrown; database errors are thrown.
 */
export async function sendOutbidSms(deps: OutbidSmsDeps, notice: OutbidSms): Promise<OutbidSmsOutcome> {
  const { db, sms, logger } = deps;
  const key: SmsNoticeKey = { userId: notice.userId, auctionId: notice.auction.id, bidId: notice.bidId, kind: OUTBID_KIND, at: notice.at };
  const context = { userId: notice.userId, auctionId: notice.auction.id, bidId: notice.bidId };

  if (!sms) {
    if (!(await recordNoProvider(db, key))) return 'ALREADY_RECORDED';
    logger.info(context, 'outbid SMS not sent: no SMS provider is configured');
    return 'SKIPPED_NO_PROVIDER';
  }

  const claim = await claimSmsNotice(db, key, deps.windowSeconds);
  // A claim left PENDING by a worker that stopped mid-send may or may not have reached the provider;
  // sending again could text the user twice, and the status callback settles the row either way.
  if (!claim) return 'ALREADY_RECORDED';
  if (claim.status === 'SUPPRESSED') {
    logger.debug(context, 'outbid SMS suppressed: one was sent within the window');
    return 'SUPPRESSED';
  }

  const link = `${deps.publicUrl.replace(/\/+$/, '')}/auctions/${notice.auction.id}`;
  const message = { to: notice.phone, body: outbidSmsBody(notice, link) };
  return deliverClaimedSms({ db, sms, publicUrl: deps.publicUrl, retry: deps.retry, logger }, claim.id, message, 'outbid SMS', context);
}

/** The text of an outbid SMS: what was lost, the price to beat, and where to bid. */
export function outbidSmsBody(
  notice: { auction: { title: string; currency: string }; currentPrice: number; minimumNextBid: number },
  link: string,
): string {
  const { title, currency } = notice.auction;
  return (
    `You have been outbid on "${smsTitle(title)}": the price is now ${formatMoney(notice.currentPrice)} ${currency}. ` +
    `Bid ${formatMoney(notice.minimumNextBid)} ${currency} or more to lead again: ${link}`
  );
}
