import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { ok, request } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { AuctionBidsDocument, PlaceBidDocument } from '../generated/graphql.js';

// BID_ENGINE=row-lock is the benchmark's baseline (bench/bids.ts): it must answer bidders exactly
// as the price book does, or the comparison would measure two different products.
describeApp('placing bids with the row-lock engine', () => {
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    app = await startTestApp({ env: { BID_ENGINE: 'row-lock' } });
    ({ seller, alice, bob } = await signUpCast(app.url));
  });
  afterAll(async () => {
    await app?.close();
  });

  const bid = (user: TestUser, auctionId: string, amount: string, idempotencyKey: string = randomUUID()) =>
    request(app.url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey } }, user.token);
  const stored = async (auctionId: string) => (await ok(app.url, AuctionBidsDocument, { id: auctionId, first: 100 })).auction!;

  it('accepts a bid, answers the new state and has it in Postgres before answering', async () => {
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const result = await bid(alice, auction.id, '10.00');
    expect(result.errors).toBeUndefined();
    expect(result.data?.placeBid.bid).toMatchObject({ amount: '10.00', seq: 1, status: 'LEADING', bidderAlias: 'A***e', isMine: true });
    expect(result.data?.placeBid.auction).toMatchObject({ currentPrice: '10.00', minimumNextBid: '10.50', bidCount: 1, lastSeq: 1 });
    const row = await stored(auction.id);
    expect(row).toMatchObject({ currentPrice: '10.00', bidCount: 1, lastSeq: 1, leadingBid: { id: result.data!.placeBid.bid.id } });
    const event = await app.deps.db.auctionEvent.findUniqueOrThrow({ where: { auctionId_seq: { auctionId: auction.id, seq: 1 } } });
    expect(event).toMatchObject({ type: 'BidPlaced', payload: { currentPrice: 1000, minimumNextBid: 1050, bidCount: 1 } });
  });

  it('refuses a bid below the minimum with BID_TOO_LOW and the minimum next bid, changing nothing', async () => {
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    await bid(alice, auction.id, '20.00');
    const result = await bid(bob, auction.id, '20.00');
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: '20.50' });
    expect(await stored(auction.id)).toMatchObject({ currentPrice: '20.00', bidCount: 1, lastSeq: 1 });
  });

  it('refuses a bid on your own auction with FORBIDDEN and on an unknown one with NOT_FOUND', async () => {
    const auction = await createAuction(app.url, seller);
    expect((await bid(seller, auction.id, '10.00')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await bid(alice, randomUUID(), '10.00')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses a bid on an auction that has not started with AUCTION_NOT_ACTIVE', async () => {
    const startsAt = new Date(Date.now() + 3600_000);
    const auction = await createAuction(app.url, seller, { startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 3600_000).toISOString() });
    expect((await bid(alice, auction.id, '10.00')).errors?.[0]?.extensions).toMatchObject({ code: 'AUCTION_NOT_ACTIVE', status: 'SCHEDULED' });
  });

  it('answers a retried idempotency key with the original bid, even once outbid, and refuses it for another amount', async () => {
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const key = randomUUID();
    const first = (await bid(alice, auction.id, '10.00', key)).data!.placeBid.bid;
    await bid(bob, auction.id, '15.00');
    const again = await bid(alice, auction.id, '10.00', key);
    expect(again.errors).toBeUndefined();
    expect(again.data?.placeBid.bid).toMatchObject({ id: first.id, seq: 1, status: 'OUTBID' });
    expect((await bid(alice, auction.id, '16.00', key)).errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await stored(auction.id)).toMatchObject({ currentPrice: '15.00', bidCount: 2, lastSeq: 2 });
  });

  it('gives 20 concurrent bids a gap-free seq in rising amounts, with the highest leading', async () => {
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const bidders = [alice, bob, ...(await Promise.all([signUpUser(app.url), signUpUser(app.url)]))];
    const amounts = Array.from({ length: 20 }, (_, i) => 10 + i);
    const answers = await Promise.all(amounts.map((amount, i) => bid(bidders[i % bidders.length]!, auction.id, `${amount}.00`)));

    const accepted = answers.filter((a) => a.data?.placeBid);
    for (const refused of answers.filter((a) => !a.data?.placeBid)) expect(refused.errors?.[0]?.extensions?.code).toBe('BID_TOO_LOW');
    const row = await stored(auction.id);
    const bySeq = [...row.bids.edges].map((e) => e.node).sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((b) => b.seq)).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 1));
    const amountsBySeq = bySeq.map((b) => Number(b.amount));
    expect(amountsBySeq).toEqual([...amountsBySeq].sort((a, b) => a - b));
    expect(new Set(amountsBySeq).size).toBe(amountsBySeq.length);
    expect(row).toMatchObject({ currentPrice: '29.00', bidCount: accepted.length, lastSeq: accepted.length, leadingBid: { amount: '29.00' } });
    expect(bySeq.at(-1)?.status).toBe('LEADING');
  });
});
