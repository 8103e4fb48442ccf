import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { SmsError, type SmsSender } from '../../ports/sms.js';
import { recordFailed, recordOutcomeUnknown, recordSent } from './sms-notices.js';

/** How often a transient provider failure is tried again, and how long the first wait is (it doubles). */
export interface SmsRetry {
  attempts: number;
  firstDelayMs: number;
}

// About two seconds of waiting in all: a provider outage must not hold the partition for long.
export const DEFAULT_SMS_RETRY: SmsRetry = { attempts: 4, firstDelayMs: 250 };

export interface SmsDeliveryDeps {
  db: PrismaClient;
  sms: SmsSender;
  /** The public origin, for the status callback. */
  publicUrl: string;
  retry: SmsRetry;
  logger: Logger;
}

/** An auction title as an SMS quotes it: a long one would split the message into several billed segments. */
export function smsTitle(title: string): string {
  return title.length > 60 ? `${title.slice(0, 57)}...` : title;
}

export type DeliveryOutcome = 'SENT' | 'PENDING' | 'FAILED';

/**
 * Sends the text of a notice already claimed in `notifications` and records what became of it.
 * Provider errors end up recorded, never thrown; database errors are thrown. `what` names the notice
 * in the logs ("outbid SMS").
 */
export async function deliverClaimedSms(
  deps: SmsDeliveryDeps,
  claimId: string,
  message: { to: string; body: string },
  what: string,
  context: Record<string, unknown>,
): Promise<DeliveryOutcome> {
  const { db, logger } = deps;
  const statusCallback = `${deps.publicUrl.replace(/\/+$/, '')}/webhooks/twilio/status?notificationId=${claimId}`;
  const result = await sendWithRetries(deps.sms, { ...message, statusCallback }, deps.retry, (error, attempt, waitMs) =>
    logger.warn({ ...context, err: error, attempt, waitMs }, `${what} failed transiently; retrying`),
  );
  if ('providerMessageId' in result) {
    await recordSent(db, claimId, result.providerMessageId);
    logger.debug({ ...context, providerMessageId: result.providerMessageId }, `${what} sent`);
    return 'SENT';
  }
  const { error } = result;
  const described = error.code ? `${error.code}: ${error.message}` : error.message;
  if (error.mayHaveBeenSent) {
    await recordOutcomeUnknown(db, claimId, described);
    logger.warn({ ...context, err: error }, `${what} may have been sent; not retried, the status callback settles it`);
    return 'PENDING';
  }
  await recordFailed(db, claimId, described);
  logger.warn({ ...context, err: error, permanent: error.permanent }, `${what} failed`);
  return 'FAILED';
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
