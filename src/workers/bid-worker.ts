import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, AuctionLogMessage, BidPlacedMessage } from '../ports/bid-log.js';
import type { AuctionEvent, BidPlacedPayload } from '../domain/events.js';
import type { DeadLetterCause, UseCaseMetrics } from '../ports/metrics.js';
import type { LiveAuctionEvent, LiveEvents } from '../ports/live-events.js';
import { aliasOf } from '../services/users/view-user.js';
import { InvalidBidMessageError, parseLogMessage } from './bid-message.js';
import type { DeadLetterQueue, LogBatch, LogConsumer, LogMessage } from '../ports/log-consumer.js';
import { runWorker, type Worker } from './run-worker.js';
import { coalesceCalls } from './coalesce-calls.js';
import type { PriceBook } from '../ports/price-book.js';
import { markPersisted } from './mark-persisted.js';
import { decisionBids, type DecisionBid } from '../services/bids/decision-bids.js';

export interface BidWorkerDeps {
  db: PrismaClient;
  consumer: LogConsumer;
  dlq: DeadLetterQueue;
  /** Where persisted events are fanned out to subscribers. */
  live: LiveEvents;
  /** Counts dead letters for alerting; absent where nobody scrapes (unit tests). */
  metrics?: Pick<UseCaseMetrics, 'bidDeadLettered'>;
  /** What a sold auction's payment starts as. */
  payments: PaymentTerms;
  /** Told what each batch persisted, so it can let go of what it kept until then; absent in unit tests. */
  priceBook?: Pick<PriceBook, 'markPersisted'>;
  logger: Logger;
}

export interface PaymentTerms {
  /** Without a provider the payment is NOT_CONFIGURED and nobody is asked to pay. */
  configured: boolean;
  /** How long the winner has to pay after the end. */
  deadlineMs: number;
}

/** Persists the auction log to Postgres: bids, ends and cancellations, their events, and each auction's latest state. */
export function createBidWorker({ db, consumer, dlq, live, metrics, payments, priceBook, logger: parent }: BidWorkerDeps): Worker {
  const logger = parent.child({ worker: 'bid-persister' });
  // The consumer hands over one batch per partition (several at once with
  // KAFKA_PARTITIONS_CONCURRENTLY); those that meet here share one transaction, so the per-statement
  // cost is paid once per round, not once per partition.
  const persistTogether = coalesceCalls((parts: Parsed[][]) => persistParts(db, parts, payments, logger));

  const handle = async (batch: LogBatch): Promise<void> => {
    const { parsed, invalid } = parseBatch(batch.messages);
    const { events, refused } = await persistTogether(parsed);
    // Subscribers only ever see events Postgres holds, so `Auction.events` can always fill a gap.
    // A failed fan-out must not hold up the durable record: subscribers fill the gap on the next event.
    await live.publishAuctionEvents(events).catch((error: unknown) => logger.error({ err: error, events: events.length }, 'live fan-out failed'));
    if (priceBook) {
      const refusedMessages = new Set(refused.map((r) => r.message));
      await markPersisted(priceBook, parsed.filter((p) => !refusedMessages.has(p.message)).map((p) => p.entry), logger);
    }
    // Only once the good rows are durable: if this fails, the batch comes again, which rewrites
    // nothing and at worst dead-letters a message twice.
    for (const { message, reason, cause } of [...invalid, ...refused]) {
      // Every message on this log is a bid some bidder was told is accepted, and the gateway checks
      // all that is checked here before accepting: a dead letter is a lost bid and a gap in its
      // auction's seq, so it is an alarm, not routine.
      logger.error({ partition: batch.partition, offset: message.offset, auctionId: message.key, cause, reason }, 'accepted bid dead-lettered: it will not be persisted');
      metrics?.bidDeadLettered(cause);
      await dlq.publish({ partition: batch.partition, ...message }, reason);
    }
    logger.debug({ partition: batch.partition, persisted: parsed.length - refused.length, deadLettered: invalid.length + refused.length }, 'batch persisted');
  };

  return runWorker('bid worker', consumer, handle, logger);
}

interface Parsed {
  message: LogMessage;
  entry: AuctionLogMessage;
}

interface Rejected {
  message: LogMessage;
  reason: string;
  cause: DeadLetterCause;
}

/** Parses a batch; messages that can never be understood come back with the reason, for the dead-letter topic. */
export function parseBatch(messages: LogMessage[]): { parsed: Parsed[]; invalid: Rejected[] } {
  const parsed: Parsed[] = [];
  const invalid: Rejected[] = [];
  for (const message of messages) {
    try {
      const entry = parseLogMessage(message.value);
      // The key picks the partition, and per-auction order (and isCaughtUp) relies on it.
      if (message.key !== entry.auctionId) throw new InvalidBidMessageError(`key ${message.key ?? '(none)'} is not the auction id ${entry.auctionId}`);
      parsed.push({ message, entry });
    } catch (error) {
      if (!(error instanceof InvalidBidMessageError)) throw error;
      invalid.push({ message, reason: error.message, cause: 'invalid' });
    }
  }
  return { parsed, invalid };
}

