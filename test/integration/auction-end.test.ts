import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { AuctionLifecycleDocument, AuctionOutcomeDocument, CancelAuctionDocument, PlaceBidDocument } from '../generated/graphql.js';
import { connect, subscribe } from '../support/ws-client.js';
import { createClosingJob } from '../../src/services/auctions/close-auctions.js';
import { acceptBid } from '../../src/services/bids/place-bid.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';

/** An end this many milliseconds from now, as the API takes it. */
const endsIn = (ms: number) => new Date(Date.now() + ms).toISOString();

describeApp('the end of an auction', () => {
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    app = await startTestApp();
    ({ seller, alice, bob } = await signUpCast(app.url));
  });
  afterAll(async () => {
    await app?.close();
  });

  const bid = (user: TestUser, auctionId: string, amount: string) =>
    request(app.url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey: randomUUID() } }, user.token);

  /** The auction once the closing job and the persister have recorded its end. */
  const ended = (auctionId: string, viewer?: TestUser) =>
    vi.waitFor(
      async () => {
        const { auction } = await ok(app.url, AuctionOutcomeDocument, { id: auctionId }, viewer?.token);
        expect(auction?.events.at(-1)?.__typename).toBe('AuctionEnded');
        return auction!;
      },
      { timeout: 20_000, interval: 50 },
    );

  it('ends on time with the highest bidder as winner, once, with bids WON and LOST and the payment shown to winner and seller', async () => {
    const auction = await createAuction(app.url, seller, { endsAt: endsIn(2_500) });
    expect((await bid(alice, auction.id, '10.00')).errors).toBeUndefined();
    expect((await bid(bob, auction.id, '12.00')).errors).toBeUndefined();

    const outcome = await ended(auction.id, bob);
    expect(outcome).toMatchObject({ status: 'ENDED', currentPrice: '12.00', bidCount: 2, lastSeq: 3, reserveStatus: 'NO_RESERVE', winner: { id: bob.id } });
    expect(outcome.events).toEqual([
      { __typename: 'BidPlaced', seq: 1, bid: expect.objectContaining({ amount: '10.00' }) },
      { __typename: 'BidPlaced', seq: 2, bid: expect.objectContaining({ amount: '12.00' }) },
      { __typename: 'AuctionEnded', seq: 3, sold: true, finalPrice: '12.00', winner: { id: bob.id }, reserveStatus: 'NO_RESERVE' },
    ]);
    expect(outcome.bids.edges.map((e) => [e.node.amount, e.node.status])).toEqual([
      ['12.00', 'WON'],
      ['10.00', 'LOST'],
    ]);
    // No payment provider in this app: the record says so, to the winner and the seller only.
    expect(outcome.payment).toEqual({ status: 'NOT_CONFIGURED', amount: '12.00', checkoutUrl: null });
    expect((await ok(app.url, AuctionOutcomeDocument, { id: auction.id }, seller.token)).auction?.payment?.status).toBe('NOT_CONFIGURED');
    expect((await ok(app.url, AuctionOutcomeDocument, { id: auction.id }, alice.token)).auction?.payment).toBeNull();

    const late = await fails(app.url, PlaceBidDocument, { input: { auctionId: auction.id, amount: '20.00', idempotencyKey: randomUUID() } }, alice.token);
    expect(late.extensions?.code).toBe('AUCTION_NOT_ACTIVE');
  });

  it('ends unsold without bids, and unsold with the reserve not met', async () => {
    const empty = await createAuction(app.url, seller, { endsAt: endsIn(3_000) });
    const reserved = await createAuction(app.url, seller, { endsAt: endsIn(3_000), reservePrice: '50.00' });
    expect((await bid(alice, reserved.id, '10.00')).errors).toBeUndefined();

    const [emptyOutcome, reservedOutcome] = await Promise.all([ended(empty.id, seller), ended(reserved.id, seller)]);
    expect(emptyOutcome).toMatchObject({ status: 'ENDED', winner: null, payment: null, lastSeq: 1 });
    expect(emptyOutcome.events).toEqual([{ __typename: 'AuctionEnded', seq: 1, sold: false, finalPrice: null, winner: null, reserveStatus: 'NO_RESERVE' }]);
    expect(reservedOutcome).toMatchObject({ status: 'ENDED', winner: null, payment: null, reserveStatus: 'NOT_MET' });
    expect(reservedOutcome.events.at(-1)).toEqual({ __typename: 'AuctionEnded', seq: 2, sold: false, finalPrice: null, winner: null, reserveStatus: 'NOT_MET' });
    expect(reservedOutcome.bids.edges.map((e) => e.node.status)).toEqual(['LOST']);
  });

  it('extends on a bid within the soft-close window, records AuctionExtended, and refuses bids after the extended end', async () => {
    // Listed already inside its own soft-close window: the first bid extends it.
    const auction = await createAuction(app.url, seller, { endsAt: endsIn(2_500), softCloseSeconds: 3 });
    const placed = await bid(alice, auction.id, '10.00');
    expect(placed.errors).toBeUndefined();
    const { auction: extended } = await ok(app.url, AuctionOutcomeDocument, { id: auction.id });
    const newEnd = Date.parse(extended!.endsAt);
    expect(newEnd).toBeGreaterThan(Date.parse(auction.endsAt));
    expect(newEnd).toBe(Date.parse(placed.data!.placeBid.bid.placedAt) + 3_000);

    const outcome = await ended(auction.id);
    expect(outcome.events).toEqual([
      { __typename: 'BidPlaced', seq: 1, bid: expect.objectContaining({ amount: '10.00' }) },
      { __typename: 'AuctionExtended', seq: 2, endsAt: new Date(newEnd).toISOString() },
      { __typename: 'AuctionEnded', seq: 3, sold: true, finalPrice: '10.00', winner: { id: alice.id }, reserveStatus: 'NO_RESERVE' },
    ]);
    expect(Date.parse(outcome.endsAt)).toBe(newEnd);
    expect((await bid(bob, auction.id, '20.00')).errors?.[0]?.extensions?.code).toBe('AUCTION_NOT_ACTIVE');
  });

  it('delivers the extension and the end to a live subscriber, in seq order', async () => {
    const auction = await createAuction(app.url, seller, { endsAt: endsIn(2_500), softCloseSeconds: 3 });
    const client = await connect(app.wsUrl);
    try {
      const live = subscribe(client, AuctionLifecycleDocument, { auctionId: auction.id });
      expect((await bid(alice, auction.id, '10.00')).errors).toBeUndefined();
      const events = await live.waitFor(3, 20_000);
      expect(events.map((e) => e.auctionEvents)).toEqual([
        { __typename: 'BidPlaced', seq: 1, bid: { amount: '10.00' } },
        { __typename: 'AuctionExtended', seq: 2, endsAt: expect.any(String) },
        { __typename: 'AuctionEnded', seq: 3, sold: true, finalPrice: '10.00', winner: { id: alice.id }, reserveStatus: 'NO_RESERVE' },
      ]);
      live.stop();
    } finally {
      await client.dispose();
    }
  });

  it('counts every bid accepted before the end and refuses every one after it with AUCTION_NOT_ACTIVE', async () => {
    const bidders = [alice, bob, await signUpUser(app.url, { displayName: 'Carol' }), await signUpUser(app.url, { displayName: 'Dave' })];
    const auction = await createAuction(app.url, seller, { endsAt: endsIn(3_000), startingPrice: '1.00' });
    let next = 100;
    const accepted: Array<{ id: string; amount: string; bidderId: string }> = [];
    const refusals: string[] = [];
    const lane = async (bidder: TestUser) => {
      for (;;) {
        const amount = ((next += 50) / 100).toFixed(2);
        const result = await bid(bidder, auction.id, amount);
        const code = result.errors?.[0]?.extensions?.code as string | undefined;
        if (!code) accepted.push({ id: result.data!.placeBid.bid.id, amount, bidderId: bidder.id });
        else if (code === 'AUCTION_NOT_ACTIVE') return refusals.push(code);
        // Racing lanes: a higher amount of another lane may land first.
        else expect(code).toBe('BID_TOO_LOW');
      }
    };
    await Promise.all(bidders.map(lane));
    expect(accepted.length).toBeGreaterThan(0);
    expect(refusals).toHaveLength(bidders.length);

    // More bids than one page: checked in the durable record itself.
    const { db } = app.deps;
    const row = await vi.waitFor(
      async () => {
        const found = await db.auction.findUniqueOrThrow({ where: { id: auction.id } });
        expect(found.state).toBe('ENDED');
        return found;
      },
      { timeout: 20_000, interval: 50 },
    );
    // A lane that leads and bids again raises its maximum, so a later lower bid from another lane
    // is answered by an automatic bid: the record holds every accepted request plus those answers.
    const highest = accepted.reduce((a, b) => (Number(b.amount) > Number(a.amount) ? b : a));
    const stored = await db.bid.findMany({ where: { auctionId: auction.id }, select: { id: true, kind: true, amount: true } });
    expect(stored.filter((b) => b.kind === 'PLACED').map((b) => b.id).sort()).toEqual(accepted.map((b) => b.id).sort());
    expect(stored.filter((b) => b.kind !== 'PLACED').every((b) => b.kind === 'AUTOMATIC')).toBe(true);
    const price = Math.max(...stored.map((b) => b.amount));
    expect(price).toBeLessThanOrEqual(Math.round(Number(highest.amount) * 100));
    expect(row).toMatchObject({ bidCount: stored.length, currentPrice: price, winnerId: highest.bidderId });
    const events = await db.auctionEvent.findMany({ where: { auctionId: auction.id }, orderBy: { seq: 'asc' }, select: { seq: true, type: true } });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.type).toBe('AuctionEnded');
    // A bid after the end is refused however it is retried.
    expect((await bid(alice, auction.id, '999.00')).errors?.[0]?.extensions?.code).toBe('AUCTION_NOT_ACTIVE');
  });

  describe('two closing jobs', () => {
    it('close 200 auctions ending in the same second exactly once each, with the right winner', async () => {
      // Listed and bid on in process rather than over HTTP, so that all 200 are ready well before
      // the second they end in, however busy the machine.
      const { db, priceBook } = app.deps;
      const endsAt = new Date(Date.now() + 6_000);
      const startsAt = new Date();
      const auctions = Array.from({ length: 200 }, () => ({ id: randomUUID() }));
      await db.auction.createMany({
        data: auctions.map(({ id }) => ({
          id, sellerId: seller.id, title: 'Lens', description: '50 mm', currency: 'USD', startingPrice: 1000, currentPrice: 1000, startsAt, endsAt, scheduledEndsAt: endsAt,
        })),
      });
      const rowsBefore = await db.auction.findMany({ where: { id: { in: auctions.map((a) => a.id) } } });
      await Promise.all(rowsBefore.map((row) => priceBook.load(freshBookEntry(row))));
      const winners = new Map<string, string>();
      await Promise.all(
        auctions.map(async (auction, i) => {
          const [first, second] = i % 2 === 0 ? [alice, bob] : [bob, alice];
          await acceptBid(app.deps, first, { auctionId: auction.id, amount: 1000, idempotencyKey: randomUUID() });
          await acceptBid(app.deps, second, { auctionId: auction.id, amount: 1100, idempotencyKey: randomUUID() });
          winners.set(auction.id, second.id);
        }),
      );
      expect(Date.now()).toBeLessThan(endsAt.getTime());
      // The app's own job and a second one, claiming from the same table and price book.
      const rival = createClosingJob(app.deps, { intervalMs: 10, batchSize: 7 });
      rival.start();
      try {
        await vi.waitFor(
          async () => {
            const open = await app.deps.db.auction.count({ where: { id: { in: auctions.map((a) => a.id) }, state: { not: 'ENDED' } } });
            expect(open).toBe(0);
          },
          { timeout: 30_000, interval: 100 },
        );
      } finally {
        await rival.stop();
      }
      const ids = auctions.map((a) => a.id);
      const ends = await app.deps.db.auctionEvent.groupBy({ by: ['auctionId'], where: { auctionId: { in: ids }, type: 'AuctionEnded' }, _count: true });
      expect(ends).toHaveLength(200);
      expect(ends.every((e) => e._count === 1)).toBe(true);
      const rows = await app.deps.db.auction.findMany({ where: { id: { in: ids } }, select: { id: true, winnerId: true, lastSeq: true, currentPrice: true } });
      for (const row of rows) expect(row).toMatchObject({ winnerId: winners.get(row.id), lastSeq: 3, currentPrice: 1100 });
      expect(await app.deps.db.payment.count({ where: { auctionId: { in: ids } } })).toBe(200);
    });
  });

  it('ends an auction correctly, once, when a closer stopped between the price book and the log', async () => {
    const auction = await createAuction(app.url, seller, { endsAt: endsIn(2_500) });
    expect((await bid(alice, auction.id, '10.00')).errors).toBeUndefined();
    // A closer that claimed the auction, ended it in the price book, and died before publishing.
    const { db, priceBook } = app.deps;
    await db.auction.update({ where: { id: auction.id }, data: { closeLeaseUntil: new Date(Date.now() + 3_600_000) } });
    const crashed = await vi.waitFor(
      async () => {
        const decision = await priceBook.close(auction.id, randomUUID());
        expect(decision.outcome).toBe('ENDED');
        return decision;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect((await db.auction.findUniqueOrThrow({ where: { id: auction.id } })).state).toBe('OPEN');
    expect((await bid(bob, auction.id, '20.00')).errors?.[0]?.extensions?.code).toBe('AUCTION_NOT_ACTIVE');

    // Its lease lapses: the next claim finds the same end in the price book and records it.
    await db.auction.update({ where: { id: auction.id }, data: { closeLeaseUntil: new Date(Date.now() - 1) } });
    const outcome = await ended(auction.id);
    expect(crashed.outcome === 'ENDED' && crashed.message.seq).toBe(2);
    expect(outcome.events.map((e) => e.__typename)).toEqual(['BidPlaced', 'AuctionEnded']);
    expect(outcome).toMatchObject({ status: 'ENDED', winner: { id: alice.id }, lastSeq: 2 });
    expect(await db.auctionEvent.count({ where: { auctionId: auction.id, type: 'AuctionEnded' } })).toBe(1);
  });

  describe('cancelling', () => {
    it('withdraws an auction without bids, records AuctionCancelled with the reason, and refuses bids after', async () => {
      const auction = await createAuction(app.url, seller, { endsAt: endsIn(3_600_000) });
      const { cancelAuction } = await ok(app.url, CancelAuctionDocument, { id: auction.id, reason: 'Sold elsewhere' }, seller.token);
      expect(cancelAuction.status).toBe('CANCELLED');
      expect((await bid(alice, auction.id, '10.00')).errors?.[0]?.extensions?.code).toBe('AUCTION_NOT_ACTIVE');
      await vi.waitFor(async () => {
        const { auction: seen } = await ok(app.url, AuctionOutcomeDocument, { id: auction.id });
        expect(seen?.events).toEqual([{ __typename: 'AuctionCancelled', seq: 1, reason: 'Sold elsewhere' }]);
      });
    });

    it('withdraws an auction with bids while more than 12 hours remain; its bids become CANCELLED', async () => {
      const auction = await createAuction(app.url, seller, { endsAt: endsIn(13 * 3_600_000) });
      expect((await bid(alice, auction.id, '10.00')).errors).toBeUndefined();
      await ok(app.url, CancelAuctionDocument, { id: auction.id }, seller.token);
      await vi.waitFor(async () => {
        const { auction: seen } = await ok(app.url, AuctionOutcomeDocument, { id: auction.id });
        expect(seen).toMatchObject({ status: 'CANCELLED', lastSeq: 2 });
        expect(seen?.bids.edges.map((e) => e.node.status)).toEqual(['CANCELLED']);
      });
    });

    it('refuses to withdraw an auction with bids in its last 12 hours, and changes nothing', async () => {
      const auction = await createAuction(app.url, seller, { endsAt: endsIn(11 * 3_600_000) });
      expect((await bid(alice, auction.id, '10.00')).errors).toBeUndefined();
      const refused = await fails(app.url, CancelAuctionDocument, { id: auction.id }, seller.token);
      expect(refused.extensions?.code).toBe('FORBIDDEN');
      expect((await bid(bob, auction.id, '12.00')).errors).toBeUndefined();
    });

    it('cancels the sale of a sold auction after its end, and refuses to cancel an unsold one', async () => {
      const sold = await createAuction(app.url, seller, { endsAt: endsIn(3_000) });
      const unsold = await createAuction(app.url, seller, { endsAt: endsIn(3_000) });
      expect((await bid(alice, sold.id, '10.00')).errors).toBeUndefined();
      await Promise.all([ended(sold.id), ended(unsold.id)]);

      expect((await fails(app.url, CancelAuctionDocument, { id: unsold.id }, seller.token)).extensions?.code).toBe('AUCTION_NOT_ACTIVE');
      expect((await fails(app.url, CancelAuctionDocument, { id: sold.id }, alice.token)).extensions?.code).toBe('FORBIDDEN');
      await ok(app.url, CancelAuctionDocument, { id: sold.id, reason: 'Item damaged' }, seller.token);
      await vi.waitFor(async () => {
        const { auction: seen } = await ok(app.url, AuctionOutcomeDocument, { id: sold.id }, seller.token);
        expect(seen?.status).toBe('CANCELLED');
        expect(seen?.events.map((e) => e.__typename)).toEqual(['BidPlaced', 'AuctionEnded', 'AuctionCancelled']);
      });
      expect((await fails(app.url, CancelAuctionDocument, { id: sold.id }, seller.token)).extensions?.code).toBe('AUCTION_NOT_ACTIVE');
    });
  });
});
