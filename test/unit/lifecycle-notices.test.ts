import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scratchPglite, type ScratchPglite } from '../support/pglite.js';
import { createLiveEvents } from '../../src/adapters/live/live-events.js';
import { createMemoryTransport } from '../../src/adapters/live/memory-transport.js';
import { AppError } from '../../src/domain/errors.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { SmsError, type SmsMessage, type SmsSender } from '../../src/ports/sms.js';
import type { AuctionCancelledMessage, AuctionEndedMessage, AuctionLogMessage, BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LiveEvents, LiveNotice } from '../../src/ports/live-events.js';
import { notifyLifecycle } from '../../src/services/notifications/lifecycle-notices.js';
import { notifyPaymentOverdue } from '../../src/services/notifications/payment-overdue.js';
import { recordSmsStatus } from '../../src/services/notifications/record-sms-status.js';
import type { NoticeDeps } from '../../src/services/notifications/send-notices.js';
import { watchNotices } from '../../src/services/live/watch-notices.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const PUBLIC_URL = 'https://auctions.example.com';

/** An SMS sender that records what it sent, and refuses whatever `refuse` says with a permanent error. */
function recordingSms(): SmsSender & { sent: SmsMessage[]; refuse?: (message: SmsMessage) => boolean } {
  const sender = {
    sent: [] as SmsMessage[],
    refuse: undefined as ((message: SmsMessage) => boolean) | undefined,
    send: async (message: SmsMessage) => {
      if (sender.refuse?.(message)) throw new SmsError('invalid number', true, '21211');
      sender.sent.push(message);
      return { providerMessageId: `SM${randomUUID().replace(/-/g, '')}` };
    },
    verifyCallback: () => true,
  };
  return sender;
}

