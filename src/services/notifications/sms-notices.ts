import type { PrismaClient } from '../../generated/prisma/client.js';

// The `notifications` rows of the SMS channel. A row is written before anything leaves, unique per
// (bid, user, kind), or per (auction, event seq, user, kind) for a notice about an auction event
// rather than a bid: whoever finds one already there (a replay, a restarted worker) sends nothing.

export const SMS_CHANNEL = 'sms';

export interface SmsNoticeKey {
  userId: string;
  auctionId: string;
  /** The bid whose event caused the notice. */
  bidId: string;
  kind: string;
  /** When that event happened (ISO): the throttle window is measured on it, never on the wall clock. */
  at: string;
}

export type ClaimResult = { id: string; status: 'PENDING' | 'SUPPRESSED' } | null;

/**
 * Records a notice about to be sent: PENDING, or SUPPRESSED when an SMS of the same kind went to the
 * user for the auction less than `windowSeconds` before the event. Null when the notice was already
 * recorded. The check and the insert are safe together because one auction's notices are claimed
 * one at a time, in seq order: its partition has a single consumer in the group.
 */
export async function claimSmsNotice(db: PrismaClient, key: SmsNoticeKey, windowSeconds: number): Promise<ClaimResult> {
  const { userId, auctionId, bidId, kind, at } = key;
  // An SMS counts against the window once it may have left: claimed, accepted by the provider, or
  // reported on by it. One the provider refused outright (FAILED, no message id) never reached anyone.
  const rows = await db.$queryRaw<Array<{ id: string; status: 'PENDING' | 'SUPPRESSED' }>>`
    INSERT INTO notifications (id, user_id, auction_id, bid_id, kind, channel, status, event_at, updated_at)
    SELECT gen_random_uuid(), ${userId}::uuid, ${auctionId}::uuid, ${bidId}::uuid, ${kind}, ${SMS_CHANNEL},
      CASE WHEN EXISTS (
        SELECT 1 FROM notifications
        WHERE user_id = ${userId}::uuid AND auction_id = ${auctionId}::uuid AND kind = ${kind} AND channel = ${SMS_CHANNEL}
          AND event_at > ${at}::timestamptz - ${windowSeconds}::int * interval '1 second' AND event_at <= ${at}::timestamptz
          AND (status IN ('PENDING', 'SENT', 'DELIVERED', 'UNDELIVERED') OR provider_message_id IS NOT NULL)
      ) THEN 'SUPPRESSED'::"NotificationStatus" ELSE 'PENDING'::"NotificationStatus" END,
      ${at}::timestamptz, now()
    ON CONFLICT (bid_id, user_id, kind) DO NOTHING
    RETURNING id::text, status::text`;
  return rows[0] ?? null;
}

/** Records a notice that no provider could send; false when it was already recorded. */
export async function recordNoProvider(db: PrismaClient, key: SmsNoticeKey): Promise<boolean> {
  const { userId, auctionId, bidId, kind, at } = key;
  const inserted = await db.$executeRaw`
    INSERT INTO notifications (id, user_id, auction_id, bid_id, kind, channel, status, event_at, updated_at)
    VALUES (gen_random_uuid(), ${userId}::uuid, ${auctionId}::uuid, ${bidId}::uuid, ${kind}, ${SMS_CHANNEL}, 'SKIPPED_NO_PROVIDER', ${at}::timestamptz, now())
    ON CONFLICT (bid_id, user_id, kind) DO NOTHING`;
  return inserted > 0;
}

/** A notice about an auction event (won, sold, cancelled, ...) rather than a bid. */
export interface EventSmsNoticeKey {
  userId: string;
  auctionId: string;
  /** The seq of the event the notice is about. */
  eventSeq: number;
  kind: string;
  /** When that event happened (ISO). */
  at: string;
}

/**
 * Records an event notice about to be sent, PENDING; null when it was already recorded. Unlike the
 * outbid claim it needs no ordering: each happens once per auction, so nothing is throttled.
 */
export async function claimEventSmsNotice(db: PrismaClient, key: EventSmsNoticeKey): Promise<{ id: string } | null> {
  const { userId, auctionId, eventSeq, kind, at } = key;
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    INSERT INTO notifications (id, user_id, auction_id, event_seq, kind, channel, status, event_at, updated_at)
    VALUES (gen_random_uuid(), ${userId}::uuid, ${auctionId}::uuid, ${eventSeq}::int, ${kind}, ${SMS_CHANNEL}, 'PENDING', ${at}::timestamptz, now())
    ON CONFLICT (auction_id, event_seq, user_id, kind) DO NOTHING
    RETURNING id::text`;
  return rows[0] ?? null;
}

/** Records an event notice that no provider could send; false when it was already recorded. */
export async function recordEventNoProvider(db: PrismaClient, key: EventSmsNoticeKey): Promise<boolean> {
  const { userId, auctionId, eventSeq, kind, at } = key;
  const inserted = await db.$executeRaw`
    INSERT INTO notifications (id, user_id, auction_id, event_seq, kind, channel, status, event_at, updated_at)
    VALUES (gen_random_uuid(), ${userId}::uuid, ${auctionId}::uuid, ${eventSeq}::int, ${kind}, ${SMS_CHANNEL}, 'SKIPPED_NO_PROVIDER', ${at}::timestamptz, now())
    ON CONFLICT (auction_id, event_seq, user_id, kind) DO NOTHING`;
  return inserted > 0;
}

/** The provider accepted the message. A status callback that got there first keeps its status. */
export async function recordSent(db: PrismaClient, id: string, providerMessageId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE notifications SET
      provider_message_id = ${providerMessageId},
      status = CASE WHEN status = 'PENDING' THEN 'SENT'::"NotificationStatus" ELSE status END,
      updated_at = now()
    WHERE id = ${id}::uuid`;
}

/** The message could not be handed over; only a claim still pending takes the failure. */
export async function recordFailed(db: PrismaClient, id: string, error: string): Promise<void> {
  await db.$executeRaw`
    UPDATE notifications SET status = 'FAILED', error = ${error}, updated_at = now()
    WHERE id = ${id}::uuid AND status = 'PENDING'`;
}

/** The request got no answer and may have been sent: the claim stays PENDING, for the status callback to settle. */
export async function recordOutcomeUnknown(db: PrismaClient, id: string, error: string): Promise<void> {
  await db.$executeRaw`
    UPDATE notifications SET error = ${error}, updated_at = now()
    WHERE id = ${id}::uuid AND status = 'PENDING'`;
}
