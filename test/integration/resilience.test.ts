import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { bidIncrement } from '../../src/domain/increments.js';
import { describeApp, startTestApp, testTarget, type TestApp } from '../support/app.js';
import { ok, request } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock.js';
import { AuctionBidsDocument, PlaceBidDocument } from '../generated/graphql.js';
import { injectPublishFaults, landThenTimeOut, refuse } from '../support/publish-faults.js';
import { bidPlacedNow } from '../support/bid-messages.js';
import { servicesOrSkip } from '../support/services.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const onServices = testTarget() === 'services';
const cents = (amount: string) => Math.round(Number(amount) * 100);
const money = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

const placeBid = (url: string, user: TestUser, auctionId: string, amount: string, idempotencyKey: string = randomUUID()) =>
  request(url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey } }, user.token);

async function liveAuction(url: string, auctionId: string) {
  const { auction } = await ok(url, AuctionBidsDocument, { id: auctionId, first: 100 });
  return auction!;
}

/** Waits until Postgres holds at least `count` bids of the auction, and returns them. */
const persistedCount = (app: TestApp, auctionId: string, count: number, timeoutMs = 20_000) =>
  vi.waitFor(
    async () => {
      const rows = await app.deps.db.bid.findMany({ where: { auctionId } });
      expect(rows.length, `persisted bids of ${auctionId}`).toBeGreaterThanOrEqual(count);
      return rows;
    },
    { timeout: timeoutMs, interval: 50 },
  );

