import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handOverConsumer } from '../support/hand-over-consumer.js';
import { scratchPglite, type ScratchPglite } from '../support/pglite.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { SmsError, type SmsMessage, type SmsSender } from '../../src/ports/sms.js';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LiveEvents, LiveOutbid } from '../../src/ports/live-events.js';
import { recordSmsStatus } from '../../src/services/notifications/record-sms-status.js';
import { createNotificationWorker, notifyOutbids, type NotifierDeps } from '../../src/workers/notification-worker.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const PUBLIC_URL = 'https://auctions.example.com';

/** Live events that remember what was published, and can be told to fail. */
function recordingLive(): LiveEvents & { published: LiveOutbid[]; failing: boolean } {
  const live = {
    published: [] as LiveOutbid[],
    failing: false,
    publishAuctionEvents: async () => {},
    publishOutbids: async (notices: LiveOutbid[]) => {
      if (live.failing) throw new Error('the live bus is down');
      live.published.push(...notices);
    },
    auctionEvents: () => Promise.reject(new Error('not used')),
    outbids: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return live as unknown as LiveEvents & { published: LiveOutbid[]; failing: boolean };
}

type Script = (message: SmsMessage, attempt: number) => Promise<{ providerMessageId: string }> | 'default';

/** An SMS sender that records each attempt and answers as the test scripts it (success by default). */
function scriptedSms(): SmsSender & { attempts: SmsMessage[]; sent: SmsMessage[]; script?: Script } {
  const sender = {
    attempts: [] as SmsMessage[],
    sent: [] as SmsMessage[],
    script: undefined as Script | undefined,
    send: async (message: SmsMessage) => {
      sender.attempts.push(message);
      const scripted = sender.script?.(message, sender.attempts.length);
      const result = scripted && scripted !== 'default' ? await scripted : { providerMessageId: `SM${randomUUID().replace(/-/g, '')}` };
      sender.sent.push(message);
      return result;
    },
    verifyCallback: () => true,
  };
  return sender;
}

describe('outbid notices', () => {
  let scratch: ScratchPglite;
  let db: PrismaClient;
  let sellerId: string;
  let auctionId: string;
  let live: ReturnType<typeof recordingLive>;
  let sms: ReturnType<typeof scriptedSms>;

  beforeAll(async () => {
    scratch = await scratchPglite('notification-worker');
    db = scratch.db;
    sellerId = (await user({})).id;
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  function user(options: { phone?: string; smsOptIn?: boolean }) {
    return db.user.create({
      data: { email: `${randomUUID()}@example.com`, passwordHash: 'x', displayName: 'Jordan', phone: options.phone ?? null, smsOptIn: options.smsOptIn ?? false },
    });
  }
  const texter = async () => (await user({ phone: `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`, smsOptIn: true })).id;

  async function newAuction(title = 'Vintage camera') {
    const auction = await db.auction.create({
      data: {
        sellerId,
        title,
        description: 'A rangefinder',
        currency: 'USD',
        startingPrice: 1000,
        currentPrice: 1000,
        startsAt: new Date(T0 - 60_000),
        endsAt: new Date(at(7200)),
        scheduledEndsAt: new Date(at(7200)),
      },
    });
    return auction.id;
  }

  beforeEach(async () => {
    auctionId = await newAuction();
    live = recordingLive();
    sms = scriptedSms();
  });

  const deps = (overrides: Partial<NotifierDeps> = {}): NotifierDeps => ({
    db,
    live,
    sms,
    publicUrl: PUBLIC_URL,
    outbidSmsWindowSeconds: 600,
    smsRetry: { attempts: 3, firstDelayMs: 1 },
    logger,
    ...overrides,
  });

  /** The bid log as the gateway writes it: each bid takes the lead from the one before. */
  function bids(auction: string, bidders: string[], options: { secondsApart?: number } = {}): BidPlacedMessage[] {
    const messages: BidPlacedMessage[] = [];
    bidders.forEach((bidderId, i) => {
      const seq = i + 1;
      const id = randomUUID();
      const amount = 1000 + 100 * i;
      const previous = messages[i - 1];
      messages.push({
        v: 1,
        type: 'BidPlaced',
        id,
        auctionId: auction,
        seq,
        at: at(seq * (options.secondsApart ?? 1)),
        bid: { id, bidderId, amount, maxAmount: null, idempotencyKey: `key-${id}`, placedAt: at(seq) },
        currentPrice: amount,
        bidCount: seq,
        minimumNextBid: amount + 50,
        endsAt: at(7200),
        previousLeader: previous ? { bidId: previous.id, bidderId: previous.bid.bidderId, amount: previous.bid.amount } : null,
      });
    });
    return messages;
  }

  const phonesOf = (ids: string[]) => Promise.all(ids.map(async (id) => (await db.user.findUniqueOrThrow({ where: { id } })).phone));
  const rows = (auction = auctionId) => db.notification.findMany({ where: { auctionId: auction }, orderBy: { eventAt: 'asc' } });

  it('publishes a live outbid to the bidder who lost the lead, with the bid that took it', async () => {
    const [alice, bob] = [await texter(), await texter()];
    const log = bids(auctionId, [alice, bob]);
    await notifyOutbids(deps(), log);
    expect(live.published).toEqual([
      { userId: alice, auctionId, seq: 2, yourBidId: log[0]!.id, currentPrice: 1100, minimumNextBid: 1150, at: log[1]!.at },
    ]);
  });

  it('texts the outbid bidder the title, the new price, the minimum next bid and a link, and records it SENT', async () => {
    const title = 'Leica M3 "double stroke"';
    auctionId = await newAuction(title);
    const alice = await user({ phone: '+14155550123', smsOptIn: true });
    const bob = await texter();
    const log = bids(auctionId, [alice.id, bob]);
    await notifyOutbids(deps(), log);

    expect(sms.sent).toHaveLength(1);
    const [message] = sms.sent;
    const [row] = await rows();
    expect(message!.to).toBe('+14155550123');
    expect(message!.body).toBe(
      `You have been outbid on "${title}": the price is now 11.00 USD. Bid 11.50 USD or more to lead again: ${PUBLIC_URL}/auctions/${auctionId}`,
    );
    expect(message!.statusCallback).toBe(`${PUBLIC_URL}/webhooks/twilio/status?notificationId=${row!.id}`);
    expect(row).toMatchObject({ userId: alice.id, bidId: log[1]!.id, kind: 'outbid', channel: 'sms', status: 'SENT', error: null });
    expect(row!.providerMessageId).toMatch(/^SM/);
    expect(row!.eventAt.toISOString()).toBe(log[1]!.at);
  });

  it('sends nothing when bidders raise their own bid, or for the first bid', async () => {
    const alice = await texter();
    await notifyOutbids(deps(), bids(auctionId, [alice, alice, alice]));
    expect(live.published).toEqual([]);
    expect(sms.attempts).toEqual([]);
    expect(await rows()).toEqual([]);
  });

  /** One automatic-bid decision: `bidder`'s own bid and the automatic bid for the leader before it (`before`) or after it. */
  function withAutomatic(leading: BidPlacedMessage, bidderId: string, automatic: { bidderId: string; amount: number; before: boolean }): BidPlacedMessage {
    const own = { id: randomUUID(), seq: leading.seq + (automatic.before ? 2 : 1) };
    const other = { id: randomUUID(), bidderId: automatic.bidderId, amount: automatic.amount, maxAmount: automatic.amount, seq: leading.seq + (automatic.before ? 1 : 2) };
    const ownAmount = automatic.before ? automatic.amount + 100 : automatic.amount - 100;
    return {
      ...leading,
      id: own.id,
      seq: own.seq,
      at: at(own.seq),
      bid: { id: own.id, bidderId, amount: ownAmount, maxAmount: ownAmount + 500, requestedAmount: leading.minimumNextBid, idempotencyKey: `key-${own.id}`, placedAt: at(own.seq) },
      currentPrice: Math.max(ownAmount, automatic.amount),
      bidCount: leading.bidCount + 2,
      minimumNextBid: Math.max(ownAmount, automatic.amount) + 100,
      previousLeader: { bidId: leading.id, bidderId: leading.bid.bidderId, amount: leading.currentPrice },
      automatic: other,
    };
  }

  it("tells a bidder answered at once by the leader's automatic bid that they were outbid, and leaves the leader alone", async () => {
    const [alice, bob] = [await texter(), await texter()];
    const [first] = bids(auctionId, [alice]);
    const answered = withAutomatic(first!, bob, { bidderId: alice, amount: 2100, before: false });
    await notifyOutbids(deps(), [first!, answered]);
    expect(live.published).toEqual([{ userId: bob, auctionId, seq: 3, yourBidId: answered.id, currentPrice: 2100, minimumNextBid: 2200, at: answered.at }]);
    expect((await rows()).map((r) => [r.userId, r.bidId])).toEqual([[bob, answered.automatic!.id]]);
  });

  it("tells the old leader their maximum was spent and beaten, naming their automatic bid as theirs", async () => {
    const [alice, bob] = [await texter(), await texter()];
    const [first] = bids(auctionId, [alice]);
    const beaten = withAutomatic(first!, bob, { bidderId: alice, amount: 3000, before: true });
    await notifyOutbids(deps(), [first!, beaten]);
    expect(live.published).toEqual([{ userId: alice, auctionId, seq: 3, yourBidId: beaten.automatic!.id, currentPrice: 3100, minimumNextBid: 3200, at: beaten.at }]);
    expect((await rows()).map((r) => [r.userId, r.bidId])).toEqual([[alice, beaten.id]]);
  });

  it('texts nobody who has not opted in or has no phone, but still tells them live', async () => {
    const optedOut = (await user({ phone: '+14155550100', smsOptIn: false })).id;
    const noPhone = (await user({})).id;
    const bob = await texter();
    await notifyOutbids(deps(), bids(auctionId, [optedOut, bob, noPhone, bob]));
    expect(live.published.map((o) => o.userId)).toEqual([optedOut, bob, noPhone]);
    expect(sms.sent.map((m) => m.to)).toEqual(await phonesOf([bob]));
  });

  it('sends at most one outbid SMS per user and auction per window, measured on the bids’ own times', async () => {
    const [alice, bob] = [await texter(), await texter()];
    // Bids 250 s apart: alice is outbid at 500 s (sent), 1000 s (500 s later: suppressed) and 1500 s
    // (1000 s after the last one sent: sent). The wall clock plays no part.
    await notifyOutbids(deps(), bids(auctionId, [alice, bob, alice, bob, alice, bob], { secondsApart: 250 }));
    const aliceRows = (await rows()).filter((r) => r.userId === alice);
    expect(aliceRows.map((r) => [r.eventAt.toISOString(), r.status])).toEqual([
      [at(500), 'SENT'],
      [at(1000), 'SUPPRESSED'],
      [at(1500), 'SENT'],
    ]);
    expect(aliceRows.find((r) => r.status === 'SUPPRESSED')?.providerMessageId).toBeNull();
    const bobRows = (await rows()).filter((r) => r.userId === bob);
    expect(bobRows.map((r) => r.status)).toEqual(['SENT', 'SUPPRESSED']);
    expect(sms.sent).toHaveLength(3);
  });

  it('throttles each auction on its own', async () => {
    const [alice, bob] = [await texter(), await texter()];
    const other = await newAuction();
    await notifyOutbids(deps(), [...bids(auctionId, [alice, bob]), ...bids(other, [alice, bob])]);
    expect(sms.sent).toHaveLength(2);
  });

  it('sends nothing new when the same bids are processed again', async () => {
    const [alice, bob, carol] = [await texter(), await texter(), await texter()];
    const log = bids(auctionId, [alice, bob, carol, alice]);
    await notifyOutbids(deps(), log);
    const before = await rows();
    await notifyOutbids(deps(), log);
    await notifyOutbids(deps(), log.slice(1, 3));
    expect(sms.sent).toHaveLength(3);
    expect(await rows()).toEqual(before);
  });

  it('after a crash mid-send, a new worker sends the rest once and never repeats the claimed one', async () => {
    const bidders = await Promise.all(Array.from({ length: 6 }, () => texter()));
    const log = bids(auctionId, [...bidders, bidders[0]!]);
    // The first worker's process dies while the provider holds its request for the third notice.
    const crashed = scriptedSms();
    let died!: () => void;
    const dying = new Promise<void>((resolve) => (died = resolve));
    crashed.script = (_message, attempt) => {
      if (attempt < 3) return 'default';
      died();
      return new Promise(() => {});
    };
    void notifyOutbids(deps({ sms: crashed }), log);
    await dying;
    expect(crashed.sent).toHaveLength(2);

    // The batch was never committed: a new worker gets all of it again.
    await notifyOutbids(deps(), log);
    const stored = await rows();
    expect(stored.map((r) => r.status)).toEqual(['SENT', 'SENT', 'PENDING', 'SENT', 'SENT', 'SENT']);
    expect(sms.sent.map((m) => m.to)).toEqual(await phonesOf(bidders.slice(3)));

    // Twilio's status callback names the claim: the pending row learns what became of it.
    const pending = stored[2]!;
    expect(await recordSmsStatus(db, { notificationId: pending.id, providerMessageId: 'SMcrashed', status: 'delivered' })).toBe(true);
    expect(await db.notification.findUniqueOrThrow({ where: { id: pending.id } })).toMatchObject({ status: 'DELIVERED', providerMessageId: 'SMcrashed' });
  });

  it('retries a transient failure with backoff and records SENT once it goes through', async () => {
    const [alice, bob] = [await texter(), await texter()];
    sms.script = (_message, attempt) => (attempt < 3 ? Promise.reject(new SmsError('HTTP 503', false)) : 'default');
    await notifyOutbids(deps(), bids(auctionId, [alice, bob]));
    expect(sms.attempts).toHaveLength(3);
    expect((await rows()).map((r) => [r.status, r.error])).toEqual([['SENT', null]]);
  });

  it('does not retry a send that may have reached the provider, leaving its claim PENDING with the error for the callback', async () => {
    const [alice, bob] = [await texter(), await texter()];
    sms.script = () => Promise.reject(new SmsError('Twilio could not be reached (ECONNRESET): socket hang up', false, 'ECONNRESET', true));
    await notifyOutbids(deps(), bids(auctionId, [alice, bob]));
    expect(sms.attempts).toHaveLength(1);
    expect((await rows()).map((r) => [r.status, r.error])).toEqual([['PENDING', 'ECONNRESET: Twilio could not be reached (ECONNRESET): socket hang up']]);
  });

  it('records FAILED with the error once the retries are spent, without failing the batch', async () => {
    const [alice, bob] = [await texter(), await texter()];
    sms.script = () => Promise.reject(new SmsError('Twilio answered HTTP 500', false));
    await notifyOutbids(deps(), bids(auctionId, [alice, bob]));
    expect(sms.attempts).toHaveLength(3);
    expect((await rows()).map((r) => [r.status, r.error])).toEqual([['FAILED', 'Twilio answered HTTP 500']]);
  });

  it('records a permanent failure at once with its code, and the next notices still go out', async () => {
    const [alice, bob, carol] = [await texter(), await texter(), await texter()];
    sms.script = (_message, attempt) => (attempt === 1 ? Promise.reject(new SmsError('not a valid phone number', true, '21211')) : 'default');
    await notifyOutbids(deps(), bids(auctionId, [alice, bob, carol]));
    expect(sms.attempts).toHaveLength(2);
    expect((await rows()).map((r) => [r.userId, r.status, r.error])).toEqual([
      [alice, 'FAILED', '21211: not a valid phone number'],
      [bob, 'SENT', null],
    ]);
  });

  it('does not let a refused SMS count against the window', async () => {
    const [alice, bob] = [await texter(), await texter()];
    sms.script = (_message, attempt) => (attempt === 1 ? Promise.reject(new SmsError('unsubscribed', true, '21610')) : 'default');
    await notifyOutbids(deps(), bids(auctionId, [alice, bob, alice, bob]));
    expect((await rows()).filter((r) => r.userId === alice).map((r) => r.status)).toEqual(['FAILED', 'SENT']);
  });

  it('records SKIPPED_NO_PROVIDER without an SMS provider and logs one info line per notice', async () => {
    const [alice, bob] = [await texter(), await texter()];
    const log = bids(auctionId, [alice, bob, alice]);
    const lines: Array<{ level: number; msg: string; userId?: string }> = [];
    const capturing = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    await notifyOutbids(deps({ sms: null, logger: capturing }), log);
    await notifyOutbids(deps({ sms: null, logger: capturing }), log);
    expect((await rows()).map((r) => [r.userId, r.status])).toEqual([
      [alice, 'SKIPPED_NO_PROVIDER'],
      [bob, 'SKIPPED_NO_PROVIDER'],
    ]);
    expect(lines.map((l) => [l.level, l.userId, l.msg])).toEqual([
      [30, alice, 'outbid SMS not sent: no SMS provider is configured'],
      [30, bob, 'outbid SMS not sent: no SMS provider is configured'],
    ]);
    expect(live.published).toHaveLength(4);
  });

  it('fails the batch when the live bus is down, still texting, and texts nothing twice on redelivery', async () => {
    const [alice, bob] = [await texter(), await texter()];
    const log = bids(auctionId, [alice, bob]);
    live.failing = true;
    await expect(notifyOutbids(deps(), log)).rejects.toThrow('the live bus is down');
    expect(sms.sent).toHaveLength(1);
    live.failing = false;
    await notifyOutbids(deps(), log);
    expect(live.published).toHaveLength(1);
    expect(sms.sent).toHaveLength(1);
  });

  it('works on several auctions at once while keeping each auction’s notices in order', async () => {
    const auctions = [auctionId, ...(await Promise.all(Array.from({ length: 3 }, () => newAuction())))];
    const [alice, bob] = [await texter(), await texter()];
    const log = auctions.flatMap((a) => bids(a, [alice, bob, alice, bob]));
    let inFlight = 0;
    let mostInFlight = 0;
    sms.script = async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return { providerMessageId: `SM${randomUUID().replace(/-/g, '')}` };
    };
    await notifyOutbids(deps({ outbidSmsWindowSeconds: 0 }), log);
    expect(sms.sent).toHaveLength(12);
    expect(mostInFlight).toBeGreaterThan(1);
    for (const a of auctions) {
      const prices = sms.sent.map((m) => m.body).filter((body) => body.includes(a)).map((body) => /now (\d+\.\d+)/.exec(body)![1]);
      expect(prices).toEqual(['11.00', '12.00', '13.00']);
    }
  });

  describe('status callbacks', () => {
    async function sentRow() {
      const [alice, bob] = [await texter(), await texter()];
      await notifyOutbids(deps(), bids(auctionId, [alice, bob]));
      return (await rows())[0]!;
    }

    it('moves a row forward only, whatever order the callbacks come in', async () => {
      const row = await sentRow();
      const sid = row.providerMessageId!;
      expect(await recordSmsStatus(db, { providerMessageId: sid, status: 'delivered' })).toBe(true);
      expect(await recordSmsStatus(db, { providerMessageId: sid, status: 'sent' })).toBe(false);
      expect(await recordSmsStatus(db, { providerMessageId: sid, status: 'failed', errorCode: '30003' })).toBe(false);
      expect(await db.notification.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: 'DELIVERED', error: null });
    });

    it('records an undelivered message with its error code', async () => {
      const row = await sentRow();
      await recordSmsStatus(db, { notificationId: row.id, providerMessageId: row.providerMessageId!, status: 'undelivered', errorCode: '30005' });
      expect(await db.notification.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: 'UNDELIVERED', error: '30005' });
    });

    it('ignores intermediate statuses and messages it does not know', async () => {
      const row = await sentRow();
      expect(await recordSmsStatus(db, { providerMessageId: row.providerMessageId!, status: 'queued' })).toBe(false);
      expect(await recordSmsStatus(db, { providerMessageId: 'SMunknown', status: 'delivered' })).toBe(false);
      expect(await recordSmsStatus(db, { notificationId: 'not-a-uuid', providerMessageId: 'SMunknown', status: 'delivered' })).toBe(false);
      expect((await db.notification.findUniqueOrThrow({ where: { id: row.id } })).status).toBe('SENT');
    });

    it('never changes a suppressed or skipped notice', async () => {
      const [alice, bob] = [await texter(), await texter()];
      await notifyOutbids(deps({ sms: null }), bids(auctionId, [alice, bob]));
      const [row] = await rows();
      expect(await recordSmsStatus(db, { notificationId: row!.id, providerMessageId: 'SMforged', status: 'delivered' })).toBe(false);
    });
  });

  describe('the worker', () => {
    it('skips messages it cannot read, which the bid persister dead-letters, and notifies for the rest of their batch', async () => {
      const consumer = handOverConsumer();
      const worker = createNotificationWorker({ ...deps(), consumer });
      await worker.start();
      await worker.ready;
      const [alice, bob] = [await texter(), await texter()];
      const log = bids(auctionId, [alice, bob]);
      const asLog = (m: BidPlacedMessage, offset: number) => ({ offset: String(offset), key: m.auctionId, value: Buffer.from(JSON.stringify(m)) });
      await consumer.deliver({
        partition: 0,
        messages: [asLog(log[0]!, 0), { offset: '1', key: auctionId, value: Buffer.from('not json') }, asLog(log[1]!, 2)],
      });
      expect(sms.sent).toHaveLength(1);
      expect(live.published).toHaveLength(1);
    });
  });
});
