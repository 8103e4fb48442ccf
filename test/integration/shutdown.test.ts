import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResultOf, TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeApp, servicesEnv, testTarget } from '../support/app.js';
import type { GraphQLErrorBody } from '../support/client.js';
import { ok } from '../support/client.js';
import { createAuction, signUpCast, type TestUser } from '../support/factories.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { connect } from '../support/ws-client.js';
import { AuctionBidsDocument, PlaceBidDocument, ServerTimeDocument } from '../generated/graphql.js';

const onServices = testTarget() === 'services';

/** What Docker (and `docker compose stop`) allows between SIGTERM and SIGKILL by default. */
const DOCKER_STOP_TIMEOUT_MS = 10_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From SIGTERM to the process's exit. */
  ms: number;
}

/** Sends SIGTERM; resolves once the process has exited. */
function terminate(server: ServerProcess): Promise<Exit> {
  const exited = once(server.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const sentAt = performance.now();
  server.child.kill('SIGTERM');
  return exited.then(([code, signal]) => ({ code, signal, ms: performance.now() - sentAt }));
}

/** Resolves once the process has printed a line matching `pattern`. */
async function printed(server: ServerProcess, pattern: RegExp): Promise<void> {
  await expect.poll(() => server.output.some((line) => pattern.test(line)), { timeout: 10_000, interval: 10 }).toBe(true);
}

/** Whether a new TCP connection to the server's port is refused. */
function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

interface Answer<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

/**
 * A GraphQL POST that the server has taken in but cannot answer yet: it is sent with
 * `Expect: 100-continue`, so the server's "100 Continue" says its handler has the request, and the
 * body follows only on `send()`. A request whose body never comes is one a slow client holds open.
 */
async function requestInFlight<D extends TypedDocumentNode<any, any>>(url: string, document: D, variables: VariablesOf<D>, token?: string) {
  const body = JSON.stringify({ query: print(document), variables });
  const req = http.request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  const answered = new Promise<Answer<ResultOf<D>>>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object) }));
    });
  });
  // The tests await it, or expect it to fail; never an unhandled rejection meanwhile.
  answered.catch(() => {});
  req.flushHeaders();
  await once(req, 'continue');
  return {
    answered,
    send: () => {
      req.end(body);
      return answered;
    },
  };
}

/** An acknowledged graphql-ws connection; `closed` resolves with the code the server closes it with. */
async function openSocket(url: string): Promise<{ closed: Promise<number> }> {
  const client = await connect(url.replace(/^http/, 'ws'));
  return { closed: new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code))) };
}

/** The auction's bids as Postgres holds them. */
async function persistedBids(url: string, auctionId: string) {
  const { auction } = await ok(url, AuctionBidsDocument, { id: auctionId, first: 100 });
  return auction!.bids.edges.map((edge) => edge.node);
}

const sortedIds = (bids: Array<{ id: string }>) => bids.map((b) => b.id).sort();