describeApp('resilience', () => {
  describe('when the bid log refuses or times out', () => {
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

    /** Waits until the worker has persisted everything the log holds for the auction. */
    const drained = (auctionId: string) =>
      vi.waitFor(async () => expect(await app.deps.bidLog.isCaughtUp(auctionId)).toBe(true), { timeout: 20_000, interval: 50 });

    it('answers a bid whose publish is refused only once the log has it, and meanwhile refuses new bids UNAVAILABLE with nothing accepted', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const first = await placeBid(app.url, alice, auction.id, '10.00');
      expect(first.data?.placeBid.bid.seq).toBe(1);

      const heldKey = randomUUID();
      const refusedKey = randomUUID();
      const faults = injectPublishFaults(app, refuse);
      let held: ReturnType<typeof placeBid> | undefined;
      let retried: ReturnType<typeof placeBid> | undefined;
      try {
        held = placeBid(app.url, bob, auction.id, '12.00', heldKey);
        await vi.waitFor(() => expect(app.deps.bidFinisher.failing).toBe(true), { timeout: 10_000 });

        // Bob's bid is accepted and on its way: a new bid is refused before the price book judges it.
        const refused = await placeBid(app.url, alice, auction.id, '20.00', refusedKey);
        expect(refused.data?.placeBid ?? null).toBeNull();
        expect(refused.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
        expect(await liveAuction(app.url, auction.id)).toMatchObject({ currentPrice: '12.00', bidCount: 2, lastSeq: 2 });
        // A retry of Bob's key is answered as his first request will be, not refused.
        retried = placeBid(app.url, bob, auction.id, '12.00', heldKey);
      } finally {
        faults.restore();
      }

      const [answer, retryAnswer] = await Promise.all([held, retried]);
      expect(answer?.errors).toBeUndefined();
      expect(answer?.data?.placeBid.bid).toMatchObject({ amount: '12.00', seq: 2 });
      expect(retryAnswer?.data?.placeBid.bid.id).toBe(answer?.data?.placeBid.bid.id);
      expect(app.deps.bidFinisher.failing).toBe(false);

      // The refused bid left no trace: its key now places a bid of its own, with the next seq.
      const resumed = await placeBid(app.url, alice, auction.id, '20.00', refusedKey);
      expect(resumed.errors).toBeUndefined();
      expect(resumed.data?.placeBid.bid).toMatchObject({ amount: '20.00', seq: 3 });

      await drained(auction.id);
      const rows = await app.deps.db.bid.findMany({ where: { auctionId: auction.id }, orderBy: { seq: 'asc' } });
      expect(rows.map((r) => [r.seq, r.id])).toEqual([
        [1, first.data!.placeBid.bid.id],
        [2, answer!.data!.placeBid.bid.id],
        [3, resumed.data!.placeBid.bid.id],
      ]);
    });

    it('finishes a bid whose publish timed out after a later bid took the lead: both persisted once, seqs without a gap', async () => {
      const carol = await signUpUser(app.url, { displayName: 'Carol' });
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const first = await placeBid(app.url, alice, auction.id, '10.00');

      const slowKey = randomUUID();
      let releaseSlow!: () => void;
      const slowAcknowledgement = new Promise<void>((resolve) => (releaseSlow = resolve));
      let slowAttempts = 0;
      const faults = injectPublishFaults(app, async (message, options, real) => {
        if (message.bid.idempotencyKey !== slowKey) return real(message, options);
        slowAttempts++;
        // First the record lands but its acknowledgement is lost; then the log refuses; then it takes it again.
        if (slowAttempts === 1) {
          await slowAcknowledgement;
          return landThenTimeOut(message, options, real);
        }
        if (slowAttempts === 2) return refuse();
        return real(message, options);
      });
      try {
        const slow = placeBid(app.url, bob, auction.id, '12.00', slowKey);
        await vi.waitFor(() => expect(slowAttempts).toBe(1));

        // Carol is judged against Bob's bid (12.00 leads) and reaches the log before it.
        const later = await placeBid(app.url, carol, auction.id, '13.00');
        expect(later.errors).toBeUndefined();
        expect(later.data?.placeBid.bid).toMatchObject({ amount: '13.00', seq: 3 });

        releaseSlow();
        const answer = await slow;
        expect(answer.errors).toBeUndefined();
        expect(answer.data?.placeBid.bid).toMatchObject({ amount: '12.00', seq: 2, status: 'OUTBID' });
        expect(slowAttempts).toBe(3);

        await drained(auction.id);
        const rows = await app.deps.db.bid.findMany({ where: { auctionId: auction.id }, orderBy: { seq: 'asc' } });
        expect(rows.map((r) => [r.seq, r.id])).toEqual([
          [1, first.data!.placeBid.bid.id],
          [2, answer.data!.placeBid.bid.id],
          [3, later.data!.placeBid.bid.id],
        ]);
        // Bob's bid reached the log after Carol's and twice: neither moved the auction back.
        const stored = await app.deps.db.auction.findUniqueOrThrow({ where: { id: auction.id } });
        expect(stored).toMatchObject({ currentPrice: 13_00, bidCount: 3, lastSeq: 3, leadingBidId: later.data!.placeBid.bid.id });
      } finally {
        releaseSlow();
        faults.restore();
      }
    });
  });

  describe('when the bid worker must dead-letter a bid', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(async () => {
      await app?.close();
    });

    it('raises the alarm in /metrics, by cause', async () => {
      // Only a gateway bug could log such a message now; it stands for any bid the worker cannot persist.
      const unstorable = bidPlacedNow(randomUUID(), 1);
      unstorable.bid.idempotencyKey = 'key\u0000with NUL';
      await app.deps.bidLog.publish(unstorable, { timeoutMs: 3_000 });

      await vi.waitFor(
        async () => {
          const metrics = await (await fetch(app.url.replace(/\/graphql$/, '/metrics'))).text();
          expect(metrics).toMatch(/^auction_bids_dead_lettered_total\{cause="invalid"\} 1$/m);
        },
        { timeout: 20_000, interval: 100 },
      );
    });
  });

  describe.skipIf(!onServices)('when the Kafka broker goes away (services only: the embedded log has no broker)', () => {
    let mock: KafkaMock | undefined;
    let app: TestApp | undefined;
    afterAll(async () => {
      await app?.close();
      await mock?.stop();
    });

    it('never answers UNAVAILABLE for a bid it accepted, and refuses new bids UNAVAILABLE with nothing accepted', async () => {
      const topic = `bid-events-outage-${randomUUID().slice(0, 8)}`;
      mock = await startKafkaMock({ topics: [{ name: topic, partitions: 2 }, { name: `${topic}.dlq`, partitions: 1 }], brokers: 1 });
      app = await startTestApp({ env: { KAFKA_BROKERS: mock.brokers.join(','), KAFKA_BID_TOPIC: topic, SHUTDOWN_GRACE_MS: '200' } });
      const { seller, alice, bob } = await signUpCast(app.url);
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const first = await placeBid(app.url, alice, auction.id, '10.00');
      expect(first.errors).toBeUndefined();
      await persistedCount(app, auction.id, 1);

      await mock.stop();
      // Accepted by the price book before anything knew the broker was gone: it can only wait.
      const held = placeBid(app.url, bob, auction.id, '15.00').then(
        (result) => result.errors?.[0]?.extensions?.code ?? 'ACCEPTED',
        () => 'NO ANSWER',
      );
      const running = app;
      await vi.waitFor(() => expect(running.deps.bidFinisher.failing).toBe(true), { timeout: 15_000, interval: 50 });

      for (const amount of ['16.00', '20.00']) {
        const refused = await placeBid(running.url, alice, auction.id, amount);
        expect(refused.errors?.[0]?.extensions?.code, `bid of ${amount}`).toBe('UNAVAILABLE');
      }
      expect(await liveAuction(running.url, auction.id)).toMatchObject({ currentPrice: '15.00', bidCount: 2, lastSeq: 2 });

      // Stopping before the broker returns cuts Bob's request off, but never with a false UNAVAILABLE.
      await running.close();
      app = undefined;
      expect(['NO ANSWER', 'INTERNAL_SERVER_ERROR']).toContain(await held);
    });
  });

  describe('when the price book is unreachable', () => {
    let app: TestApp | undefined;
    let proxy: TcpProxy | undefined;
    afterAll(async () => {
      await app?.close();
      await proxy?.close();
    });

    // On services the app reaches Redis through a relay the test cuts, a real outage; the embedded
    // price book lives in the process, so there its calls are made to fail instead.
    it('answers a bid UNAVAILABLE with nothing accepted, and takes the same key as a new bid once it is back', async () => {
      const services = servicesOrSkip();
      if (onServices && services.available) proxy = await startTcpProxy(services.redisUrl);
      const running = (app = await startTestApp({ env: proxy ? { REDIS_URL: proxy.url } : {} }));
      const { seller, alice, bob } = await signUpCast(running.url);
      const auction = await createAuction(running.url, seller, { startingPrice: '10.00' });
      const first = await placeBid(running.url, alice, auction.id, '10.00');
      expect(first.errors).toBeUndefined();

      const book = running.deps.priceBook;
      const placeBidOnBook = book.placeBid;
      if (proxy) await proxy.cut();
      else book.placeBid = () => Promise.reject(new Error('price book unreachable'));
      const key = randomUUID();
      try {
        const refused = await placeBid(running.url, bob, auction.id, '12.00', key);
        expect(refused.data?.placeBid ?? null).toBeNull();
        expect(refused.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
      } finally {
        if (proxy) await proxy.restore();
        else book.placeBid = placeBidOnBook;
      }

      // The refused attempt left no trace: once the book answers again, its key places a bid of its
      // own with the next seq. Until the client has reconnected, a retry is refused UNAVAILABLE again.
      const resumed = await vi.waitFor(
        async () => {
          const result = await placeBid(running.url, bob, auction.id, '12.00', key);
          expect(result.errors).toBeUndefined();
          return result.data!.placeBid;
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(resumed.bid).toMatchObject({ amount: '12.00', seq: 2, status: 'LEADING' });
      expect(resumed.auction).toMatchObject({ currentPrice: '12.00', bidCount: 2, lastSeq: 2 });
      const rows = await persistedCount(running, auction.id, 2);
      expect(rows.map((r) => [r.seq, r.id]).sort()).toEqual([
        [1, first.data!.placeBid.bid.id],
        [2, resumed.bid.id],
      ]);
    });
  });

  describe('when the price book loses its state', () => {
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

    // Only on services: the in-process price book of the embedded target has no way to wipe one
    // auction's state from outside (it lives and dies with the process).
    it.skipIf(!onServices)('never accepts a bid below an accepted one after the price book loses its state, and resumes once caught up', async () => {
      const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
      const keys: string[] = [];
      const accepted: Array<{ id: string; seq: number; amount: string }> = [];
      let minimum = '';
      for (const [user, amount] of [[alice, '10.00'], [bob, '15.00'], [alice, '20.00']] as const) {
        const key = randomUUID();
        const result = await placeBid(app.url, user, auction.id, amount, key);
        expect(result.errors).toBeUndefined();
        keys.push(key);
        accepted.push(result.data!.placeBid.bid);
        minimum = result.data!.placeBid.auction.minimumNextBid;
      }
      expect((await persistedCount(app, auction.id, 3)).length).toBe(3);
      const before = await liveAuction(app.url, auction.id);
      expect(before).toMatchObject({ currentPrice: '20.00', bidCount: 3, lastSeq: 3 });

      const redis = new Redis(app.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        const prefix = app.env.REDIS_KEY_PREFIX ?? '';
        const auctionKey = `${prefix}auction:{${auction.id}}`;
        const removed = await redis.del(auctionKey, `${auctionKey}:keys`);
        expect(removed).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }

      // The lazy reload must not resurrect the starting price: 15.00 (above the starting price,
      // below the accepted 20.00) and 20.00 (equal to it) are refused.
      expect(minimum).toBe('20.50');
      for (const amount of ['10.00', '15.00', '20.00', '20.49']) {
        const low = await placeBid(app.url, bob, auction.id, amount);
        expect(low.data?.placeBid ?? null, `bid of ${amount}`).toBeNull();
        expect(low.errors?.[0]?.extensions, `bid of ${amount}`).toMatchObject({ code: 'BID_TOO_LOW', minimumNextBid: minimum });
      }
      // A retried earlier key answers the original bid, not a new one.
      const retry = await placeBid(app.url, bob, auction.id, '15.00', keys[1]);
      expect(retry.errors).toBeUndefined();
      expect(retry.data?.placeBid.bid).toMatchObject({ id: accepted[1]!.id, seq: 2, amount: '15.00' });

      const atMinimum = await placeBid(app.url, bob, auction.id, minimum);
      expect(atMinimum.errors).toBeUndefined();
      expect(atMinimum.data?.placeBid.bid).toMatchObject({ amount: minimum, seq: before.lastSeq + 1 });
      expect(atMinimum.data?.placeBid.auction).toMatchObject({ currentPrice: minimum, bidCount: 4, lastSeq: 4 });

      const rows = await persistedCount(app, auction.id, 4);
      expect(rows.map((r) => r.id).sort()).toEqual([...accepted.map((b) => b.id), atMinimum.data!.placeBid.bid.id].sort());
      expect(rows.map((r) => r.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
    });
  });

  // Only on services: the embedded bid log lives inside one process, so a second app cannot share it.
  describe.skipIf(!onServices)('when the bid worker restarts (services only: the embedded log cannot be shared between apps)', () => {
    let gateway: TestApp;
    const workers: App[] = [];
    beforeAll(async () => {
      gateway = await startTestApp({ roles: ['gateway'] });
    });
    afterAll(async () => {
      for (const worker of workers) await worker.stop().catch(() => undefined);
      await gateway?.close();
    });

    const startWorker = async () => {
      const worker = await startApp(loadConfig({ ...gateway.env }, false), pino({ level: 'silent' }), { roles: new Set(['workers']) });
      workers.push(worker);
      return worker;
    };

    it('the bid worker restarted mid-stream loses and doubles nothing', async () => {
      let worker: App | undefined = await startWorker();
      const seller = await signUpUser(gateway.url, { displayName: 'Seller' });
      const bidders = await Promise.all(Array.from({ length: 4 }, (_, i) => signUpUser(gateway.url, { displayName: `Bidder ${i}` })));
      const auction = await createAuction(gateway.url, seller, { startingPrice: '1.00' });

      // Each ticket bids exactly the minimum over the one before: in order, every bid is accepted;
      // a bid overtaken by a later ticket of another client is refused BID_TOO_LOW.
      const amounts = [100];
      for (let i = 1; i < 200; i++) amounts.push(amounts[i - 1]! + bidIncrement(amounts[i - 1]!));
      const accepted: Array<{ id: string; seq: number; amount: string }> = [];
      const refusals: string[] = [];
      let next = 0;
      let stopped: Promise<void> | undefined;
      let restarted: Promise<App> | undefined;
      const client = async (bidder: TestUser) => {
        while (next < 200) {
          const i = next++;
          const amount = money(amounts[i]!);
          const result = await placeBid(gateway.url, bidder, auction.id, amount);
          if (result.data) accepted.push(result.data.placeBid.bid);
          else refusals.push(String(result.errors?.[0]?.extensions?.code));
          if (accepted.length >= 50 && !stopped && worker) {
            const stopping = worker;
            worker = undefined;
            stopped = stopping.stop();
          }
          if (accepted.length >= 120 && stopped && !restarted) {
            restarted = stopped.then(() => startWorker());
          }
        }
      };
      await Promise.all(bidders.map((bidder) => client(bidder)));
      expect(stopped, 'the worker was stopped mid-stream').toBeDefined();
      expect(restarted, 'a new worker was started mid-stream').toBeDefined();
      await restarted;
      for (const code of refusals) expect(code).toBe('BID_TOO_LOW');
      expect(accepted.length).toBeGreaterThanOrEqual(120);

      // A client whose ticket reaches the book while its own bid still leads raises its maximum;
      // the tickets it overtook are then answered by automatic bids. The price book counts those
      // too: its bidCount is every bid the worker must persist, each once.
      const bySeq = [...accepted].sort((a, b) => a.seq - b.seq);
      expect(new Set(bySeq.map((b) => b.seq)).size).toBe(bySeq.length);
      for (let i = 1; i < bySeq.length; i++) expect(cents(bySeq[i]!.amount)).toBeGreaterThanOrEqual(cents(bySeq[i - 1]!.amount));
      const live = await liveAuction(gateway.url, auction.id);
      expect(live.lastSeq).toBe(live.bidCount);
      expect(live.bidCount).toBeGreaterThanOrEqual(accepted.length);

      const rows = await persistedCount(gateway, auction.id, live.bidCount, 45_000);
      // Once the group has committed the end of the log, no delivery is left to double anything.
      await vi.waitFor(async () => expect(await gateway.deps.bidLog.isCaughtUp(auction.id)).toBe(true), { timeout: 20_000, interval: 50 });
      const final = await gateway.deps.db.bid.findMany({ where: { auctionId: auction.id }, orderBy: { seq: 'asc' } });
      expect(rows.length).toBe(live.bidCount);
      expect(final.map((r) => r.seq)).toEqual(final.map((_, i) => i + 1));
      expect(final.filter((r) => r.kind === 'PLACED').map((r) => r.id).sort()).toEqual(accepted.map((b) => b.id).sort());
      expect(final.filter((r) => r.kind !== 'PLACED').every((r) => r.kind === 'AUTOMATIC')).toBe(true);
      const stored = await gateway.deps.db.auction.findUnique({ where: { id: auction.id } });
      expect(stored).toMatchObject({ bidCount: live.bidCount, lastSeq: live.bidCount, leadingBidId: final.at(-1)!.id, currentPrice: final.at(-1)!.amount });
    }, 120_000);
  });
});