/**
 * Persists the batch in one transaction. When Postgres refuses its data (say, a bid for an auction
 * it does not have), that refusal would repeat on every redelivery; so the bids are then persisted
 * one by one and only the refused ones are returned, to be dead-lettered.
 */
async function persistIsolatingBadRows(
  db: PrismaClient,
  parsed: Parsed[],
  payments: PaymentTerms,
  logger: Logger,
): Promise<{ events: LiveAuctionEvent[]; refused: Rejected[] }> {
  try {
    return { events: await persistLogBatch(db, parsed.map((p) => p.entry), payments), refused: [] };
  } catch (error) {
    if (!isDataError(error)) throw error;
    logger.warn({ err: error }, 'Postgres refused a batch; persisting its bids one by one');
  }
  const events: LiveAuctionEvent[] = [];
  const rejected: Rejected[] = [];
  for (const { message, entry } of parsed) {
    try {
      events.push(...(await persistLogBatch(db, [entry], payments)));
    } catch (error) {
      if (!isDataError(error)) throw error;
      logger.error({ err: error, id: entry.id, type: entry.type, auctionId: entry.auctionId }, 'Postgres refused a log message');
      rejected.push({ message, reason: `refused by Postgres (${sqlState(error)}): ${(error as Error).message}`, cause: 'refused' });
    }
  }
  return { events, refused: rejected };
}

/**
 * Persists several partitions' batches in one transaction and hands each its own events. Each
 * auction lives in one partition, so concatenating the batches keeps every auction's order. When
 * Postgres refuses the whole, each batch is persisted on its own, isolating the bad rows.
 */
async function persistParts(
  db: PrismaClient,
  parts: Parsed[][],
  payments: PaymentTerms,
  logger: Logger,
): Promise<Array<{ events: LiveAuctionEvent[]; refused: Rejected[] }>> {
  if (parts.length === 1) return [await persistIsolatingBadRows(db, parts[0]!, payments, logger)];
  let events: LiveAuctionEvent[];
  try {
    events = await persistLogBatch(db, parts.flat().map((p) => p.entry), payments);
  } catch (error) {
    if (!isDataError(error)) throw error;
    const outcomes = [];
    for (const part of parts) outcomes.push(await persistIsolatingBadRows(db, part, payments, logger));
    return outcomes;
  }
  const partOf = new Map(parts.flatMap((part, i) => part.map((p) => [p.entry.auctionId, i] as const)));
  const byPart = parts.map((): LiveAuctionEvent[] => []);
  for (const event of events) byPart[partOf.get(event.auctionId)!]!.push(event);
  return byPart.map((own) => ({ events: own, refused: [] }));
}

/**
 * Persists a batch of the log in order: runs of bids in one statement each, every end or
 * cancellation in one statement of its own; replays change nothing. Returns the events, as
 * stored, in log order.
 */
export async function persistLogBatch(db: PrismaClient, messages: AuctionLogMessage[], payments: PaymentTerms): Promise<LiveAuctionEvent[]> {
  const events: LiveAuctionEvent[] = [];
  let bids: BidPlacedMessage[] = [];
  for (const message of messages) {
    if (message.type === 'BidPlaced') bids.push(message);
    // A purchase's end follows its bid at once.
    const close = message.type === 'BidPlaced' ? message.ended : message;
    if (!close) continue;
    events.push(...(await persistBidBatch(db, bids)));
    bids = [];
    events.push(close.type === 'AuctionEnded' ? await persistEnd(db, close, payments) : await persistCancel(db, close));
  }
  events.push(...(await persistBidBatch(db, bids)));
  return events;
}

/**
 * Records an auction's end in one statement: its event, the final state and winner (only from OPEN,
 * so a replay or a second closing worker changes nothing), and the winner's payment.
 */
