import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { AutomaticBidHistoryDocument, BuyNowDocument, PlaceAutomaticBidDocument } from '../generated/graphql.js';

// eBay's automatic bidding, reserve and Buy It Now through the API, on the whole path: the price
// book's decision, the bid log, the persister, and the history read back from Postgres.

describeApp('automatic bids, reserves and Buy It Now', () => {
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

  const place = (user: TestUser, auctionId: string, amount: string, maxAmount?: string) =>
    request(app.url, PlaceAutomaticBidDocument, { input: { auctionId, amount, maxAmount, idempotencyKey: randomUUID() } }, user.token);
  const placed = async (user: TestUser, auctionId: string, amount: string, maxAmount?: string) => {
    const result = await place(user, auctionId, amount, maxAmount);
    if (!result.data) throw new Error(JSON.stringify(result.errors));
    return result.data.placeBid;
  };
  const buy = (user: TestUser, auctionId: string, idempotencyKey = randomUUID()) => request(app.url, BuyNowDocument, { auctionId, idempotencyKey }, user.token);
  /** The auction once Postgres holds `bids` bids, as `viewer` sees it. */
  const persisted = async (auctionId: string, bids: number, viewer?: TestUser) => {
    let auction!: NonNullable<Awaited<ReturnType<typeof history>>>;
    await vi.waitFor(
      async () => {
        auction = (await history(auctionId, viewer))!;
        expect(auction.bids.edges).toHaveLength(bids);
      },
      { timeout: 10_000, interval: 50 },
    );
    return auction;
  };
  const history = async (auctionId: string, viewer?: TestUser) => (await ok(app.url, AutomaticBidHistoryDocument, { id: auctionId }, viewer?.token)).auction;

  it("fights the classic proxy war: the challenger's maximum is spent and the leader answers one increment above, each a bid with its seq", async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const first = await placed(alice, id, '10.00', '50.00');
    expect(first.bid).toMatchObject({ kind: 'PLACED', amount: '10.00', maxAmount: '50.00', status: 'LEADING' });
    expect(first.auction).toMatchObject({ currentPrice: '10.00', minimumNextBid: '10.50', bidCount: 1 });

    // Bob learns at once that Alice's automatic bid outbid him, and at what price.
    const challenge = await placed(bob, id, '11.00', '30.00');
    expect(challenge.bid).toMatchObject({ kind: 'PLACED', amount: '30.00', maxAmount: '30.00', seq: 2, status: 'OUTBID', isMine: true });
    expect(challenge.auction).toMatchObject({ currentPrice: '31.00', minimumNextBid: '32.00', bidCount: 3, lastSeq: 3 });
    expect(challenge.auction.leadingBid).toMatchObject({ kind: 'AUTOMATIC', amount: '31.00', bidderAlias: 'A***e' });

    const auction = await persisted(id, 3, bob);
    expect(auction.bids.edges.map(({ node }) => [node.seq, node.kind, node.amount, node.status, node.isMine])).toEqual([
      [3, 'AUTOMATIC', '31.00', 'LEADING', false],
      [2, 'PLACED', '30.00', 'OUTBID', true],
      [1, 'PLACED', '10.00', 'OUTBID', false],
    ]);
    expect(auction.events.map((e) => (e.__typename === 'BidPlaced' ? [e.seq, e.bid.kind, e.bid.amount, e.currentPrice, e.bidCount] : e.__typename))).toEqual([
      [1, 'PLACED', '10.00', '10.00', 1],
      [2, 'PLACED', '30.00', '30.00', 2],
      [3, 'AUTOMATIC', '31.00', '31.00', 3],
    ]);
  });

  it("keeps every maximum secret from everyone but its bidder, the seller included, in bids, events and refusals", async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00' });
    await placed(alice, id, '10.00', '80.00');
    await placed(bob, id, '10.50', '20.00');

    for (const viewer of [bob, seller, undefined]) {
      const auction = await persisted(id, 3, viewer);
      const maxima = auction.bids.edges.map(({ node }) => (node.isMine ? null : node.maxAmount));
      expect(maxima).toEqual([null, null, null]);
      expect(auction.events.map((e) => (e.__typename === 'BidPlaced' && e.bid.id && viewer !== bob ? e.bid.maxAmount : null))).toEqual([null, null, null]);
    }
    const own = await persisted(id, 3, alice);
    expect(own.bids.edges.map(({ node }) => node.maxAmount)).toEqual(['80.00', null, '80.00']);
    // A refused bid names the next minimum the price implies, never Alice's maximum.
    const refused = await place(bob, id, '20.99');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: '21.00' });
    expect(JSON.stringify(refused)).not.toContain('80.00');
  });

  it('gives equal maximums to the earlier bid', async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const first = await placed(alice, id, '10.00', '25.00');
    const tie = await placed(bob, id, '12.00', '25.00');
    expect(tie.bid).toMatchObject({ amount: '25.00', status: 'OUTBID' });
    expect(tie.auction).toMatchObject({ currentPrice: '25.00', minimumNextBid: '26.00' });
    expect(tie.auction.leadingBid).toMatchObject({ kind: 'AUTOMATIC', amount: '25.00', bidderAlias: first.auction.leadingBid!.bidderAlias });
  });

  it("raises the leader's maximum without raising the price, and refuses a lower one with the minimum it would take", async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00' });
    await placed(alice, id, '10.00', '20.00');
    const raised = await placed(alice, id, '10.50', '40.00');
    expect(raised.bid).toMatchObject({ amount: '10.00', maxAmount: '40.00', status: 'LEADING' });
    expect(raised.auction).toMatchObject({ currentPrice: '10.00', minimumNextBid: '10.50', bidCount: 2 });
    const lowered = await place(alice, id, '10.50', '30.00');
    expect(lowered.errors?.[0]?.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: '40.01' });
    // Bob's 35.00 meets Alice's raised maximum, not the old one.
    expect((await placed(bob, id, '10.50', '35.00')).auction).toMatchObject({ currentPrice: '36.00' });
  });

  it('brings the price up to the reserve as soon as a maximum meets it, and shows the reserve met', async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00', reservePrice: '100.00' });
    const below = await placed(alice, id, '10.00', '60.00');
    expect(below.auction).toMatchObject({ currentPrice: '10.00', reserveStatus: 'NOT_MET' });
    const meets = await placed(bob, id, '10.50', '150.00');
    expect(meets.auction).toMatchObject({ currentPrice: '100.00', reserveStatus: 'MET' });
    expect(meets.bid).toMatchObject({ amount: '100.00', status: 'LEADING' });
    expect((await persisted(id, 3)).reserveStatus).toBe('MET');
  });

  it('ends the auction at once when bought, with the buyer as winner at the Buy It Now price, and refuses bids after', async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00', buyNowPrice: '75.00' });
    const key = randomUUID();
    const bought = (await buy(alice, id, key)).data!.buyNow;
    expect(bought).toMatchObject({ status: 'ENDED', currentPrice: '75.00', bidCount: 1, buyNowPrice: null, winner: { id: alice.id } });
    expect(bought.leadingBid).toMatchObject({ kind: 'BUY_NOW', amount: '75.00', isMine: true, status: 'WON' });
    // A retried key answers the same purchase; a bid or another buyer finds the auction ended.
    expect((await buy(alice, id, key)).data?.buyNow).toMatchObject({ status: 'ENDED', winner: { id: alice.id }, leadingBid: { id: bought.leadingBid!.id } });
    expect((await place(bob, id, '11.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'ENDED' });
    expect((await buy(bob, id)).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'ENDED' });

    const auction = await persisted(id, 1, alice);
    expect(auction.events.map((e) => e.__typename)).toEqual(['BidPlaced', 'AuctionEnded']);
    expect(auction.events[1]).toMatchObject({ seq: 2, sold: true, finalPrice: '75.00', reserveStatus: 'NO_RESERVE', winner: { id: alice.id } });
    await vi.waitFor(async () => expect(await app.deps.db.payment.findUnique({ where: { auctionId: id } })).toMatchObject({ payerId: alice.id, amount: 75_00 }), {
      timeout: 10_000,
      interval: 50,
    });
  });

  it('tells the buyer they won and the seller it sold, as for any sold auction', async () => {
    const [texter, buyer] = await Promise.all([
      signUpUser(app.url, { displayName: 'Selma', phone: '+14155550101', smsOptIn: true }),
      signUpUser(app.url, { displayName: 'Bruno', phone: '+14155550102', smsOptIn: true }),
    ]);
    const { id } = await createAuction(app.url, texter, { startingPrice: '10.00', buyNowPrice: '60.00' });
    expect((await buy(buyer, id)).data?.buyNow.status).toBe('ENDED');
    await vi.waitFor(
      async () => {
        const notices = await app.deps.db.notification.findMany({ where: { auctionId: id }, orderBy: { userId: 'asc' } });
        expect(notices.map((n) => [n.userId, n.eventSeq]).sort()).toEqual([[buyer.id, 2], [texter.id, 2]].sort());
        expect(new Set(notices.map((n) => n.kind)).size).toBe(2);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('withdraws Buy It Now at the first bid, and refuses it where there is none, and to the seller', async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00', buyNowPrice: '75.00' });
    expect((await buy(seller, id)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const first = await placed(bob, id, '10.00');
    expect(first.auction.buyNowPrice).toBeNull();
    expect((await buy(alice, id)).errors?.[0]?.extensions?.code).toBe('BUY_NOW_UNAVAILABLE');

    const without = await createAuction(app.url, seller, { startingPrice: '10.00' });
    expect((await buy(alice, without.id)).errors?.[0]?.extensions?.code).toBe('BUY_NOW_UNAVAILABLE');
    expect((await fails(app.url, BuyNowDocument, { auctionId: randomUUID(), idempotencyKey: 'k' }, alice.token)).extensions?.code).toBe('NOT_FOUND');
    expect((await fails(app.url, BuyNowDocument, { auctionId: id, idempotencyKey: 'k' })).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('keeps Buy It Now offered with a reserve until a bid meets the reserve', async () => {
    const { id } = await createAuction(app.url, seller, { startingPrice: '10.00', reservePrice: '100.00', buyNowPrice: '120.00' });
    expect((await placed(bob, id, '10.00', '50.00')).auction).toMatchObject({ buyNowPrice: '120.00', reserveStatus: 'NOT_MET' });
    const bought = (await buy(alice, id)).data!.buyNow;
    expect(bought).toMatchObject({ status: 'ENDED', currentPrice: '120.00', reserveStatus: 'MET', winner: { id: alice.id } });

    const met = await createAuction(app.url, seller, { startingPrice: '10.00', reservePrice: '100.00', buyNowPrice: '120.00' });
    expect((await placed(bob, met.id, '10.00', '100.00')).auction).toMatchObject({ buyNowPrice: null, reserveStatus: 'MET' });
    expect((await buy(alice, met.id)).errors?.[0]?.extensions?.code).toBe('BUY_NOW_UNAVAILABLE');
  });

  it('lets exactly one of several buyers and a bidder racing for the same item win', async () => {
    const buyers = await Promise.all(Array.from({ length: 4 }, (_, i) => signUpUser(app.url, { displayName: `Buyer ${i}` })));
    for (let round = 0; round < 5; round++) {
      const { id } = await createAuction(app.url, seller, { startingPrice: '10.00', buyNowPrice: '50.00' });
      const [bid, ...purchases] = await Promise.all([place(bob, id, '10.00', '40.00'), ...buyers.map((b) => buy(b, id))]);
      const winners = purchases.filter((p) => p.data?.buyNow);
      const auction = (await history(id))!;
      if (bid!.data) {
        // The bid came first: Buy It Now was gone for everyone.
        expect(winners).toHaveLength(0);
        expect(purchases.map((p) => p.errors?.[0]?.extensions?.code)).toEqual(buyers.map(() => 'BUY_NOW_UNAVAILABLE'));
        expect(auction).toMatchObject({ status: 'ACTIVE', currentPrice: '10.00' });
      } else {
        expect(bid!.errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'ENDED' });
        expect(winners).toHaveLength(1);
        const winner = buyers[purchases.indexOf(winners[0]!)]!;
        expect(purchases.filter((p) => p.errors).map((p) => p.errors?.[0]?.extensions?.code)).toEqual(buyers.slice(1).map(() => 'AUCTION_NOT_ACTIVE'));
        expect(auction).toMatchObject({ status: 'ENDED', currentPrice: '50.00', winner: { id: winner.id } });
      }
    }
  });
});
