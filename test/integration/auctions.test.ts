import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, raw } from '../support/client.js';
import { movableClock } from '../support/clock.js';
import { createAuction, inMinutes, signUpUser, type TestUser } from '../support/factories.js';
import { CancelAuctionDocument, CreateAuctionDocument, GetAuctionDocument, ListAuctionsDocument, UpdateAuctionDocument } from '../generated/graphql.js';

const HOUR = 3_600_000;

describeApp('auctions', () => {
  let app: TestApp;
  let seller: TestUser;
  let other: TestUser;
  // Ending an auction is a jump of the app's clock, not a wait that a slow machine can outrun.
  const clock = movableClock();
  beforeAll(async () => {
    app = await startTestApp({ clock });
    seller = await signUpUser(app.url, { displayName: 'Seller', phone: '+14155550100' });
    other = await signUpUser(app.url, { displayName: 'Other' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const input = (overrides: Record<string, unknown> = {}) => ({
    title: 'Vintage camera',
    description: 'A rangefinder.',
    startingPrice: '10.00',
    endsAt: inMinutes(60),
    ...overrides,
  });

  describe('creating an auction', () => {
    it('lists an item with the bid-derived fields at their starting values', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '25.50', buyNowPrice: '100.00', reservePrice: '50.00', softCloseSeconds: 120 });
      expect(auction).toMatchObject({
        status: 'ACTIVE',
        currency: 'USD',
        startingPrice: '25.50',
        currentPrice: '25.50',
        minimumNextBid: '25.50',
        bidCount: 0,
        lastSeq: 0,
        reserveStatus: 'NOT_MET',
        buyNowPrice: '100.00',
        softCloseSeconds: 120,
        leadingBid: null,
        winner: null,
        payment: null,
      });
      expect(auction.seller).toMatchObject({ id: seller.id, displayName: 'Seller', email: expect.any(String), phone: '+14155550100' });
    });

    it('requires a signed-in seller', async () => {
      const error = await fails(app.url, CreateAuctionDocument, { input: input() });
      expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it.each([
      ['title', { title: '  ' }],
      ['startingPrice', { startingPrice: '0.00' }],
      ['startingPrice', { startingPrice: '10000000.01' }],
      ['buyNowPrice', { buyNowPrice: '10.00' }],
      ['reservePrice', { reservePrice: '5.00' }],
      ['currency', { currency: 'XYZ' }],
      ['endsAt', { endsAt: inMinutes(-1) }],
      ['endsAt', { endsAt: inMinutes(60 * 24 * 31) }],
      ['endsAt', { startsAt: inMinutes(30), endsAt: inMinutes(20) }],
      ['startsAt', { startsAt: inMinutes(-30) }],
      ['softCloseSeconds', { softCloseSeconds: 3601 }],
    ])('rejects a bad %s with BAD_USER_INPUT and creates nothing', async (field, overrides) => {
      const before = await ok(app.url, ListAuctionsDocument, { filter: { sellerId: other.id }, first: 100 });
      const error = await fails(app.url, CreateAuctionDocument, { input: input(overrides) }, other.token);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      const after = await ok(app.url, ListAuctionsDocument, { filter: { sellerId: other.id }, first: 100 });
      expect(after.auctions.edges.length).toBe(before.auctions.edges.length);
    });

    it.each(['12.5', '1e3', '-1.00', '10'])('rejects the malformed money %j with BAD_USER_INPUT naming the field', async (startingPrice) => {
      const error = await fails(app.url, CreateAuctionDocument, { input: input({ startingPrice }) }, seller.token);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startingPrice' });
    });

    it('rejects money written as a number literal', async () => {
      const result = await raw(app.url, `mutation { createAuction(input: { title: "x", description: "", startingPrice: 12.5, endsAt: "${inMinutes(60)}" }) { id } }`, {}, seller.token);
      expect(result.status).toBeLessThan(500);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('schedules an auction that starts later', async () => {
      const auction = await createAuction(app.url, seller, { startsAt: inMinutes(10), endsAt: inMinutes(70) });
      expect(auction.status).toBe('SCHEDULED');
    });
  });

  describe('reading auctions', () => {
    it('hides the seller\'s email and phone from everyone else', async () => {
      const auction = await createAuction(app.url, seller);
      for (const token of [other.token, undefined]) {
        const { auction: seen } = await ok(app.url, GetAuctionDocument, { id: auction.id }, token);
        expect(seen?.seller).toEqual({ id: seller.id, displayName: 'Seller', email: null, phone: null, smsOptIn: null });
      }
    });

    it('answers null for an unknown auction and BAD_USER_INPUT for a malformed id', async () => {
      expect((await ok(app.url, GetAuctionDocument, { id: '00000000-0000-4000-8000-000000000000' })).auction).toBeNull();
      expect((await fails(app.url, GetAuctionDocument, { id: 'nope' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    });

    it('starts with no bids and no events', async () => {
      const auction = await createAuction(app.url, seller);
      const { auction: seen } = await ok(app.url, GetAuctionDocument, { id: auction.id });
      expect(seen?.bids).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      expect(seen?.events).toEqual([]);
    });

    it('reads ENDED once endsAt has passed', async () => {
      const auction = await createAuction(app.url, seller, { endsAt: inMinutes(60) });
      expect(auction.status).toBe('ACTIVE');
      await clock.shifted(HOUR, async () => {
        const { auction: seen } = await ok(app.url, GetAuctionDocument, { id: auction.id });
        expect(seen?.status).toBe('ENDED');
        const ended = await ok(app.url, ListAuctionsDocument, { filter: { status: 'ENDED', sellerId: seller.id }, first: 100 });
        expect(ended.auctions.edges.map((e) => e.node.id)).toContain(auction.id);
      });
      // A second before its end it still runs: ENDED above came from endsAt, not from any jump.
      await clock.shifted(Date.parse(auction.endsAt) - Date.now() - 1_000, async () => {
        expect((await ok(app.url, GetAuctionDocument, { id: auction.id })).auction?.status).toBe('ACTIVE');
      });
    });
  });

  describe('listing auctions', () => {
    let lister: TestUser;
    const ids: string[] = [];
    beforeAll(async () => {
      lister = await signUpUser(app.url, { displayName: 'Lister' });
      for (const [i, price] of ['30.00', '10.00', '20.00', '40.00', '50.00'].entries()) {
        const auction = await createAuction(app.url, lister, { title: `Lamp number ${i}`, description: i % 2 ? 'brass' : 'Copper shade', startingPrice: price, endsAt: inMinutes(100 + i) });
        ids.push(auction.id);
      }
    });
    const list = (variables: Parameters<typeof ok<typeof ListAuctionsDocument>>[2]) => ok(app.url, ListAuctionsDocument, variables);

    it('orders by ending soonest by default', async () => {
      const { auctions } = await list({ filter: { sellerId: lister.id } });
      expect(auctions.edges.map((e) => e.node.id)).toEqual(ids);
    });

    it('orders by price both ways and by newest', async () => {
      const low = await list({ filter: { sellerId: lister.id }, orderBy: 'PRICE_LOW_TO_HIGH' });
      expect(low.auctions.edges.map((e) => e.node.currentPrice)).toEqual(['10.00', '20.00', '30.00', '40.00', '50.00']);
      const high = await list({ filter: { sellerId: lister.id }, orderBy: 'PRICE_HIGH_TO_LOW' });
      expect(high.auctions.edges.map((e) => e.node.currentPrice)).toEqual(['50.00', '40.00', '30.00', '20.00', '10.00']);
      const newest = await list({ filter: { sellerId: lister.id }, orderBy: 'NEWLY_LISTED' });
      expect(newest.auctions.edges.map((e) => e.node.id)).toEqual([...ids].reverse());
    });

    it('pages with opaque cursors without skipping or repeating', async () => {
      const seen: string[] = [];
      let after: string | null | undefined;
      for (;;) {
        const { auctions } = await list({ filter: { sellerId: lister.id }, orderBy: 'PRICE_LOW_TO_HIGH', first: 2, after });
        seen.push(...auctions.edges.map((e) => e.node.id));
        if (!auctions.pageInfo.hasNextPage) break;
        after = auctions.pageInfo.endCursor;
      }
      expect(seen).toEqual([ids[1], ids[2], ids[0], ids[3], ids[4]]);
    });

    it('filters by words in title or description, case-insensitively', async () => {
      const { auctions } = await list({ filter: { sellerId: lister.id, query: 'COPPER lamp' } });
      expect(auctions.edges.map((e) => e.node.id)).toEqual([ids[0], ids[2], ids[4]]);
    });

    it('filters by price range and end time', async () => {
      const priced = await list({ filter: { sellerId: lister.id, minPrice: '20.00', maxPrice: '40.00' } });
      expect(priced.auctions.edges.map((e) => e.node.currentPrice).sort()).toEqual(['20.00', '30.00', '40.00']);
      const ending = await list({ filter: { sellerId: lister.id, endingBefore: inMinutes(102.5) } });
      expect(ending.auctions.edges.length).toBe(3);
    });

    it('refuses first above 100 and a cursor of another order', async () => {
      expect((await fails(app.url, ListAuctionsDocument, { first: 101 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      const { auctions } = await list({ filter: { sellerId: lister.id }, first: 1 });
      const error = await fails(app.url, ListAuctionsDocument, { orderBy: 'NEWLY_LISTED', after: auctions.pageInfo.endCursor });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  describe('updating and cancelling', () => {
    it('lets the seller edit text, prices and end time before any bid', async () => {
      const auction = await createAuction(app.url, seller);
      const endsAt = inMinutes(120);
      const { updateAuction } = await ok(app.url, UpdateAuctionDocument, { id: auction.id, input: { title: 'Better title', buyNowPrice: '99.00', endsAt } }, seller.token);
      expect(updateAuction).toMatchObject({ title: 'Better title', buyNowPrice: '99.00', endsAt });
    });

    it('refuses anyone but the seller with FORBIDDEN and changes nothing', async () => {
      const auction = await createAuction(app.url, seller);
      const before = await ok(app.url, GetAuctionDocument, { id: auction.id }, seller.token);
      const update = { title: 'Mine now', description: 'Taken over', buyNowPrice: '99.00', endsAt: inMinutes(120) };
      expect((await fails(app.url, UpdateAuctionDocument, { id: auction.id, input: update }, other.token)).extensions?.code).toBe('FORBIDDEN');
      expect((await fails(app.url, CancelAuctionDocument, { id: auction.id, reason: 'not yours' }, other.token)).extensions?.code).toBe('FORBIDDEN');
      expect(await ok(app.url, GetAuctionDocument, { id: auction.id }, seller.token)).toEqual(before);
    });

    it('answers NOT_FOUND for an unknown auction', async () => {
      const error = await fails(app.url, CancelAuctionDocument, { id: '00000000-0000-4000-8000-000000000000' }, seller.token);
      expect(error.extensions?.code).toBe('NOT_FOUND');
    });

    it('validates updated prices and end time', async () => {
      const auction = await createAuction(app.url, seller);
      expect((await fails(app.url, UpdateAuctionDocument, { id: auction.id, input: { buyNowPrice: '5.00' } }, seller.token)).extensions).toMatchObject({ field: 'buyNowPrice' });
      expect((await fails(app.url, UpdateAuctionDocument, { id: auction.id, input: { endsAt: inMinutes(-5) } }, seller.token)).extensions).toMatchObject({ field: 'endsAt' });
    });

    it('cancels a running auction, and cancelling again is AUCTION_NOT_ACTIVE', async () => {
      const auction = await createAuction(app.url, seller);
      const { cancelAuction } = await ok(app.url, CancelAuctionDocument, { id: auction.id, reason: 'Sold elsewhere' }, seller.token);
      expect(cancelAuction.status).toBe('CANCELLED');
      const again = await fails(app.url, CancelAuctionDocument, { id: auction.id }, seller.token);
      expect(again.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'CANCELLED' });
      const edit = await fails(app.url, UpdateAuctionDocument, { id: auction.id, input: { title: 'Too late' } }, seller.token);
      expect(edit.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE' });
    });

    it('refuses to cancel an ended auction, which stays ENDED', async () => {
      const auction = await createAuction(app.url, seller, { endsAt: inMinutes(60) });
      await clock.shifted(HOUR, async () => {
        const error = await fails(app.url, CancelAuctionDocument, { id: auction.id }, seller.token);
        expect(error.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'ENDED' });
        // A cancellation that went through anyway would read CANCELLED, which wins over ENDED.
        expect((await ok(app.url, GetAuctionDocument, { id: auction.id })).auction?.status).toBe('ENDED');
      });
    });
  });
});