async function persistEnd(db: PrismaClient, m: AuctionEndedMessage, payments: PaymentTerms): Promise<AuctionEvent> {
  const event: AuctionEvent = {
    type: 'AuctionEnded',
    auctionId: m.auctionId,
    seq: m.seq,
    at: m.at,
    payload: { sold: m.sold, finalPrice: m.finalPrice, winnerId: m.winnerId, winningBidId: m.winningBidId, reserveStatus: m.reserveStatus, bidCount: m.bidCount },
  };
  const dueAt = new Date(Date.parse(m.at) + payments.deadlineMs).toISOString();
  const status = payments.configured ? 'REQUIRES_PAYMENT' : 'NOT_CONFIGURED';
  // The state moves from the close's snapshot, whose seq follows every bid it counted; a bid that
  // reaches the log after the end (republished) is stored but never moves the auction back.
  await db.$executeRaw`
    WITH new_event AS (
      INSERT INTO auction_events (auction_id, seq, type, payload, at)
      VALUES (${m.auctionId}::uuid, ${m.seq}, 'AuctionEnded', ${JSON.stringify(event.payload)}::jsonb, ${m.at}::timestamptz)
      ON CONFLICT DO NOTHING
    ),
    ended AS (
      UPDATE auctions SET
        state = 'ENDED', ended_at = ${m.at}::timestamptz, winner_id = ${m.winnerId}::uuid,
        current_price = ${m.currentPrice}, bid_count = ${m.bidCount}, leading_bid_id = ${m.leadingBidId}::uuid,
        leader_id = ${m.leaderId}::uuid, last_seq = GREATEST(last_seq, ${m.seq}), ends_at = ${m.at}::timestamptz,
        close_lease_until = NULL, updated_at = now()
      WHERE id = ${m.auctionId}::uuid AND state = 'OPEN'
      RETURNING id, currency
    )
    INSERT INTO payments (id, auction_id, payer_id, amount, currency, status, due_at, next_attempt_at, updated_at)
    SELECT gen_random_uuid(), id, ${m.winnerId}::uuid, ${m.finalPrice ?? 0}, currency, ${status}::"PaymentState", ${dueAt}::timestamptz, now(), now()
    FROM ended WHERE ${m.sold}
    ON CONFLICT (auction_id) DO NOTHING`;
  return event;
}

/**
 * Records a cancellation in one statement: its event, the state, and a refund request on the
 * payment of a cancelled sale (the payments job refunds or voids it).
 */
async function persistCancel(db: PrismaClient, m: AuctionCancelledMessage): Promise<AuctionEvent> {
  const event: AuctionEvent = { type: 'AuctionCancelled', auctionId: m.auctionId, seq: m.seq, at: m.at, payload: { reason: m.reason, afterEnd: m.afterEnd } };
  await db.$executeRaw`
    WITH new_event AS (
      INSERT INTO auction_events (auction_id, seq, type, payload, at)
      VALUES (${m.auctionId}::uuid, ${m.seq}, 'AuctionCancelled', ${JSON.stringify(event.payload)}::jsonb, ${m.at}::timestamptz)
      ON CONFLICT DO NOTHING
    ),
    cancelled AS (
      UPDATE auctions SET
        state = 'CANCELLED', cancelled_at = ${m.at}::timestamptz, cancel_reason = ${m.reason},
        last_seq = GREATEST(last_seq, ${m.seq}), close_lease_until = NULL, updated_at = now()
      WHERE id = ${m.auctionId}::uuid AND state <> 'CANCELLED'
      RETURNING id
    )
    UPDATE payments SET refund_requested_at = ${m.at}::timestamptz, next_attempt_at = now(), updated_at = now()
    WHERE auction_id IN (SELECT id FROM cancelled) AND refund_requested_at IS NULL`;
  return event;
}

/**
 * Writes bids, their BidPlaced (and AuctionExtended) events and each auction's newest state
 * atomically; replays change nothing. Returns the events, as stored, in log order.
 */
