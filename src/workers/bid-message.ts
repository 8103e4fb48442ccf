import { z } from 'zod';
import type { AuctionLogMessage } from '../ports/bid-log.js';
import { isStorableText } from '../domain/text.js';

// Everything Postgres would refuse must be refused here: a row the database rejects on every
// attempt would otherwise be retried forever and block its partition.
const INT4_MAX = 2_147_483_647;
const id = z.guid();
const money = z.int().min(0).max(INT4_MAX);
const count = z.int().min(0).max(INT4_MAX);
const instant = z.iso.datetime({ offset: true });
// Text Postgres could not store as given. The gateway refuses it before a bid is accepted
// (services/validate.ts), so a bid refused here is a bug on that side.
const text = z.string().min(1).refine(isStorableText, { message: 'must not contain NUL or an unpaired surrogate' });

const reserveStatus = z.enum(['NO_RESERVE', 'NOT_MET', 'MET']);

const auctionEndedSchema = z
  .object({
    v: z.literal(1),
    type: z.literal('AuctionEnded'),
    id,
    auctionId: id,
    seq: count.min(1),
    at: instant,
    sold: z.boolean(),
    finalPrice: money.nullable(),
    winnerId: id.nullable(),
    winningBidId: id.nullable(),
    reserveStatus,
    bidCount: count,
    currentPrice: money,
    leadingBidId: id.nullable(),
    leaderId: id.nullable(),
  })
  .refine((m) => [m.winnerId, m.winningBidId, m.finalPrice].every((field) => (field !== null) === m.sold), {
    message: 'a sold auction names its winner, winning bid and final price; an unsold one none of them',
    path: ['sold'],
  });

// Unknown fields are ignored rather than refused: a newer producer adding one during a rolling
// deploy must not send every bid to the dead-letter topic. Breaking changes bump `v`.
const bidPlacedSchema = z
  .object({
    v: z.literal(1),
    type: z.literal('BidPlaced'),
    id,
    auctionId: id,
    seq: count.min(1),
    at: instant,
    bid: z.object({
      id,
      bidderId: id,
      amount: money,
      maxAmount: money.nullable(),
      requestedAmount: money.optional(),
      kind: z.literal('BUY_NOW').optional(),
      idempotencyKey: text,
      placedAt: instant,
    }),
    currentPrice: money,
    bidCount: count.min(1),
    minimumNextBid: money,
    endsAt: instant,
    previousLeader: z.object({ bidId: id, bidderId: id, amount: money }).nullable(),
    automatic: z.object({ id, bidderId: id, amount: money, maxAmount: money, seq: count.min(1) }).nullish(),
    extension: z.object({ seq: count.min(2), endsAt: instant }).nullish(),
    ended: auctionEndedSchema.nullish(),
  })
  .refine((m) => m.bid.id === m.id, { message: 'bid.id must equal id', path: ['bid', 'id'] })
  .refine((m) => !m.automatic || (Math.abs(m.automatic.seq - m.seq) === 1 && m.automatic.id !== m.id), {
    message: 'the automatic bid must sit right before or after the bid, with an id of its own',
    path: ['automatic'],
  })
  .refine((m) => !m.extension || m.extension.seq === Math.max(m.seq, m.automatic?.seq ?? 0) + 1, { message: 'extension.seq must follow the bids', path: ['extension', 'seq'] })
  .refine((m) => !m.ended || (m.ended.seq === m.seq + 1 && !m.automatic && !m.extension && m.ended.winningBidId === m.id), {
    message: 'a purchase ends the auction with its own bid, the event right after it',
    path: ['ended'],
  });

const auctionCancelledSchema = z.object({
  v: z.literal(1),
  type: z.literal('AuctionCancelled'),
  id,
  auctionId: id,
  seq: count.min(1),
  at: instant,
  reason: z.string().refine(isStorableText, { message: 'must not contain NUL or an unpaired surrogate' }).nullable(),
  afterEnd: z.boolean(),
});

const logMessageSchema = z.union([bidPlacedSchema, auctionEndedSchema, auctionCancelledSchema]);

/** The message could not be understood; `message` says why, for the dead-letter header. */
export class InvalidBidMessageError extends Error {
  override name = 'InvalidBidMessageError';
}

/** Parses a log message strictly, or throws InvalidBidMessageError saying why. */
export function parseLogMessage(raw: Buffer | null): AuctionLogMessage {
  if (raw === null) throw new InvalidBidMessageError('the message has no value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new InvalidBidMessageError(`not JSON: ${(error as Error).message}`);
  }
  const type = (json as { type?: unknown } | null)?.type;
  const schema = type === 'AuctionEnded' ? auctionEndedSchema : type === 'AuctionCancelled' ? auctionCancelledSchema : type === 'BidPlaced' ? bidPlacedSchema : logMessageSchema;
  const result = schema.safeParse(json);
  if (!result.success) throw new InvalidBidMessageError(describe(result.error));
  return result.data;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`)
    .join('; ');
}
