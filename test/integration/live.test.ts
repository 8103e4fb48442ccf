import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auctionChannel } from '../../src/adapters/live/live-events.js';
import { describeApp, startTestApp, testTarget, type TestApp } from '../support/app.js';
import { ok, request } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { closeCodeOf, connect, subscribe } from '../support/ws-client.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { AuctionEventsDocument, AuctionEventsSinceDocument, OutbidDocument, PlaceBidDocument } from '../generated/graphql.js';

type Events = Awaited<ReturnType<ReturnType<typeof subscribe<typeof AuctionEventsDocument>>['waitFor']>>;

const seqs = (events: Events) => events.map((e) => (e.auctionEvents.__typename === 'BidPlaced' ? e.auctionEvents.seq : -1));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Places `count` bids in turn by `bidders`, each at the minimum the previous answer asked for. */
async function placeBids(url: string, auctionId: string, bidders: TestUser[], count: number, startAt = '10.00') {
  let amount = startAt;
  const placed = [];
  for (let i = 0; i < count; i++) {
    const bidder = bidders[i % bidders.length]!;
    const result = await request(url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey: randomUUID() } }, bidder.token);
    if (result.errors) throw new Error(`bid refused: ${JSON.stringify(result.errors)}`);
    placed.push({ ...result.data!.placeBid.bid, by: bidder });
    amount = result.data!.placeBid.auction.minimumNextBid;
  }
  return { placed, next: amount };
}

/**
 * A subscription that is certainly listening: it asks for the stored events after seq 0 of an
 * auction with one bid, and the live stream is attached before that replay is read.
 */
async function listeningSubscription(app: TestApp, wsUrl: string, auctionId: string, bidder: TestUser, token?: string) {
  await placeBids(app.url, auctionId, [bidder], 1);
  const client = await connect(wsUrl, token);
  const subscription = subscribe(client, AuctionEventsDocument, { auctionId, afterSeq: 0 });
  await subscription.waitFor(1);
  return { client, subscription };
}

