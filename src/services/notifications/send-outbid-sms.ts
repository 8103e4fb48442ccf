import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { formatMoney } from '../../domain/money.js';
import { SmsError, type SmsSender } from '../../ports/sms.js';
import { claimSmsNotice, recordFailed, recordNoProvider, recordOutcomeUnknown, recordSent, type SmsNoticeKey } from './sms-notices.js';

export const OUTBID_KIND = 'outbid';

/** How often a transient provider failure is tried again, and how long the first wait is (it doubles). */
export interface SmsRetry {
  attempts: number;
  firstDelayMs: number;
}

// About two seconds of waiting in all: a provider outage must not hold the partition for long.
export const DEFAULT_SMS_RETRY: SmsRetry = { attempts: 4, firstDelayMs: 250 };

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

  const base = deps.publicUrl.replace(/\/+$/, '');
  const message = {
    to: notice.phone,
    body: outbidSmsBody(notice, `${base}/auctions/${notice.auction.id}`),
    statusCallback: `${base}/webhooks/twilio/status?notificationId=${claim.id}`,
  };
  const result = await sendWithRetries(sms, message, deps.retry, (error, attempt, waitMs) =>
    logger.warn({ ...context, err: error, attempt, waitMs }, 'outbid SMS failed transiently; retrying'),
  );
  if ('providerMessageId' in result) {
    await recordSent(db, claim.id, result.providerMessageId);
    logger.debug({ ...context, providerMessageId: result.providerMessageId }, 'outbid SMS sent');
    return 'SENT';
  }
  const { error } = result;
  const described = error.code ? `${error.code}: ${error.message}` : error.message;
  if (error.mayHaveBeenSent) {
    await recordOutcomeUnknown(db, claim.id, described);
    logger.warn({ ...context, err: error }, 'outbid SMS may have been sent; not retried, the status callback settles it');
    return 'PENDING';
  }
  await recordFailed(db, claim.id, described);
  logger.warn({ ...context, err: error, permanent: error.permanent }, 'outbid SMS failed');
  return 'FAILED';
}

/** The text of an outbid SMS: what was lost, the price to beat, and where to bid. */
export function outbidSmsBody(
  notice: { auction: { title: string; currency: string }; currentPrice: number; minimumNextBid: number },
  link: string,
): string {
  const { title, currency } = notice.auction;
  // A long title would split the message into several billed segments.
  const shortTitle = title.length > 60 ? `${title.slice(0, 57)}...` : title;
  return (
    `You have been outbid on "${shortTitle}": the price is now ${formatMoney(notice.currentPrice)} ${currency}. ` +
    `Bid ${formatMoney(notice.minimumNextBid)} ${currency} or more to lead again: ${link}`
  );
}

async function sendWithRetries(
  sms: SmsSender,
  message: { to: string; body: string; statusCallback: string },
  retry: SmsRetry,
  onRetry: (error: SmsError, attempt: number, waitMs: number) => void,
): Promise<{ providerMessageId: string } | { error: SmsError }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sms.send(message);
    } catch (thrown) {
      // The sender's contract is SmsError; anything else is a bug in it, and retrying will not help.
      const error = thrown instanceof SmsError ? thrown : new SmsError(String((thrown as Error)?.message ?? thrown), true);
      if (error.permanent || error.mayHaveBeenSent || attempt >= retry.attempts) return { error };
      const waitMs = retry.firstDelayMs * 2 ** (attempt - 1);
      onRetry(error, attempt, waitMs);
      await delay(waitMs);
    }
  }
}