describeApp('graceful shutdown on SIGTERM', () => {
  // Every process of this file shares one data directory (embedded) or one scratch database, bid
  // topic and consumer groups (services): a restarted process must find what the stopped one left.
  // One at a time, since PGlite serves a single process; its first open, with the migrations, is
  // the slow part, so it is paid once.
  let env: Record<string, string>;
  const cleanups: Array<() => Promise<void>> = [];
  const started: ServerProcess[] = [];
  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'auction-shutdown-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    env = {
      // What the image runs with (see Dockerfile).
      NODE_ENV: 'production',
      JWT_SECRET: 'shutdown-test-secret-long-enough-for-hs256',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
    };
    if (onServices) {
      const services = await servicesEnv(path.basename(dataDir));
      cleanups.push(() => services.drop());
      Object.assign(env, services.env);
    }
  });
  afterEach(() => {
    // A failed test may leave its process running; a passing one has already seen it exit.
    for (const server of started.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const start = async (role: 'all' | 'gateway' | 'workers', extra: Record<string, string> = {}) => {
    const server = await startServerProcess(role, { ...env, ...extra });
    started.push(server);
    return server;
  };

  it('the all role answers the bid in flight, persists it, and after a restart holds it exactly once', async () => {
    const server = await start('all');
    const url = server.url!;
    const { seller, alice, bob } = await signUpCast(url);
    const auction = await createAuction(url, seller, { startingPrice: '10.00' });
    const first = await ok(url, PlaceBidDocument, { input: { auctionId: auction.id, amount: '10.00', idempotencyKey: randomUUID() } }, alice.token);
    const socket = await openSocket(url);
    const bid = await requestInFlight(
      url,
      PlaceBidDocument,
      { input: { auctionId: auction.id, amount: first.placeBid.auction.minimumNextBid, idempotencyKey: randomUUID() } },
      bob.token,
    );

    const exit = terminate(server);
    await printed(server, /"draining"/);
    await expect.poll(() => connectionRefused(url), { timeout: 5_000, interval: 20 }).toBe(true);
    const answer = await bid.send();
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.placeBid.bid).toMatchObject({ seq: 2, amount: first.placeBid.auction.minimumNextBid });
    expect(await socket.closed).toBe(1001);
    const { code, ms } = await exit;
    expect(code, server.output.join('\n')).toBe(0);
    expect(ms).toBeLessThan(DOCKER_STOP_TIMEOUT_MS);

    const restarted = await start('all');
    const second = answer.data!.placeBid.bid;
    // Polled: with Kafka, a bid the stopped worker had not yet read is persisted by the restarted one.
    await expect.poll(async () => sortedIds(await persistedBids(restarted.url!, auction.id)), { timeout: 15_000 }).toEqual(
      sortedIds([first.placeBid.bid, second]),
    );
    // The sequence goes on where it stopped: nothing was lost, nothing applied twice.
    const next = await ok(
      restarted.url!,
      PlaceBidDocument,
      { input: { auctionId: auction.id, amount: answer.data!.placeBid.auction.minimumNextBid, idempotencyKey: randomUUID() } },
      alice.token,
    );
    expect(next.placeBid.bid.seq).toBe(3);
    expect(next.placeBid.auction).toMatchObject({ bidCount: 3, lastSeq: 3 });
    expect((await terminate(restarted)).code, restarted.output.join('\n')).toBe(0);
  }, 120_000);

  it('the gateway role answers the request in flight, closes WebSockets with 1001, refuses new connections and exits 0 within 10 s, even with a client that never finishes its request', async () => {
    // The default grace period: it must leave the process time to exit before Docker's SIGKILL.
    const server = await start('gateway');
    const url = server.url!;
    const socket = await openSocket(url);
    const inFlight = await requestInFlight(url, ServerTimeDocument, {});
    const neverFinished = await requestInFlight(url, ServerTimeDocument, {});

    const exit = terminate(server);
    await printed(server, /"draining"/);
    await expect.poll(() => connectionRefused(url), { timeout: 5_000, interval: 20 }).toBe(true);
    expect(await socket.closed).toBe(1001);
    const answer = await inFlight.send();
    expect(answer.status).toBe(200);
    expect(answer.data?.serverTime).toEqual(expect.any(String));

    const { code, ms } = await exit;
    expect(code, server.output.join('\n')).toBe(0);
    expect(ms).toBeLessThan(DOCKER_STOP_TIMEOUT_MS);
    // Cut off once the grace period ran out, rather than holding the process past it.
    await expect(neverFinished.answered).rejects.toThrow();
  }, 120_000);

  // The embedded bid log lives inside one process: a workers process of its own has no gateway
  // publishing to it. The all role above covers the embedded workers.
  it.skipIf(!onServices)(
    'the workers role leaves committed exactly what it persisted, and its restart persists the rest exactly once (services only: a workers process of its own needs a shared log)',
    async () => {
      // A topic and groups of its own: the offsets below count this test's bids only.
      const scope = randomUUID().slice(0, 8);
      const own = { KAFKA_BID_TOPIC: `bid-events-shutdown-${scope}`, KAFKA_GROUP_PREFIX: `shutdown-${scope}-` };
      const [gateway, first] = await Promise.all([start('gateway', own), start('workers', own)]);
      let workers = first;
      const url = gateway.url!;
      const { seller, alice, bob } = await signUpCast(url);
      const auction = await createAuction(url, seller, { startingPrice: '1.00' });

      const accepted: Array<{ id: string; seq: number }> = [];
      let amount = '1.00';
      const bid = async (bidder: TestUser) => {
        const result = await ok(url, PlaceBidDocument, { input: { auctionId: auction.id, amount, idempotencyKey: randomUUID() } }, bidder.token);
        accepted.push(result.placeBid.bid);
        amount = result.placeBid.auction.minimumNextBid;
      };
      const bidders = [alice, bob];
      const nextBid = () => bid(bidders[accepted.length % 2]!);

      for (let i = 0; i < 5; i++) await nextBid();
      // The worker is in its group and persisting before the stop, so the stop lands mid-stream.
      await expect.poll(async () => (await persistedBids(url, auction.id)).length, { timeout: 20_000 }).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) await nextBid();

      // Right after an accepted bid, and bids keep coming while the worker drains.
      const exit = terminate(workers);
      let exited = false;
      void exit.then(() => (exited = true));
      // Bounded, so the bids fit on one page of `persistedBids`.
      while (!exited && accepted.length < 80) await nextBid();
      const { code, ms } = await exit;
      expect(code, workers.output.join('\n')).toBe(0);
      expect(ms).toBeLessThan(DOCKER_STOP_TIMEOUT_MS);
      await nextBid(); // certainly one the stopped worker never saw

      // One bidding client at a time: the auction's bids reach its partition in seq order, so the
      // message at offset k is the bid with seq k + 1, and the group's committed offset counts the
      // bids it is done with. Graceful means Postgres holds exactly those: none lost behind the
      // offset, none persisted past it (which the restart would apply again).
      const committed = await committedMessages(env, `${own.KAFKA_GROUP_PREFIX}bid-persister`, own.KAFKA_BID_TOPIC);
      const persisted = await persistedBids(url, auction.id);
      expect(committed).toBeGreaterThan(0);
      expect(committed).toBeLessThan(accepted.length);
      expect(persisted.map((b) => b.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: committed }, (_, i) => i + 1));

      workers = await start('workers', own);
      await expect.poll(async () => (await persistedBids(url, auction.id)).length, { timeout: 20_000 }).toBe(accepted.length);
      expect(sortedIds(await persistedBids(url, auction.id))).toEqual(sortedIds(accepted));
      // The commit follows each batch's write, so it may trail the rows by a moment.
      await expect
        .poll(() => committedMessages(env, `${own.KAFKA_GROUP_PREFIX}bid-persister`, own.KAFKA_BID_TOPIC), { timeout: 5_000 })
        .toBe(accepted.length);

      expect((await terminate(workers)).code, workers.output.join('\n')).toBe(0);
      expect((await terminate(gateway)).code, gateway.output.join('\n')).toBe(0);
    },
    120_000,
  );
});

/** How many messages of `topic` consumer group `groupId` has committed, over all partitions. */
async function committedMessages(env: Record<string, string>, groupId: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'shutdown-test', brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    // -1: nothing committed in that partition.
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
