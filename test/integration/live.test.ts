import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

    const { placed } = await placeBids(app.url, auction.id, [alice, bob], 10, '10.50');
    const events = await watcher.waitFor(11);
    await mine.waitFor(10);
    await sellers.waitFor(10);
    await sleep(300);

    expect(seqs(watcher.events)).toEqual(range(1, 11));
    expect(seqs(mine.events)).toEqual(range(2, 11));
    const last = watcher.events.at(-1)!.auctionEvents;
    expect(last).toMatchObject({ __typename: 'BidPlaced', auctionId: auction.id, currentPrice: placed.at(-1)!.amount, bidCount: 11 });
    for (const [i, event] of events.slice(1).entries()) {
      const bid = event.auctionEvents.__typename === 'BidPlaced' ? event.auctionEvents.bid : undefined;
      expect(bid).toMatchObject({ id: placed[i]!.id, amount: placed[i]!.amount, bidderAlias: placed[i]!.bidderAlias, isMine: false, bidder: null });
    }
    const aliceView = mine.events.map((e) => (e.auctionEvents.__typename === 'BidPlaced' ? e.auctionEvents.bid : undefined));
    expect(aliceView.filter((b) => b?.isMine).map((b) => b?.bidder?.id)).toEqual(Array(5).fill(alice.id));
    expect(aliceView.filter((b) => !b?.isMine).every((b) => b?.bidder === null)).toBe(true);
    const sellerView = sellers.events.map((e) => (e.auctionEvents.__typename === 'BidPlaced' ? e.auctionEvents.bid.bidder?.id : undefined));
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

    await placeBids(app.url, auction.id, [bob, alice], 5, next);
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
    live.publishAuctionEvents = async () => {
      live.publishAuctionEvents = publish;
      throw new Error('pub/sub dropped the message');
    };
    const { next } = await placeBids(app.url, auction.id, [bob], 1, '10.50');
    await sleep(500);
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
    // Alice's outbid subscription is surely live once her watcher of the same connection got a replayed event.
    const probe = subscribe(aliceClient, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
    const { placed } = await placeBids(app.url, auction.id, [alice], 1);
    await probe.waitFor(1);
    probe.stop();
    await sleep(200);

    const { placed: raised } = await placeBids(app.url, auction.id, [bob], 1, '10.50');
    const [notice] = await aliceOutbid.waitFor(1);
    expect(notice?.outbid).toMatchObject({
      currentPrice: raised[0]!.amount,
      yourBid: { id: placed[0]!.id, amount: '10.00', seq: 1, isMine: true },
      auction: { id: auction.id, currentPrice: raised[0]!.amount },
    });
    await sleep(500);
    expect(aliceOutbid.events).toHaveLength(1);
    expect(bobOutbid.events).toHaveLength(0);
    await aliceClient.dispose();
    await bobClient.dispose();
  });

  it('limits WebSocket connections per user, closing the extra one with 4429', async () => {
    const user = await signUpUser(app.url);
    const clients = await Promise.all([1, 2, 3].map(() => connect(app.wsUrl, user.token)));
    expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${user.token}` })).toBe(4429);
    await clients[0]!.dispose();
    await sleep(100);
    expect(await closeCodeOf(app.wsUrl, { authorization: `Bearer ${user.token}` })).toBe(0);
    await Promise.all(clients.slice(1).map((c) => c.dispose()));
  });

  it('limits subscriptions per connection with RATE_LIMITED', async () => {
    const auction = await createAuction(app.url, seller);
    const client = await connect(app.wsUrl);
    const allowed = [1, 2].map(() => subscribe(client, AuctionEventsDocument, { auctionId: auction.id }));
    await sleep(200);
    const extra = subscribe(client, AuctionEventsDocument, { auctionId: auction.id });
    await extra.ended();
    expect(extra.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(allowed.every((s) => !s.done)).toBe(true);
    await client.dispose();
  });

  it('refuses a WebSocket connection with a forged token (4403)', async () => {
    expect(await closeCodeOf(app.wsUrl, { authorization: 'Bearer forged' })).toBe(4403);
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
      const closes = (socket: WebSocket) => new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      const silentClosed = closes(silent);
      await sleep(600);
      expect(silent.readyState).toBe(WebSocket.CLOSED);
      expect(await silentClosed).toBe(1006);
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
      const seller = await signUpUser(app.url);
      const auction = await createAuction(app.url, seller);
      const client = await connect(app.wsUrl);
      const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      const watcher = subscribe(client, AuctionEventsDocument, { auctionId: auction.id });
      await sleep(100);
      await app.stop();
      expect(await closed).toBe(1001);
      expect(watcher.done).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describeApp('live updates across gateway processes', () => {
  if (testTarget() !== 'services') {
    it.skip('needs Redis pub/sub between processes: the in-process bus reaches one process only', () => {});
    return;
  }
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
    for (let i = 0; i < 100 && Number((await redis.call('PUBSUB', 'SHARDNUMSUB', channel) as [string, number])[1]) < 1; i++) await sleep(20);

    await placeBids(a.url, auction.id, [alice, bob], 20);
    await watcher.waitFor(20);
    await sleep(500);
    expect(seqs(watcher.events)).toEqual(range(1, 20));
    await client.dispose();
  });

  it('tells the outbid user on whichever gateway they are connected to, and only them', async () => {
    const auction = await createAuction(a.url, seller);
    const aliceOnB = await connect(bWsUrl, alice.token);
    const bobOnA = await connect(a.wsUrl, bob.token);
    const aliceOutbid = subscribe(aliceOnB, OutbidDocument);
    const bobOutbid = subscribe(bobOnA, OutbidDocument);
    const probe = subscribe(aliceOnB, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
    const { placed } = await placeBids(a.url, auction.id, [alice], 1);
    await probe.waitFor(1);
    probe.stop();

    await placeBids(a.url, auction.id, [bob], 1, '10.50');
    const [notice] = await aliceOutbid.waitFor(1);
    expect(notice?.outbid.yourBid.id).toBe(placed[0]!.id);
    await sleep(500);
    expect(aliceOutbid.events).toHaveLength(1);
    expect(bobOutbid.events).toHaveLength(0);
    await aliceOnB.dispose();
    await bobOnA.dispose();
  });
});
