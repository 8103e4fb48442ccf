import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { movableClock } from '../support/clock.js';
import { createAuction, inMinutes, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { AuctionBidsDocument, AuctionEventsSinceDocument, CancelAuctionDocument, GetAuctionDocument, GetBidDocument, PlaceBidDocument, PlaceBidLiveDocument, UpdateAuctionDocument, UpdateMeDocument } from '../generated/graphql.js';

describeApp('bidding', () => {
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  const clock = movableClock();
  beforeAll(async () => {
    app = await startTestApp({ clock });
    ({ seller, alice, bob } = await signUpCast(app.url));
  });
  afterAll(async () => {
    await app?.close();
  });

  const bid = (user: TestUser, auctionId: string, amount: string, idempotencyKey: string = randomUUID()) =>
    request(app.url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey } }, user.token);

  /** Waits until the worker has persisted `count` bids of the auction. */
  const persisted = (auctionId: string, count: number) =>
    vi.waitFor(
      async () => {
        const { auction } = await ok(app.url, AuctionBidsDocument, { id: auctionId, first: 100 });
        expect(auction?.bids.edges.length, `persisted bids of ${auctionId}`).toBeGreaterThanOrEqual(Math.min(count, 100));
        return auction!;
      },
      { timeout: 20_000, interval: 50 },
    );

  describe('placing a bid', () => {
    it('accepts a first bid equal to the starting price and answers the new state', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const result = await bid(alice, auction.id, '10.00');
      expect(result.errors).toBeUndefined();
      expect(result.data?.placeBid.bid).toMatchObject({ amount: '10.00', seq: 1, status: 'LEADING', bidderAlias: 'A***e', isMine: true, bidder: { id: alice.id } });
      expect(result.data?.placeBid.auction).toMatchObject({ currentPrice: '10.00', minimumNextBid: '10.50', bidCount: 1, lastSeq: 1 });
    });

    it("answers the usual bid form from the decision alone, the same as the auction reads right after, under the bidder's current name", async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const renamed = await signUpUser(app.url, { displayName: 'Carl' });
      await ok(app.url, UpdateMeDocument, { input: { displayName: 'Connor' } }, renamed.token);
      await bid(alice, auction.id, '10.00');
      const placed = await ok(app.url, PlaceBidLiveDocument, { input: { auctionId: auction.id, amount: '10.50', idempotencyKey: randomUUID() } }, renamed.token);
      const read = await ok(app.url, GetAuctionDocument, { id: auction.id });
      expect(placed.placeBid.bid).toMatchObject({ seq: 2, bidderAlias: 'C***r' });
      expect(placed.placeBid.auction).toEqual({
        id: auction.id,
        status: 'ACTIVE',
        currentPrice: '10.50',
        minimumNextBid: '11.00',
        bidCount: 2,
        endsAt: read.auction?.endsAt,
        __typename: 'Auction',
      });
      expect(read.auction).toMatchObject({ currentPrice: '10.50', minimumNextBid: '11.00', bidCount: 2 });
    });

    it('returns the bid by id at once (read your writes) and lists it once persisted', async () => {
      const auction = await createAuction(app.url, seller);
      const placed = (await bid(alice, auction.id, '10.00')).data!.placeBid.bid;
      const { bid: seen } = await ok(app.url, GetBidDocument, { id: placed.id }, alice.token);
      expect(seen).toMatchObject({ id: placed.id, amount: '10.00', seq: 1, isMine: true, bidder: { id: alice.id, displayName: 'Alice' } });
      const stored = await persisted(auction.id, 1);
      expect(stored.bids.edges.map((e) => e.node.id)).toEqual([placed.id]);
    });

    it('shows the bidder only to the bidder and the seller', async () => {
      const auction = await createAuction(app.url, seller);
      const placed = (await bid(alice, auction.id, '10.00')).data!.placeBid.bid;
      expect((await ok(app.url, GetBidDocument, { id: placed.id }, seller.token)).bid?.bidder?.id).toBe(alice.id);
      expect((await ok(app.url, GetBidDocument, { id: placed.id }, bob.token)).bid).toMatchObject({ bidder: null, isMine: false, bidderAlias: 'A***e' });
      expect((await ok(app.url, GetBidDocument, { id: placed.id })).bid?.bidder).toBeNull();
    });

    it('marks the earlier bid OUTBID and lists bids newest first', async () => {
      const auction = await createAuction(app.url, seller);
      await bid(alice, auction.id, '10.00');
      await bid(bob, auction.id, '12.00');
      const stored = await persisted(auction.id, 2);
      expect(stored.bids.edges.map((e) => [e.node.amount, e.node.status])).toEqual([
        ['12.00', 'LEADING'],
        ['10.00', 'OUTBID'],
      ]);
      expect(stored).toMatchObject({ currentPrice: '12.00', bidCount: 2, lastSeq: 2, leadingBid: { amount: '12.00' } });
    });

    it('returns the original bid for a retried idempotency key and refuses it for a different amount', async () => {
      const auction = await createAuction(app.url, seller);
      const key = randomUUID();
      const first = (await bid(alice, auction.id, '10.00', key)).data!.placeBid.bid;
      const again = (await bid(alice, auction.id, '10.00', key)).data!.placeBid.bid;
      expect(again.id).toBe(first.id);
      const reused = await bid(alice, auction.id, '11.00', key);
      expect(reused.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const stored = await persisted(auction.id, 1);
      expect(stored.bidCount).toBe(1);
    });
  });

  describe('idempotency keys', () => {
    it('treats a key one bidder reuses on another auction as a bid of its own there, and persists both', async () => {
      const first = await createAuction(app.url, seller);
      const second = await createAuction(app.url, seller);
      const key = `alice-${randomUUID()}`;
      const here = await bid(alice, first.id, '10.00', key);
      const there = await bid(alice, second.id, '10.00', key);
      expect(there.errors).toBeUndefined();
      expect(there.data?.placeBid.bid.id).not.toBe(here.data?.placeBid.bid.id);
      expect(there.data?.placeBid.auction).toMatchObject({ id: second.id, bidCount: 1 });

      expect((await persisted(first.id, 1)).bids.edges.map((e) => e.node.id)).toEqual([here.data!.placeBid.bid.id]);
      expect((await persisted(second.id, 1)).bids.edges.map((e) => e.node.id)).toEqual([there.data!.placeBid.bid.id]);
      // Each auction still answers a retry of the key with its own bid.
      expect((await bid(alice, second.id, '10.00', key)).data?.placeBid.bid.id).toBe(there.data!.placeBid.bid.id);
    });

    it('accepts a key of exactly 100 characters, and one of paired surrogates, and persists each as sent', async () => {
      for (const key of ['k'.repeat(100), `bid 🪙 ${randomUUID()}`]) {
        const auction = await createAuction(app.url, seller);
        const placed = await bid(alice, auction.id, '10.00', key);
        expect(placed.errors).toBeUndefined();
        await persisted(auction.id, 1);
        const row = await app.deps.db.bid.findUniqueOrThrow({ where: { id: placed.data!.placeBid.bid.id } });
        expect(row.idempotencyKey).toBe(key);
      }
    });
  });

  describe('refusing a bid', () => {
    let auctionId: string;
    beforeAll(async () => {
      auctionId = (await createAuction(app.url, seller, { startingPrice: '10.00' })).id;
      await bid(alice, auctionId, '20.00');
    });

    const expectUnchanged = async () => {
      const { auction } = await ok(app.url, AuctionBidsDocument, { id: auctionId });
      expect(auction).toMatchObject({ currentPrice: '20.00', bidCount: 1, lastSeq: 1 });
    };

    it('refuses a bid equal to the current price with BID_TOO_LOW and the minimum next bid', async () => {
      const result = await bid(bob, auctionId, '20.00');
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: '20.50' });
      await expectUnchanged();
    });

    it('refuses a bid below the increment', async () => {
      expect((await bid(bob, auctionId, '20.49')).errors?.[0]?.extensions?.code).toBe('BID_TOO_LOW');
      await expectUnchanged();
    });

    it('refuses a bid on your own auction with FORBIDDEN', async () => {
      expect((await bid(seller, auctionId, '30.00')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      await expectUnchanged();
    });

    it('refuses an unauthenticated bid', async () => {
      const result = await request(app.url, PlaceBidDocument, { input: { auctionId, amount: '30.00', idempotencyKey: randomUUID() } });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await expectUnchanged();
    });

    it.each(['30', '30.5', '-30.00', '1e3'])('refuses the malformed amount %j with BAD_USER_INPUT', async (amount) => {
      const result = await bid(bob, auctionId, amount);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
      await expectUnchanged();
    });

    it.each([
      ['a NUL character', 'key\u0000one'],
      ['an unpaired high surrogate', 'key\ud800'],
      ['an unpaired low surrogate', '\udc00key'],
      ['more than 100 characters', 'k'.repeat(101)],
      ['nothing but spaces', '   '],
    ])('refuses an idempotencyKey with %s with BAD_USER_INPUT before accepting anything', async (_name, key) => {
      const result = await bid(bob, auctionId, '30.00', key);
      expect(result.data?.placeBid ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
      await expectUnchanged();
    });

    it.each([
      ['below the amount', '29.99'],
      ['of zero', '0.00'],
      ['above the platform maximum', '10000000.01'],
    ])('refuses a maxAmount %s with BAD_USER_INPUT before accepting anything', async (_name, maxAmount) => {
      const result = await request(app.url, PlaceBidDocument, { input: { auctionId, amount: '30.00', maxAmount, idempotencyKey: randomUUID() } }, bob.token);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxAmount' });
      await expectUnchanged();
    });

    it('refuses an unknown auction with NOT_FOUND', async () => {
      expect((await bid(bob, randomUUID(), '30.00')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    it('refuses bids on scheduled, ended and cancelled auctions with AUCTION_NOT_ACTIVE and the status', async () => {
      const scheduled = await createAuction(app.url, seller, { startsAt: inMinutes(10), endsAt: inMinutes(20) });
      expect((await bid(bob, scheduled.id, '10.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'SCHEDULED' });
      const cancelled = await createAuction(app.url, seller);
      await ok(app.url, CancelAuctionDocument, { id: cancelled.id }, seller.token);
      expect((await bid(bob, cancelled.id, '10.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'CANCELLED' });
      // The price book judges on its own clock, which a test cannot move: listed while the app's
      // clock runs ten minutes behind, an auction "ending in five minutes" has already ended by it.
      const ended = await clock.shifted(-10 * 60_000, () => createAuction(app.url, seller, { endsAt: inMinutes(-5) }));
      expect((await bid(bob, ended.id, '10.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'ENDED' });
      // No bid took a seq: the cancellation is the one event of its auction, and the ended one has at
      // most its end, once the closing job has come by.
      for (const { id } of [scheduled, cancelled, ended]) {
        expect((await ok(app.url, AuctionBidsDocument, { id })).auction).toMatchObject({ bidCount: 0, bids: { edges: [] } });
      }
      for (const [{ id }, types] of [[scheduled, [[]]], [cancelled, [['AuctionCancelled']]], [ended, [[], ['AuctionEnded']]]] as const) {
        const events = (await ok(app.url, AuctionEventsSinceDocument, { id, afterSeq: 0 })).auction?.events.map((e) => e.__typename);
        expect(types).toContainEqual(events);
      }
    });

    it('answers a retried key after the auction was cancelled with the original bid, and takes no new one', async () => {
      // With a bid, an auction may be withdrawn only while more than 12 hours remain.
      const auction = await createAuction(app.url, seller, { endsAt: inMinutes(24 * 60) });
      const key = randomUUID();
      const original = await bid(alice, auction.id, '10.00', key);
      await ok(app.url, CancelAuctionDocument, { id: auction.id }, seller.token);

      const retried = await bid(alice, auction.id, '10.00', key);
      expect(retried.errors).toBeUndefined();
      expect(retried.data?.placeBid.bid).toEqual(expect.objectContaining({ id: original.data!.placeBid.bid.id, seq: 1, amount: '10.00' }));
      expect((await bid(bob, auction.id, '20.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'CANCELLED' });
      expect((await persisted(auction.id, 1)).bids.edges.map((e) => e.node.id)).toEqual([original.data!.placeBid.bid.id]);
    });

    it('refuses to change prices or the end once there is a bid, but still allows the title', async () => {
      const error = await fails(app.url, UpdateAuctionDocument, { id: auctionId, input: { endsAt: inMinutes(200) } }, seller.token);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsAt' });
      const { updateAuction } = await ok(app.url, UpdateAuctionDocument, { id: auctionId, input: { title: 'Renamed' } }, seller.token);
      expect(updateAuction.title).toBe('Renamed');
    });
  });

  it('keeps 500 concurrent bids from 50 bidders consistent, and the worker persists exactly the accepted ones', async () => {
    const auction = await createAuction(app.url, seller, { startingPrice: '1.00' });
    // Two at a time, as many as the server hashes passwords at once: fifty at once would queue
    // behind one another and, on a busy machine, past the hashing queue's wait limit.
    const bidders: TestUser[] = [];
    for (let i = 0; i < 50; i += 2) {
      bidders.push(...(await Promise.all([i, i + 1].map((n) => signUpUser(app.url, { displayName: `Bidder ${n}` })))));
    }
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        // Amounts rise with i but race: many arrive below the price another bid already set.
        const amount = (100 + i * 10 + Math.floor(Math.random() * 200)).toString();
        return bid(bidders[i % 50]!, auction.id, `${amount.slice(0, -2)}.${amount.slice(-2)}`);
      }),
    );
    const accepted = results.flatMap((r) => (r.data ? [r.data.placeBid.bid] : []));
    for (const r of results) if (r.errors) expect(['BID_TOO_LOW']).toContain(r.errors[0]?.extensions?.code);
    expect(accepted.length).toBeGreaterThan(0);
    const bySeq = [...accepted].sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((b) => b.seq)).toEqual(bySeq.map((_, i) => i + 1));
    const cents = (m: string) => Math.round(Number(m) * 100);
    for (let i = 1; i < bySeq.length; i++) expect(cents(bySeq[i]!.amount)).toBeGreaterThan(cents(bySeq[i - 1]!.amount));
    const highest = bySeq.at(-1)!;

    const { auction: live } = await ok(app.url, AuctionBidsDocument, { id: auction.id });
    expect(live).toMatchObject({ currentPrice: highest.amount, bidCount: accepted.length, lastSeq: accepted.length });

    // Every page, from the first, until the worker has persisted them all.
    const persistedIds = await vi.waitFor(
      async () => {
        const ids: string[] = [];
        let after: string | null | undefined;
        do {
          const { auction: page } = await ok(app.url, AuctionBidsDocument, { id: auction.id, first: 100, after });
          ids.push(...page!.bids.edges.map((e) => e.node.id));
          after = page!.bids.pageInfo.hasNextPage ? page!.bids.pageInfo.endCursor : undefined;
        } while (after);
        expect(ids.length).toBeGreaterThanOrEqual(accepted.length);
        return ids;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(persistedIds.sort()).toEqual(accepted.map((b) => b.id).sort());
  });

  it('accepts exactly one of two equal bids that race, and refuses the other BID_TOO_LOW', async () => {
    for (let round = 0; round < 5; round++) {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const [first, second] = await Promise.all([bid(alice, auction.id, '10.00'), bid(bob, auction.id, '10.00')]);
      const outcomes = [first, second].map((r) => (r.data ? 'ACCEPTED' : r.errors?.[0]?.extensions?.code));
      expect(outcomes.sort()).toEqual(['ACCEPTED', 'BID_TOO_LOW']);
      const refused = [first, second].find((r) => r.errors)!;
      expect(refused.errors?.[0]?.extensions).toMatchObject({ minimumNextBid: '10.50' });
      const winner = [first, second].find((r) => r.data)!.data!.placeBid.bid;
      expect(winner).toMatchObject({ seq: 1, amount: '10.00', status: 'LEADING' });
      const stored = await persisted(auction.id, 1);
      expect(stored).toMatchObject({ currentPrice: '10.00', bidCount: 1, lastSeq: 1 });
      expect(stored.bids.edges.map((e) => e.node.id)).toEqual([winner.id]);
    }
  });
});
