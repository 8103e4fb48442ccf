import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok } from '../support/client.js';
import { AuctionEventsSinceDocument, GetAuctionDocument, ListAuctionsDocument, PlaceBidDocument, SignInDocument } from '../generated/graphql.js';
import { formatMoney } from '../../src/domain/money.js';
import { seedDatabase, type SampleAuction, type SeedResult } from '../../scripts/seed/seed-database.js';
import { formatSeedReport } from '../../scripts/seed/report.js';

describeApp('npm run seed', () => {
  let app: TestApp;
  let result: SeedResult;
  let report: string;
  let sample: SampleAuction;

  beforeAll(async () => {
    app = await startTestApp();
    // The CLI's own function, on the database the running server uses.
    result = await seedDatabase(app.deps.db, { auctions: 80, users: 6, seed: 11, batchSize: 25 });
    report = formatSeedReport(result, { graphqlUrl: `${app.url}`, elapsedMs: 0 });
    if (!result.sample) throw new Error('the seed planned no auction with bids');
    sample = result.sample;
  });
  afterAll(async () => {
    await app?.close();
  });

  const signIn = async (email: string, password: string) => (await ok(app.url, SignInDocument, { email, password })).signIn.token;

  it('prints a sign-in that works as pasted', async () => {
    const [, email, password] = /signIn\(email: "([^"]+)", password: "([^"]+)"\)/.exec(report) ?? [];
    expect(email).toBe(sample.bidderEmail);
    expect(password).toBe(result.password);
    const data = await ok(app.url, SignInDocument, { email: email!, password: password! });
    expect(data.signIn.user.email).toBe(email);
  });

  it('lists the seeded auctions through the API', async () => {
    const { auctions } = await ok(app.url, ListAuctionsDocument, { filter: { status: 'ACTIVE' }, orderBy: 'ENDING_SOON', first: 100 });
    expect(auctions.edges.length).toBeGreaterThan(60);
    expect(auctions.edges.map((e) => e.node.id)).toContain(sample.id);
    const ends = auctions.edges.map((e) => Date.parse(String(e.node.endsAt)));
    expect(ends.every((end) => end > Date.now())).toBe(true);
  });

  it('shows a seeded history as the worker would have stored it', async () => {
    const { auction } = await ok(app.url, GetAuctionDocument, { id: sample.id });
    expect(auction).toMatchObject({ lastSeq: sample.lastSeq, bidCount: sample.lastSeq, currentPrice: formatMoney(sample.currentPrice) });
    expect(auction!.minimumNextBid).toBe(formatMoney(sample.minimumNextBid));
    const seqs = Array.from({ length: sample.lastSeq }, (_, i) => i + 1);
    expect(auction!.events.map((e) => (e.__typename === 'BidPlaced' ? e.seq : null))).toEqual(seqs);
    expect(auction!.bids.edges.map((e) => e.node.seq)).toEqual([...seqs].reverse().slice(0, 10));
  });

  it('takes the next bid on a seeded auction with history, continuing its seq', async () => {
    const token = await signIn(sample.bidderEmail, result.password);
    // The price book loads the auction from Postgres on this first bid and judges it against the seeded price.
    const tooLow = await fails(
      app.url,
      PlaceBidDocument,
      { input: { auctionId: sample.id, amount: formatMoney(sample.currentPrice), idempotencyKey: 'seed-test-low' } },
      token,
    );
    expect(tooLow.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: formatMoney(sample.minimumNextBid) });

    const { placeBid } = await ok(
      app.url,
      PlaceBidDocument,
      { input: { auctionId: sample.id, amount: formatMoney(sample.minimumNextBid), idempotencyKey: 'seed-test-bid' } },
      token,
    );
    expect(placeBid.bid).toMatchObject({ seq: sample.lastSeq + 1, status: 'LEADING', isMine: true });
    expect(placeBid.auction).toMatchObject({ lastSeq: sample.lastSeq + 1, bidCount: sample.lastSeq + 1, currentPrice: formatMoney(sample.minimumNextBid) });

    // Once persisted, Auction.events(afterSeq) carries on from the seeded events without a gap.
    let events: Array<{ __typename: string; seq?: number }> = [];
    for (let i = 0; i < 200 && events.length === 0; i++) {
      events = (await ok(app.url, AuctionEventsSinceDocument, { id: sample.id, afterSeq: sample.lastSeq })).auction?.events ?? [];
      if (events.length === 0) await sleep(50);
    }
    expect(events).toEqual([expect.objectContaining({ __typename: 'BidPlaced', seq: sample.lastSeq + 1 })]);
  });

  it('reuses the demo users on a second run and adds auctions', async () => {
    const before = await app.deps.db.auction.count();
    const again = await seedDatabase(app.deps.db, { auctions: 10, users: 6, seed: 11 });
    expect(again.users.map((u) => [u.id, u.created])).toEqual(result.users.map((u) => [u.id, false]));
    expect(await app.deps.db.auction.count()).toBe(before + 10);
    expect(await signIn(again.users[0]!.email, again.password)).toEqual(expect.any(String));
  });
});