export async function persistBidBatch(db: PrismaClient, messages: BidPlacedMessage[]): Promise<LiveAuctionEvent[]> {
  if (messages.length === 0) return [];
  const [bidders, auctions] = await Promise.all([
    db.user.findMany({ where: { id: { in: [...new Set(messages.flatMap((m) => decisionBids(m).map((b) => b.bidderId)))] } }, select: { id: true, displayName: true } }),
    db.auction.findMany({ where: { id: { in: [...new Set(messages.map((m) => m.auctionId))] } }, select: { id: true, sellerId: true } }),
  ]);
  const aliases = new Map(bidders.map((b) => [b.id, aliasOf(b.displayName)]));
  const sellers = new Map(auctions.map((a) => [a.id, a.sellerId]));
  const rows = messages.flatMap((m) => decisionBids(m).map((bid) => ({ ...bid, auctionId: m.auctionId, endsAt: m.endsAt, message: m })));
  const events = messages.flatMap((m): LiveAuctionEvent[] => {
    const placed = decisionBids(m).map(
      (bid): LiveAuctionEvent => ({
        type: 'BidPlaced',
        auctionId: m.auctionId,
        seq: bid.seq,
        at: m.at,
        payload: eventPayload(m, bid, aliases.get(bid.bidderId) ?? aliasOf(''), sellers.get(m.auctionId)),
      }),
    );
    if (!m.extension) return placed;
    return [...placed, { type: 'AuctionExtended', auctionId: m.auctionId, seq: m.extension.seq, at: m.at, payload: { endsAt: m.extension.endsAt } }];
  });
  const eventColumn = <T>(pick: (e: LiveAuctionEvent) => T): T[] => events.map(pick);
  const column = <T>(pick: (row: (typeof rows)[number]) => T): T[] => rows.map(pick);
  // One statement, so one implicit transaction and one round trip: the batch lands whole or not at
  // all. A replayed bid meets its own id and is skipped; a different bid that collides with a stored
  // one on (auction_id, seq) or on its idempotency key is not a replay but a bug, so it fails the
  // statement (23505) and is dead-lettered loudly rather than dropped without a trace. An event can
  // only collide with its own replay, since its bid was inserted or skipped as one. The auction
  // takes the state of its highest seq in the batch, and only forward: a replayed batch, or a bid
  // that reached the log after a later one (bid-finisher.ts), never moves it back.
  await db.$executeRaw`
    WITH batch AS (
      SELECT * FROM unnest(
        ${column((b) => b.id)}::uuid[], ${column((b) => b.auctionId)}::uuid[], ${column((b) => b.bidderId)}::uuid[],
        ${column((b) => b.amount)}::int[], ${column((b) => b.maxAmount)}::int[], ${column((b) => b.kind)}::text[],
        ${column((b) => b.requestedAmount)}::int[], ${column((b) => b.seq)}::int[],
        ${column((b) => b.idempotencyKey)}::text[], ${column((b) => b.placedAt)}::timestamptz[],
        ${column((b) => b.currentPrice)}::int[], ${column((b) => b.bidCount)}::int[], ${column((b) => b.endsAt)}::timestamptz[],
        ${column((b) => lastBidSeqOf(b.message, b.seq))}::int[]
      ) AS b(id, auction_id, bidder_id, amount, max_amount, kind, requested_amount, seq, idempotency_key, placed_at, current_price, bid_count, ends_at, last_seq)
    ),
    events AS (
      SELECT * FROM unnest(
        ${eventColumn((e) => e.auctionId)}::uuid[], ${eventColumn((e) => e.seq)}::int[], ${eventColumn((e) => e.type)}::text[],
        ${eventColumn((e) => JSON.stringify(e.payload))}::text[], ${eventColumn((e) => e.at)}::timestamptz[]
      ) AS e(auction_id, seq, type, payload, at)
    ),
    new_bids AS (
      INSERT INTO bids (id, auction_id, bidder_id, amount, max_amount, kind, requested_amount, seq, idempotency_key, placed_at)
      SELECT id, auction_id, bidder_id, amount, max_amount, kind::"BidKind", requested_amount, seq, idempotency_key, placed_at FROM batch
      ON CONFLICT (id) DO NOTHING
    ),
    new_events AS (
      INSERT INTO auction_events (auction_id, seq, type, payload, at)
      SELECT auction_id, seq, type, payload::jsonb, at FROM events
      ON CONFLICT DO NOTHING
    ),
    latest AS (
      SELECT DISTINCT ON (auction_id) * FROM batch ORDER BY auction_id, seq DESC
    )
    UPDATE auctions AS a SET
      current_price = l.current_price, bid_count = l.bid_count, last_seq = l.last_seq,
      leading_bid_id = l.id, leader_id = l.bidder_id, ends_at = l.ends_at, updated_at = now()
    FROM latest AS l
    WHERE a.id = l.auction_id AND a.last_seq < l.seq`;
  return events;
}

/**
 * The seq the auction's state reaches with this bid: the extension's, when the decision made one and
 * this is its last bid, since the extension follows the bids.
 */
function lastBidSeqOf(m: BidPlacedMessage, seq: number): number {
  return m.extension && seq === m.extension.seq - 1 ? m.extension.seq : seq;
}

/** The stored event: what a subscriber catching up needs (see services/auctions/graph-event.ts). The maximum stays out. */
function eventPayload(m: BidPlacedMessage, bid: DecisionBid, bidderAlias: string, sellerId: string | undefined): BidPlacedPayload {
  const { id, bidderId, amount, seq, placedAt, kind } = bid;
  // The seller may see bidders; carrying it saves every signed-in watcher a lookup per bid.
  return {
    bid: { id, auctionId: m.auctionId, bidderId, bidderAlias, sellerId, amount, seq, placedAt, kind },
    currentPrice: bid.currentPrice,
    minimumNextBid: bid.minimumNextBid,
    bidCount: bid.bidCount,
    endsAt: m.endsAt,
  };
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation) repeat on every attempt. */
function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

function sqlState(error: unknown): string | undefined {
  // Prisma wraps what the driver adapter reported (adapter-pg and the PGlite adapter alike).
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } } })?.meta
    ?.driverAdapterError?.cause;
  const code = cause?.originalCode ?? cause?.code;
  return typeof code === 'string' ? code : undefined;
}