describeApp('live auction updates', () => {
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    app = await startTestApp({ env: { WS_MAX_CONNECTIONS_PER_USER: '3', WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' } });
    ({ seller, alice, bob } = await signUpCast(app.url));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('delivers every bid of an auction in seq order and exactly once, masking bidders as queries do', async () => {
    const auction = await createAuction(app.url, seller);
    const { client: anonymous, subscription: watcher } = await listeningSubscription(app, app.wsUrl, auction.id, bob);
    const aliceClient = await connect(app.wsUrl, alice.token);
    const mine = subscribe(aliceClient, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 1 });
    const sellerClient = await connect(app.wsUrl, seller.token);
    const sellers = subscribe(sellerClient, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 1 });

    const { placed, next } = await placeBids(app.url, auction.id, [alice, bob], 10, '10.50');
    // One more bid as a marker: events arrive in seq order, so a copy of any earlier one would
    // show up before it.
    await placeBids(app.url, auction.id, [alice], 1, next);
    await watcher.waitFor(12);
    await mine.waitFor(11);
    await sellers.waitFor(11);

    expect(seqs(watcher.events)).toEqual(range(1, 12));
    expect(seqs(mine.events)).toEqual(range(2, 12));
    expect(seqs(sellers.events)).toEqual(range(2, 12));
    // From here on, the ten bids of the test without the marker.
    const events = watcher.events.slice(0, 11);
    const last = events.at(-1)!.auctionEvents;
    expect(last).toMatchObject({ __typename: 'BidPlaced', auctionId: auction.id, currentPrice: placed.at(-1)!.amount, bidCount: 11 });
    for (const [i, event] of events.slice(1).entries()) {
      const bid = event.auctionEvents.__typename === 'BidPlaced' ? event.auctionEvents.bid : undefined;
      expect(bid).toMatchObject({ id: placed[i]!.id, amount: placed[i]!.amount, bidderAlias: placed[i]!.bidderAlias, isMine: false, bidder: null });
    }
    const aliceView = mine.events.slice(0, 10).map((e) => (e.auctionEvents.__typename === 'BidPlaced' ? e.auctionEvents.bid : undefined));
    expect(aliceView.filter((b) => b?.isMine).map((b) => b?.bidder?.id)).toEqual(Array(5).fill(alice.id));
    expect(aliceView.filter((b) => !b?.isMine).every((b) => b?.bidder === null)).toBe(true);
    const sellerView = sellers.events.slice(0, 10).map((e) => (e.auctionEvents.__typename === 'BidPlaced' ? e.auctionEvents.bid.bidder?.id : undefined));
    expect(sellerView).toEqual(placed.map((p) => p.by.id));
    await sellerClient.dispose();
    await anonymous.dispose();
    await aliceClient.dispose();
  });

  it('lets a client that missed bids while away resume from its last seq, live or by the events query, gap-free', async () => {
    const auction = await createAuction(app.url, seller);
    const first = await listeningSubscription(app, app.wsUrl, auction.id, alice);
    const { next } = await placeBids(app.url, auction.id, [bob, alice], 3, '10.50');
    await first.subscription.waitFor(4);
    await first.client.dispose();
    const lastSeen = seqs(first.subscription.events).at(-1)!;

    // Alice first: Bob leads, and a leader's bid would only raise his maximum.
    await placeBids(app.url, auction.id, [alice, bob], 5, next);
    const client = await connect(app.wsUrl);
    const resumed = subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: lastSeen });
    await resumed.waitFor(5);
    expect([...seqs(first.subscription.events), ...seqs(resumed.events)]).toEqual(range(1, 9));

    const { auction: stored } = await ok(app.url, AuctionEventsSinceDocument, { id: auction.id, afterSeq: lastSeen });
    expect(stored?.events.map((e) => (e.__typename === 'BidPlaced' ? e.seq : -1))).toEqual(range(5, 9));
    await client.dispose();
  });

  it('fills a gap in the live stream from Postgres when a fan-out was lost', async () => {
    const auction = await createAuction(app.url, seller);
    const { client, subscription } = await listeningSubscription(app, app.wsUrl, auction.id, alice);
    const live = app.deps.live;
    const publish = live.publishAuctionEvents;
    let dropped!: () => void;
    const wasDropped = new Promise<void>((resolve) => (dropped = resolve));
    live.publishAuctionEvents = async () => {
      live.publishAuctionEvents = publish;
      dropped();
      throw new Error('pub/sub dropped the message');
    };
    const { next } = await placeBids(app.url, auction.id, [bob], 1, '10.50');
    // The worker's one fan-out of seq 2 is gone: nothing else could deliver it now.
    await wasDropped;
    expect(seqs(subscription.events)).toEqual([1]);

    await placeBids(app.url, auction.id, [alice], 1, next);
    await subscription.waitFor(3);
    expect(seqs(subscription.events)).toEqual([1, 2, 3]);
    await client.dispose();
  });

  it('refuses to watch an auction that does not exist (NOT_FOUND), a malformed id or a missing variable (BAD_USER_INPUT)', async () => {
    const client = await connect(app.wsUrl);
    const missing = subscribe(client, AuctionEventsDocument, { auctionId: randomUUID() });
    const malformed = subscribe(client, AuctionEventsDocument, { auctionId: 'nope' });
    const other = await connect(app.wsUrl);
    const withoutVariables = subscribe(other, AuctionEventsDocument, {} as never);
    await Promise.all([missing.ended(), malformed.ended(), withoutVariables.ended()]);
    expect(missing.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(malformed.errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(withoutVariables.errors.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', expect.stringMatching(/auctionId/)]]);
    await client.dispose();
    await other.dispose();
  });

  it('answers outbid without a token with UNAUTHENTICATED', async () => {
    const client = await connect(app.wsUrl);
    const outbid = subscribe(client, OutbidDocument);
    await outbid.ended();
    expect(outbid.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    await client.dispose();
  });

  it("tells a bidder they were outbid on their own subscription, and nobody else, not even for another's bids", async () => {
    const auction = await createAuction(app.url, seller);
    const aliceClient = await connect(app.wsUrl, alice.token);
    const bobClient = await connect(app.wsUrl, bob.token);
    const aliceOutbid = subscribe(aliceClient, OutbidDocument);
    const bobOutbid = subscribe(bobClient, OutbidDocument);
    // Each outbid subscription is surely live once a watcher on the same connection got a replayed event.
    const { placed } = await placeBids(app.url, auction.id, [alice], 1);
    for (const client of [aliceClient, bobClient]) {
      const probe = subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
      await probe.waitFor(1);
      probe.stop();
    }

    const { placed: raised, next } = await placeBids(app.url, auction.id, [bob], 1, '10.50');
    const [notice] = await aliceOutbid.waitFor(1);
    expect(notice?.outbid).toMatchObject({
      currentPrice: raised[0]!.amount,
      yourBid: { id: placed[0]!.id, amount: '10.00', seq: 1, isMine: true },
      auction: { id: auction.id, currentPrice: raised[0]!.amount },
    });
    // Two more bids give each stream a later notice of its own; notices reach a stream in bid order,
    // so a wrong one (Bob told of Alice's first bid, Alice of her own raise) would have come first.
    const { placed: aliceAgain, next: after } = await placeBids(app.url, auction.id, [alice], 1, next);
    await placeBids(app.url, auction.id, [bob], 1, after);
    await bobOutbid.waitFor(1);
    await aliceOutbid.waitFor(2);
    expect(bobOutbid.events.map((e) => e.outbid.yourBid.id)).toEqual([raised[0]!.id]);
    expect(aliceOutbid.events.map((e) => e.outbid.yourBid.id)).toEqual([placed[0]!.id, aliceAgain[0]!.id]);
    await aliceClient.dispose();
    await bobClient.dispose();
  });

  it('limits WebSocket connections per user, closing the extra one with 4429', async () => {
    const user = await signUpUser(app.url);
    const clients = await Promise.all([1, 2, 3].map(() => connect(app.wsUrl, user.token)));
    expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${user.token}` })).toBe(4429);
    await clients[0]!.dispose();
    // The server frees the slot when it sees the close, a moment after the client sent it.
    await vi.waitFor(async () => expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${user.token}` })).toBe(0), { timeout: 5_000, interval: 50 });
    await Promise.all(clients.slice(1).map((c) => c.dispose()));
  });

  it('limits subscriptions per connection with RATE_LIMITED, and keeps delivering to the ones it allowed', async () => {
    const auction = await createAuction(app.url, seller);
    const { next } = await placeBids(app.url, auction.id, [alice], 1);
    const client = await connect(app.wsUrl);
    const allowed = [1, 2].map(() => subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 }));
    // Both are set up once each has replayed the first bid.
    for (const subscription of allowed) await subscription.waitFor(1);
    const extra = subscribe(client, AuctionEventsDocument, { auctionId: auction.id });
    await extra.ended();
    expect(extra.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);

    await placeBids(app.url, auction.id, [bob], 1, next);
    for (const subscription of allowed) expect(seqs(await subscription.waitFor(2))).toEqual([1, 2]);
    await client.dispose();
  });

  it('refuses a WebSocket connection with a forged token (4403)', async () => {
    expect(await closeCodeOf(app.wsUrl, { authorization: 'Bearer forged' })).toBe(4403);
  });

  describe('with a token that is well-formed but not good', () => {
    /** A token of the server's own shape for Alice, signed with `secret`, expiring at `exp` (seconds). */
    const tokenFor = (secret: string, exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.id)
        .setIssuer('auction-platform')
        .setIssuedAt(exp - 900)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const now = () => Math.floor(Date.now() / 1000);
    const connectWith = async (token: string) => closeCodeOf(app.wsUrl, { authorization: `Bearer ${token}` });

    it('accepts the same construction signed with the server secret and unexpired, so the refusals below are about the token alone', async () => {
      expect(await connectWith(await tokenFor(app.env.JWT_SECRET!, now() + 600))).toBe(0);
    });

    it('refuses an expired token (4403)', async () => {
      expect(await connectWith(await tokenFor(app.env.JWT_SECRET!, now() - 60))).toBe(4403);
    });

    it('refuses a token signed with another secret (4403)', async () => {
      expect(await connectWith(await tokenFor('another-secret-that-is-long-enough-for-hs256', now() + 600))).toBe(4403);
    });
  });
});