describe('lifecycle notices', () => {
  let scratch: ScratchPglite;
  let db: PrismaClient;
  let live: LiveEvents;
  let sms: ReturnType<typeof recordingSms>;

  beforeAll(async () => {
    scratch = await scratchPglite('lifecycle-notices');
    db = scratch.db;
  });
  afterAll(async () => {
    await scratch?.remove();
  });
  beforeEach(() => {
    live = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger });
    sms = recordingSms();
  });
  afterEach(async () => {
    await live.close();
  });

  const deps = (overrides: Partial<NoticeDeps> = {}): NoticeDeps => ({ db, live, sms, publicUrl: PUBLIC_URL, smsRetry: { attempts: 2, firstDelayMs: 1 }, logger, ...overrides });

  let phoneCounter = 0;
  async function user(options: { phone?: boolean; smsOptIn?: boolean } = { phone: true, smsOptIn: true }) {
    const phone = options.phone ? `+1415555${String(++phoneCounter).padStart(4, '0')}` : null;
    const created = await db.user.create({
      data: { email: `${randomUUID()}@example.com`, passwordHash: 'x', displayName: 'Jordan', phone, smsOptIn: options.smsOptIn ?? false },
    });
    return { id: created.id, phone };
  }

  async function newAuction(sellerId: string, title = 'Vintage camera') {
    const auction = await db.auction.create({
      data: {
        sellerId,
        title,
        description: 'A rangefinder',
        currency: 'EUR',
        startingPrice: 1000,
        currentPrice: 1000,
        startsAt: new Date(T0 - 60_000),
        endsAt: new Date(at(3600)),
        scheduledEndsAt: new Date(at(3600)),
      },
    });
    return auction.id;
  }

  /** Bids as the bid persister stores them, seq 1, 2, ... */
  async function storeBids(auctionId: string, bidderIds: string[]) {
    for (const [i, bidderId] of bidderIds.entries()) {
      await db.bid.create({
        data: { id: randomUUID(), auctionId, bidderId, amount: 1000 + 100 * i, seq: i + 1, idempotencyKey: randomUUID(), placedAt: new Date(at(i + 1)) },
      });
    }
  }

  async function storeEvent(message: AuctionEndedMessage | AuctionCancelledMessage) {
    await db.auctionEvent.create({ data: { auctionId: message.auctionId, seq: message.seq, type: message.type, payload: {}, at: new Date(message.at) } });
  }

  const ended = (auctionId: string, seq: number, outcome: { winnerId: string; price: number } | { bidCount: number; price: number }): AuctionEndedMessage => {
    const sold = 'winnerId' in outcome;
    return {
      v: 1,
      type: 'AuctionEnded',
      id: randomUUID(),
      auctionId,
      seq,
      at: at(3600),
      sold,
      finalPrice: sold ? outcome.price : null,
      winnerId: sold ? outcome.winnerId : null,
      winningBidId: sold ? randomUUID() : null,
      reserveStatus: sold ? 'MET' : 'NOT_MET',
      bidCount: sold ? seq - 1 : outcome.bidCount,
      currentPrice: outcome.price,
      leadingBidId: null,
      leaderId: sold ? outcome.winnerId : null,
    };
  };

  const cancelled = (auctionId: string, seq: number, afterEnd = false): AuctionCancelledMessage => ({
    v: 1,
    type: 'AuctionCancelled',
    id: randomUUID(),
    auctionId,
    seq,
    at: at(1800),
    reason: 'Damaged in storage',
    afterEnd,
  });

  const rows = (auctionId: string) => db.notification.findMany({ where: { auctionId }, orderBy: [{ kind: 'asc' }, { userId: 'asc' }] });
  const link = (auctionId: string) => `${PUBLIC_URL}/auctions/${auctionId}`;
  const textsTo = (phone: string | null) => sms.sent.filter((m) => m.to === phone);

  /**
   * What each user hears on their notices subscription while `act` runs. A marker published to each
   * afterwards ends the listening: the bus keeps order, so anything of `act`'s arrives before it.
   */
  async function heard(userIds: string[], act: () => Promise<unknown>): Promise<LiveNotice[][]> {
    const watches = await Promise.all(userIds.map((id) => watchNotices({ live }, { id })));
    await act();
    const marker = randomUUID();
    await live.publishNotices(userIds.map((userId) => ({ userId, kind: 'UNSOLD', auctionId: marker, seq: 1, amount: null, at: at(0) })));
    return Promise.all(
      watches.map(async (watch) => {
        const notices: LiveNotice[] = [];
        for (let next = await watch.next(); next.value.auctionId !== marker; next = await watch.next()) notices.push(next.value);
        await watch.return?.();
        return notices;
      }),
    );
  }

  it('tells the winner they won and should pay, and the seller it sold, live and by SMS with the title, price and link', async () => {
    const [seller, winner, loser] = [await user(), await user(), await user()];
    const auctionId = await newAuction(seller.id, 'Leica M3 "double stroke"');
    const message = ended(auctionId, 7, { winnerId: winner.id, price: 12_50 });

    const [toWinner, toSeller, toLoser] = await heard([winner.id, seller.id, loser.id], () => notifyLifecycle(deps(), [message]));

    expect(toWinner).toEqual([{ userId: winner.id, kind: 'WON', auctionId, seq: 7, amount: 12_50, at: message.at }]);
    expect(toSeller).toEqual([{ userId: seller.id, kind: 'SOLD', auctionId, seq: 7, amount: 12_50, at: message.at }]);
    expect(toLoser).toEqual([]);
    expect(textsTo(winner.phone).map((m) => m.body)).toEqual([`You won "Leica M3 "double stroke"" for 12.50 EUR. Pay now to complete your purchase: ${link(auctionId)}`]);
    expect(textsTo(seller.phone).map((m) => m.body)).toEqual([`"Leica M3 "double stroke"" sold for 12.50 EUR. The winner has been asked to pay: ${link(auctionId)}`]);
    expect(sms.sent).toHaveLength(2);

    const stored = await rows(auctionId);
    expect(stored.map((r) => [r.kind, r.userId, r.eventSeq, r.bidId, r.channel, r.status, r.eventAt.toISOString()])).toEqual([
      ['sold', seller.id, 7, null, 'sms', 'SENT', message.at],
      ['won', winner.id, 7, null, 'sms', 'SENT', message.at],
    ]);
    expect(textsTo(winner.phone)[0]!.statusCallback).toBe(`${PUBLIC_URL}/webhooks/twilio/status?notificationId=${stored[1]!.id}`);
  });

  it('tells the seller of an unsold auction how high the bidding went, or that nobody bid', async () => {
    const seller = await user();
    const [reserveNotMet, noBids] = [await newAuction(seller.id), await newAuction(seller.id, 'Typewriter')];
    const messages = [ended(reserveNotMet, 4, { bidCount: 3, price: 18_00 }), ended(noBids, 1, { bidCount: 0, price: 10_00 })];

    const [toSeller] = await heard([seller.id], () => notifyLifecycle(deps(), messages));

    expect(toSeller!.map((n) => [n.auctionId, n.kind, n.amount])).toEqual([
      [reserveNotMet, 'UNSOLD', 18_00],
      [noBids, 'UNSOLD', null],
    ]);
    expect(sms.sent.map((m) => m.body)).toEqual([
      `"Vintage camera" ended without a sale: the highest bid, 18.00 EUR, did not meet your reserve. ${link(reserveNotMet)}`,
      `"Typewriter" ended without a sale: nobody bid. ${link(noBids)}`,
    ]);
    expect((await rows(reserveNotMet)).map((r) => [r.kind, r.userId, r.eventSeq])).toEqual([['unsold', seller.id, 4]]);
  });

  it('tells everyone who bid on a cancelled auction once each, but not the seller who cancelled it', async () => {
    const [seller, alice, bob, carol, bystander] = [await user(), await user(), await user(), await user(), await user()];
    const auctionId = await newAuction(seller.id);
    await storeBids(auctionId, [alice.id, bob.id, alice.id, carol.id]);
    const message = cancelled(auctionId, 5);
    await storeEvent(message);

    const notices = await heard([alice.id, bob.id, carol.id, seller.id, bystander.id], () => notifyLifecycle(deps(), [message]));

    expect(notices.map((n) => n.map((notice) => [notice.kind, notice.seq, notice.amount]))).toEqual([
      [['CANCELLED', 5, null]],
      [['CANCELLED', 5, null]],
      [['CANCELLED', 5, null]],
      [],
      [],
    ]);
    expect(sms.sent.map((m) => m.to).sort()).toEqual([alice.phone, bob.phone, carol.phone].sort());
    expect(textsTo(bob.phone)[0]!.body).toBe(`The seller cancelled "Vintage camera", which you bid on. Your bids no longer count: ${link(auctionId)}`);
    expect((await rows(auctionId)).map((r) => [r.kind, r.eventSeq, r.status])).toEqual(Array.from({ length: 3 }, () => ['cancelled', 5, 'SENT']));
  });

  it('tells the bidders of a sale cancelled after the auction ended that a payment is refunded', async () => {
    const [seller, winner] = [await user(), await user()];
    const auctionId = await newAuction(seller.id);
    await storeBids(auctionId, [winner.id]);
    const message = cancelled(auctionId, 3, true);
    await storeEvent(message);
    await notifyLifecycle(deps(), [message]);
    expect(textsTo(winner.phone).map((m) => m.body)).toEqual([`The seller cancelled the sale of "Vintage camera". Any payment you made is refunded: ${link(auctionId)}`]);
  });

  it('waits for the bid persister to store a cancellation before telling bidders, so no earlier bidder is missed', async () => {
    const [seller, alice] = [await user(), await user()];
    const auctionId = await newAuction(seller.id);
    await storeBids(auctionId, [alice.id]);
    const message = cancelled(auctionId, 2);

    await expect(notifyLifecycle(deps(), [message])).rejects.toThrow(/bid persister/);
    expect(sms.sent).toEqual([]);
    expect(await rows(auctionId)).toEqual([]);

    await storeEvent(message);
    await notifyLifecycle(deps(), [message]);
    expect(sms.sent.map((m) => m.to)).toEqual([alice.phone]);
  });

  it('sends each SMS once and each user hears each notice once when the same messages are handled again', async () => {
    const [seller, winner, bidder] = [await user(), await user(), await user()];
    const [sold, withdrawn] = [await newAuction(seller.id), await newAuction(seller.id)];
    await storeBids(withdrawn, [bidder.id]);
    const messages: AuctionLogMessage[] = [ended(sold, 3, { winnerId: winner.id, price: 20_00 }), cancelled(withdrawn, 2)];
    await storeEvent(messages[1] as AuctionCancelledMessage);

    const notices = await heard([seller.id, winner.id, bidder.id], async () => {
      await notifyLifecycle(deps(), messages);
      await notifyLifecycle(deps(), messages);
      await notifyLifecycle(deps(), messages.slice(1));
    });

    expect(notices.map((n) => n.map((notice) => notice.kind))).toEqual([['SOLD'], ['WON'], ['CANCELLED']]);
    expect(sms.sent).toHaveLength(3);
    expect([...(await rows(sold)), ...(await rows(withdrawn))]).toHaveLength(3);
  });

  it('sends each SMS once when two notifiers handle the same messages at the same time', async () => {
    const [seller, winner, ...bidders] = await Promise.all(Array.from({ length: 8 }, () => user()));
    const [sold, withdrawn] = [await newAuction(seller!.id), await newAuction(seller!.id)];
    await storeBids(withdrawn, bidders.map((b) => b.id));
    const messages: AuctionLogMessage[] = [ended(sold, 3, { winnerId: winner!.id, price: 20_00 }), cancelled(withdrawn, bidders.length + 1)];
    await storeEvent(messages[1] as AuctionCancelledMessage);
    const other = recordingSms();

    await Promise.all([notifyLifecycle(deps(), messages), notifyLifecycle(deps({ sms: other }), messages)]);

    const recipients = [...sms.sent, ...other.sent].map((m) => m.to).sort();
    expect(recipients).toEqual([seller!, winner!, ...bidders].map((u) => u.phone).sort());
    expect([...(await rows(sold)), ...(await rows(withdrawn))].map((r) => r.status)).toEqual(Array.from({ length: 8 }, () => 'SENT'));
  });

  it('texts nobody who has not opted in or has no phone, but still tells them live', async () => {
    const seller = await user({ phone: true, smsOptIn: false });
    const winner = await user({ phone: false, smsOptIn: true });
    const auctionId = await newAuction(seller.id);

    const [toSeller, toWinner] = await heard([seller.id, winner.id], () => notifyLifecycle(deps(), [ended(auctionId, 2, { winnerId: winner.id, price: 10_00 })]));

    expect([toSeller!.map((n) => n.kind), toWinner!.map((n) => n.kind)]).toEqual([['SOLD'], ['WON']]);
    expect(sms.sent).toEqual([]);
    expect(await rows(auctionId)).toEqual([]);
  });

  it('ignores bids, leaving them to the outbid notices', async () => {
    const [seller, alice] = [await user(), await user()];
    const auctionId = await newAuction(seller.id);
    const bid: BidPlacedMessage = {
      v: 1,
      type: 'BidPlaced',
      id: randomUUID(),
      auctionId,
      seq: 1,
      at: at(1),
      bid: { id: randomUUID(), bidderId: alice.id, amount: 10_00, maxAmount: null, idempotencyKey: 'k', placedAt: at(1) },
      currentPrice: 10_00,
      bidCount: 1,
      minimumNextBid: 10_50,
      endsAt: at(3600),
      previousLeader: null,
    };
    const notices = await heard([seller.id, alice.id], () => notifyLifecycle(deps(), [bid]));
    expect(notices).toEqual([[], []]);
    expect(sms.sent).toEqual([]);
  });

  it('records a refused SMS as FAILED without failing the batch, and takes status callbacks on the ones sent', async () => {
    const [seller, winner] = [await user(), await user()];
    const auctionId = await newAuction(seller.id);
    sms.refuse = (message) => message.to === seller.phone;

    await notifyLifecycle(deps(), [ended(auctionId, 2, { winnerId: winner.id, price: 10_00 })]);

    const [sold, won] = await rows(auctionId);
    expect([sold!.status, sold!.error]).toEqual(['FAILED', '21211: invalid number']);
    expect(await recordSmsStatus(db, { notificationId: won!.id, providerMessageId: won!.providerMessageId!, status: 'delivered' })).toBe(true);
    expect((await db.notification.findUniqueOrThrow({ where: { id: won!.id } })).status).toBe('DELIVERED');
  });

  it('records SKIPPED_NO_PROVIDER once per notice when no SMS provider is configured', async () => {
    const [seller, winner] = [await user(), await user()];
    const auctionId = await newAuction(seller.id);
    const message = ended(auctionId, 2, { winnerId: winner.id, price: 10_00 });
    await notifyLifecycle(deps({ sms: null }), [message]);
    await notifyLifecycle(deps({ sms: null }), [message]);
    expect((await rows(auctionId)).map((r) => [r.kind, r.status])).toEqual([
      ['sold', 'SKIPPED_NO_PROVIDER'],
      ['won', 'SKIPPED_NO_PROVIDER'],
    ]);
  });

  describe('an overdue payment', () => {
    it('tells the seller once, live and by SMS, about the auction’s end', async () => {
      const [seller, winner] = [await user(), await user()];
      const auctionId = await newAuction(seller.id);
      const end = ended(auctionId, 6, { winnerId: winner.id, price: 45_00 });
      await storeEvent(end);
      const overdue = { paymentId: randomUUID(), auctionId, sellerId: seller.id, amount: 45_00, dueAt: new Date(at(4 * 86_400)) };

      const [toSeller, toWinner] = await heard([seller.id, winner.id], async () => {
        await notifyPaymentOverdue(deps(), overdue);
        await notifyPaymentOverdue(deps(), overdue);
      });

      expect(toSeller).toEqual([{ userId: seller.id, kind: 'PAYMENT_OVERDUE', auctionId, seq: 6, amount: 45_00, at: at(4 * 86_400) }]);
      expect(toWinner).toEqual([]);
      expect(sms.sent.map((m) => [m.to, m.body])).toEqual([[seller.phone, `The winner of "Vintage camera" did not pay 45.00 EUR in time: ${link(auctionId)}`]]);
      expect((await rows(auctionId)).map((r) => [r.kind, r.eventSeq, r.status])).toEqual([['payment_overdue', 6, 'SENT']]);
    });

    it('reaches the seller even after the SOLD notice of the same end', async () => {
      const [seller, winner] = [await user(), await user()];
      const auctionId = await newAuction(seller.id);
      const end = ended(auctionId, 2, { winnerId: winner.id, price: 30_00 });
      await storeEvent(end);

      const [toSeller] = await heard([seller.id], async () => {
        await notifyLifecycle(deps(), [end]);
        await notifyPaymentOverdue(deps(), { paymentId: randomUUID(), auctionId, sellerId: seller.id, amount: 30_00, dueAt: new Date(at(86_400)) });
      });

      expect(toSeller!.map((n) => [n.kind, n.seq])).toEqual([
        ['SOLD', 2],
        ['PAYMENT_OVERDUE', 2],
      ]);
      expect(textsTo(seller.phone)).toHaveLength(2);
    });

    it('fails, sending nothing, while the auction’s end is not stored', async () => {
      const seller = await user();
      const auctionId = await newAuction(seller.id);
      const overdue = { paymentId: randomUUID(), auctionId, sellerId: seller.id, amount: 45_00, dueAt: new Date(at(86_400)) };
      await expect(notifyPaymentOverdue(deps(), overdue)).rejects.toThrow(/no stored end/);
      expect(sms.sent).toEqual([]);
    });
  });

  describe('the notices subscription', () => {
    const notice = (userId: string, auctionId: string, kind: LiveNotice['kind'], seq: number): LiveNotice => ({ userId, kind, auctionId, seq, amount: null, at: at(seq) });

    it('passes each notice on once, telling apart kinds that share an auction and seq', async () => {
      const [userId, first, second] = [randomUUID(), randomUUID(), randomUUID()];
      const notices = await watchNotices({ live }, { id: userId });
      await live.publishNotices([
        notice(userId, first, 'SOLD', 4),
        notice(userId, first, 'SOLD', 4),
        notice(userId, first, 'PAYMENT_OVERDUE', 4),
        notice(userId, second, 'SOLD', 2),
        notice(userId, first, 'PAYMENT_OVERDUE', 4),
        notice(userId, first, 'CANCELLED', 5),
      ]);
      const seen: Array<[string, string, number]> = [];
      for (let i = 0; i < 4; i++) {
        const { value } = await notices.next();
        seen.push([value.auctionId, value.kind, value.seq]);
      }
      expect(seen).toEqual([
        [first, 'SOLD', 4],
        [first, 'PAYMENT_OVERDUE', 4],
        [second, 'SOLD', 2],
        [first, 'CANCELLED', 5],
      ]);
      await notices.return?.();
    });

    it('refuses an anonymous viewer with UNAUTHENTICATED', async () => {
      const refused = await watchNotices({ live }, null).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AppError);
      expect((refused as AppError).code).toBe('UNAUTHENTICATED');
    });
  });
});
