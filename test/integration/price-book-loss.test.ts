import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { bidIncrement } from '../../src/domain/increments.js';
import { describeApp, startTestApp, testTarget, type TestApp } from '../support/app.js';
import { request } from '../support/client.js';
import { createAuction, signUpUser, type TestUser } from '../support/factories.js';
import { PlaceBidDocument } from '../generated/graphql.js';
import { decideProxyBid, type ProxyBook } from '../../src/domain/proxy-bidding.js';
import { deleteByPrefix } from '../support/redis.js';

const onServices = testTarget() === 'services';
const cents = (amount: string) => Math.round(Number(amount) * 100);
const money = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

const placeBid = (url: string, user: TestUser, auctionId: string, amount: string, idempotencyKey: string, maxAmount?: string) =>
  request(url, PlaceBidDocument, { input: { auctionId, amount, maxAmount, idempotencyKey } }, user.token);

interface Accepted {
  auctionId: string;
  id: string;
  seq: number;
  /** What was asked: the amount, and the maximum of an automatic bid. */
  amount: number;
  maxAmount: number | null;
  key: string;
  bidder: TestUser;
}

// Only on services: the embedded price book lives in the process, with nothing outside to lose it.
describeApp('the price book on Redis', () => {
  let app: TestApp;
  let redis: Redis;
  let seller: TestUser;
  let bidders: TestUser[];
  beforeAll(async () => {
    if (!onServices) return;
    app = await startTestApp();
    redis = new Redis(app.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
    seller = await signUpUser(app.url, { displayName: 'Seller' });
    bidders = await Promise.all(Array.from({ length: 4 }, (_, i) => signUpUser(app.url, { displayName: `Bidder ${i}` })));
  });
  afterAll(async () => {
    redis?.disconnect();
    await app?.close();
  });

  it.skipIf(!onServices)('loses no accepted bid, automatic ones included, and accepts none against the rules when Redis loses its keys in the middle of concurrent bidding', async () => {
    const prefix = app.env.REDIS_KEY_PREFIX!;
    const auctions = await Promise.all(Array.from({ length: 3 }, () => createAuction(app.url, seller, { startingPrice: '1.00' })));
    // Each auction's tickets rise by exactly the increment, every other one an automatic bid three
    // increments deep: a ticket overtaken by a later one, or by an automatic answer, is refused
    // BID_TOO_LOW, and so is a leader's that would not raise their maximum.
    const amounts = [100];
    for (let i = 1; i < 60; i++) amounts.push(amounts[i - 1]! + bidIncrement(amounts[i - 1]!));
    const maxOf = (i: number) => (i % 2 === 1 ? amounts[Math.min(i + 3, amounts.length - 1)]! : null);
    const next = new Map(auctions.map((a) => [a.id, 0]));
    const accepted: Accepted[] = [];
    const refusals: Array<{ code: string; amount: number; minimumNextBid?: number }> = [];
    const wipes: Array<Promise<number>> = [];
    const wipeAt = [20, 70];

    const client = async (bidder: TestUser, turn: number) => {
      for (let round = 0; ; round++) {
        const open = auctions.filter((a) => next.get(a.id)! < amounts.length);
        if (open.length === 0) return;
        const auction = open[(turn + round) % open.length]!;
        const i = next.get(auction.id)!;
        next.set(auction.id, i + 1);
        const key = randomUUID();
        const maxAmount = maxOf(i);
        const result = await placeBid(app.url, bidder, auction.id, money(amounts[i]!), key, maxAmount === null ? undefined : money(maxAmount));
        if (result.data) {
          const { id, seq } = result.data.placeBid.bid;
          accepted.push({ auctionId: auction.id, id, seq, amount: amounts[i]!, maxAmount, key, bidder });
        } else {
          const extensions = result.errors?.[0]?.extensions as { code?: string; minimumNextBid?: string } | undefined;
          refusals.push({ code: String(extensions?.code), amount: amounts[i]!, minimumNextBid: extensions?.minimumNextBid ? cents(extensions.minimumNextBid) : undefined });
        }
        if (wipes.length < wipeAt.length && accepted.length >= wipeAt[wipes.length]!) wipes.push(deleteByPrefix(redis, prefix));
      }
    };
    await Promise.all(bidders.map((bidder, turn) => client(bidder, turn)));
    const removed = await Promise.all(wipes);

    expect(removed, 'keys deleted by each wipe').toHaveLength(2);
    for (const count of removed) expect(count).toBeGreaterThan(0);
    expect(accepted.length, 'bids accepted after the last wipe').toBeGreaterThan(wipeAt.at(-1)!);
    // Meanwhile a bid is refused only as unavailable (nothing accepted) or too low, naming more than it offered.
    for (const refusal of refusals) {
      expect(['BID_TOO_LOW', 'UNAVAILABLE']).toContain(refusal.code);
      if (refusal.code === 'BID_TOO_LOW') expect(refusal.minimumNextBid).toBeGreaterThan(refusal.amount);
    }

    // Every accepted bid reaches Postgres, with the automatic bids it called for, and nothing else.
    const ids = auctions.map((a) => a.id);
    await vi.waitFor(async () => expect(await app.deps.db.bid.count({ where: { auctionId: { in: ids }, kind: 'PLACED' } })).toBe(accepted.length), {
      timeout: 30_000,
      interval: 100,
    });
    const rows = await app.deps.db.bid.findMany({ where: { auctionId: { in: ids } }, orderBy: { seq: 'asc' } });
    expect(rows.filter((r) => r.kind === 'PLACED').map((r) => [r.id, r.seq]).sort()).toEqual(accepted.map((b) => [b.id, b.seq]).sort());
    // Each auction's history, seqs 1..n, is what the rules make of its accepted bids in seq order: a
    // book rebuilt from Postgres after a wipe went on from the same leader, maximum and price.
    for (const auction of auctions) {
      const history = rows.filter((r) => r.auctionId === auction.id);
      expect(history.map((r) => r.seq), `seqs of ${auction.id}`).toEqual(history.map((_, i) => i + 1));
      let book: ProxyBook = { startingPrice: 100, reservePrice: null, currentPrice: 100, bidCount: 0, leader: null };
      const replayed: Array<[string, number, string]> = [];
      for (const row of history.filter((r) => r.kind === 'PLACED')) {
        const ours = accepted.find((b) => b.id === row.id)!;
        const decision = decideProxyBid(book, { bidderId: ours.bidder.id, amount: ours.amount, maxAmount: ours.maxAmount ?? ours.amount });
        if (decision.outcome !== 'ACCEPTED') throw new Error(`bid ${row.id} was accepted against the rules: ${JSON.stringify(decision)}`);
        replayed.push(...decision.bids.map((b): [string, number, string] => [b.bidderId, b.amount, b.automatic ? 'AUTOMATIC' : 'PLACED']));
        book = decision.book;
      }
      expect(history.map((r) => [r.bidderId, r.amount, r.kind])).toEqual(replayed);
    }

    // A retried key from before the wipes answers with its bid, now from Postgres.
    const early = [...accepted].sort((a, b) => a.seq - b.seq)[0]!;
    const retry = await placeBid(app.url, early.bidder, early.auctionId, money(early.amount), early.key, early.maxAmount === null ? undefined : money(early.maxAmount));
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.placeBid.bid).toMatchObject({ id: early.id, seq: early.seq });
  }, 120_000);

  it.skipIf(!onServices)('evicts a book once the persister has its bids, and continues from Postgres on the next bid', async () => {
    const [alice, bob] = bidders as [TestUser, TestUser];
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    const firstKey = randomUUID();
    const first = await placeBid(app.url, alice, auction.id, '10.00', firstKey);
    const second = await placeBid(app.url, bob, auction.id, '12.00', randomUUID());
    expect(first.errors ?? second.errors).toBeUndefined();
    const bookKey = `${app.env.REDIS_KEY_PREFIX}auction:{${auction.id}}`;

    // Refused while a bid may be unpersisted; done once the worker has reported both persisted.
    await vi.waitFor(async () => expect(await app.deps.priceBook.evict(auction.id, { idleSeconds: 0 })).toBe(true), { timeout: 20_000, interval: 50 });
    expect(await redis.exists(bookKey, `${bookKey}:m`, `${app.env.REDIS_KEY_PREFIX}bid:{${first.data!.placeBid.bid.id}}`)).toBe(0);

    const retried = await placeBid(app.url, alice, auction.id, '10.00', firstKey);
    expect(retried.data?.placeBid.bid).toMatchObject({ id: first.data!.placeBid.bid.id, seq: 1 });
    const tooLow = await placeBid(app.url, alice, auction.id, '12.00', randomUUID());
    expect(tooLow.errors?.[0]?.extensions).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: '12.50' });
    const third = await placeBid(app.url, alice, auction.id, '12.50', randomUUID());
    expect(third.errors).toBeUndefined();
    expect(third.data?.placeBid.bid).toMatchObject({ seq: 3, amount: '12.50' });
    expect(await redis.object('ENCODING', bookKey)).toBe('listpack');
  });
});