describeApp('WebSocket connections per address', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { WS_MAX_CONNECTIONS_PER_IP: '2', WS_MAX_CONNECTIONS_PER_USER: '10' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The `ws` client bound to another loopback address: the server sees a different client. */
  const from = (localAddress: string) =>
    class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { localAddress });
      }
    };

  it('closes a connection past the per-address cap with 4429, signed in or not, and admits one again once a slot is free', async () => {
    const user = await signUpUser(app.url);
    const clients = [await connect(app.wsUrl), await connect(app.wsUrl, user.token)];
    expect(await closeCodeOf(app.wsUrl, {})).toBe(4429);
    expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${user.token}` })).toBe(4429);
    // The cap counts one address: another one still gets in. Linux routes all of 127.0.0.0/8 to the
    // loopback, so a second local address exists there; elsewhere only 127.0.0.1 may.
    if (process.platform === 'linux') expect(await closeCodeOf(app.wsUrl, {}, from('127.0.0.2'))).toBe(0);

    await clients[0]!.dispose();
    await vi.waitFor(async () => expect(await closeCodeOf(app.wsUrl, {})).toBe(0), { timeout: 5_000, interval: 50 });
    await clients[1]!.dispose();
  });
});

describeApp('WebSocket keep-alive', () => {
  it('drops a socket that stops answering pings and keeps one that answers', async () => {
    const app = await startTestApp({ env: { WS_KEEPALIVE_MS: '100' } });
    try {
      const open = (autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws', { autoPong });
          socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
          socket.on('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve(socket) : undefined));
          socket.on('error', reject);
        });
      const [silent, healthy] = [await open(false), await open(true)];
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      let pingsAnswered = 0;
      healthy.on('ping', () => pingsAnswered++);
      let healthyClosed = false;
      healthy.on('close', () => (healthyClosed = true));

      expect(await silentClosed).toBe(1006);
      // Dropping the silent socket took one missed ping; the healthy one must outlive several more.
      const answeredThen = pingsAnswered;
      await vi.waitFor(() => expect(pingsAnswered).toBeGreaterThanOrEqual(answeredThen + 3), { timeout: 5_000, interval: 20 });
      expect(healthyClosed).toBe(false);
      expect(healthy.readyState).toBe(WebSocket.OPEN);
      healthy.close();
    } finally {
      await app.close();
    }
  });
});

describeApp('a gateway shutting down', () => {
  it('closes its WebSockets with 1001 (going away) so clients reconnect elsewhere', async () => {
    const app = await startTestApp();
    try {
      const [seller, bidder] = [await signUpUser(app.url), await signUpUser(app.url)];
      const auction = await createAuction(app.url, seller);
      const { client, subscription: watcher } = await listeningSubscription(app, app.wsUrl, auction.id, bidder);
      const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      await app.stop();
      expect(await closed).toBe(1001);
      expect(watcher.done).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describeApp('live updates across gateway processes', () => {
  describe.skipIf(testTarget() !== 'services')('(services only: the in-process bus of the embedded target reaches one process)', () => {
    let a: TestApp;
    let b: ServerProcess;
    let bWsUrl: string;
    let redis: Redis;
    let seller: TestUser;
    let alice: TestUser;
    let bob: TestUser;
    beforeAll(async () => {
      a = await startTestApp();
      // Gateway B is its own process, as in production: it shares nothing with A but Redis, Kafka and Postgres.
      b = await startServerProcess('gateway', { ...a.env, PORT: '0' });
      bWsUrl = b.url!.replace(/^http/, 'ws');
      redis = new Redis(a.env.REDIS_URL!);
      ({ seller, alice, bob } = await signUpCast(a.url));
    });
    afterAll(async () => {
      redis?.disconnect();
      b?.child.kill('SIGTERM');
      if (b) await once(b.child, 'exit');
      await a?.close();
    });

    it('delivers to a subscriber on gateway B, in seq order and exactly once, every bid placed through gateway A', async () => {
      expect(new URL(b.url!).port).not.toBe(String(a.port));
      const auction = await createAuction(a.url, seller);
      const client = await connect(bWsUrl);
      const watcher = subscribe(client, AuctionEventsDocument, { auctionId: auction.id });
      const channel = auctionChannel(a.env.REDIS_KEY_PREFIX!, auction.id);
      await vi.waitFor(async () => expect(Number(((await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1])).toBe(1), { timeout: 5_000, interval: 20 });

      const { next } = await placeBids(a.url, auction.id, [alice, bob], 20);
      // A 21st bid as a marker: in seq order, a copy of any of the twenty would come before it.
      await placeBids(a.url, auction.id, [alice], 1, next);
      await watcher.waitFor(21);
      expect(seqs(watcher.events)).toEqual(range(1, 21));
      await client.dispose();
    });

    it('tells the outbid user on whichever gateway they are connected to, and only them', async () => {
      const auction = await createAuction(a.url, seller);
      const aliceOnB = await connect(bWsUrl, alice.token);
      const bobOnA = await connect(a.wsUrl, bob.token);
      const aliceOutbid = subscribe(aliceOnB, OutbidDocument);
      const bobOutbid = subscribe(bobOnA, OutbidDocument);
      const { placed } = await placeBids(a.url, auction.id, [alice], 1);
      for (const client of [aliceOnB, bobOnA]) {
        const probe = subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
        await probe.waitFor(1);
        probe.stop();
      }

      const { placed: raised, next } = await placeBids(a.url, auction.id, [bob], 1, '10.50');
      const [notice] = await aliceOutbid.waitFor(1);
      expect(notice?.outbid.yourBid.id).toBe(placed[0]!.id);
      // Later notices of their own, which in bid order come after any wrong one.
      const { placed: aliceAgain, next: after } = await placeBids(a.url, auction.id, [alice], 1, next);
      await placeBids(a.url, auction.id, [bob], 1, after);
      await bobOutbid.waitFor(1);
      await aliceOutbid.waitFor(2);
      expect(bobOutbid.events.map((e) => e.outbid.yourBid.id)).toEqual([raised[0]!.id]);
      expect(aliceOutbid.events.map((e) => e.outbid.yourBid.id)).toEqual([placed[0]!.id, aliceAgain[0]!.id]);
      await aliceOnB.dispose();
      await bobOnA.dispose();
    });
  });
});
