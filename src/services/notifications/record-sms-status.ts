import type { PrismaClient } from '../../generated/prisma/client.js';
import { SMS_CHANNEL } from './sms-notices.js';

/** What a provider's status callback reports about one message. */
export interface SmsStatusReport {
  /** From the callback URL: finds the row even when the worker never got to record the message id. */
  notificationId?: string;
  providerMessageId: string;
  /** The provider's status word (Twilio: queued, sent, delivered, undelivered, failed, ...). */
  status: string;
  errorCode?: string;
}

const RECORDED = { sent: 'SENT', delivered: 'DELIVERED', undelivered: 'UNDELIVERED', failed: 'FAILED' } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records a delivery status on the notice it is about; true when a row changed. Callbacks arrive out
 * of order, so a row only moves forward: PENDING, then SENT, then one final status.
 */
export async function recordSmsStatus(db: PrismaClient, report: SmsStatusReport): Promise<boolean> {
  const status = RECORDED[report.status as keyof typeof RECORDED];
  // Intermediate words (queued, sending, accepted) say nothing the row does not already know.
  if (!status) return false;
  const id = report.notificationId && UUID.test(report.notificationId) ? report.notificationId : null;
  const error = status === 'FAILED' || status === 'UNDELIVERED' ? (report.errorCode ?? null) : null;
  // A FAILED row without a message id is the worker's own guess (say, a timeout after the provider
  // had in fact taken the message): the provider's word replaces it.
  const changed = await db.$executeRaw`
    UPDATE notifications SET
      status = ${status}::"NotificationStatus",
      provider_message_id = COALESCE(provider_message_id, ${report.providerMessageId}),
      error = ${error},
      updated_at = now()
    WHERE (id = ${id}::uuid OR provider_message_id = ${report.providerMessageId})
      AND channel = ${SMS_CHANNEL}
      AND (
        status = 'PENDING'
        OR (status = 'FAILED' AND provider_message_id IS NULL)
        OR (status = 'SENT' AND ${status} <> 'SENT')
      )`;
  return changed > 0;
}
