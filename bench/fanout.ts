// Fan-out benchmark: live auction events from placeBid to WebSocket subscribers spread over several
// gateway processes (placeBid -> Kafka -> bid worker -> Postgres -> Redis sharded pub/sub ->
// gateways -> graphql-ws), against baselines measured in the same run on the same machine:
//   - a bare `ws` server fed by Redis SPUBLISH (no GraphQL, no Kafka, no Postgres): the floor for
//     delivery latency and the memory of a bare WebSocket connection;
//   - the placeBid round trip itself.
//
// Usage: npm run bench:fanout -- [--subscribers 10000] [--gateways 2] [--bids 200] [--rate 1]
//          [--auctions 1000] [--per-auction 10] [--bids-b 2000] [--rate-b 100]
//   quick: npm run bench:fanout -- --subscribers 500 --auctions 50 --bids 40 --rate 10 --bids-b 100
//
// Needs Postgres on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and a C compiler with
// librdkafka-dev for the Kafka mock cluster. The servers run as child processes; everything the
// bench creates is removed at the end, also after an error or Ctrl-C.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startKafkaMock } from '../test/support/kafka-mock.js';
import { createAuction, mapLimit, signUp } from './support/api.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, cleanupStack, deleteRedisKeys, scratchDatabase } from './support/scratch.js';
import { atRate, Bidding } from './fanout/bidding.js';
import { spawnServer, type ServerProcess } from './fanout/processes.js';
import { checkAlive, cpuMeter, memoryOf, printLogSummary, printMemory, printScenario } from './fanout/report.js';
import { BareSubscribers, drain, GraphqlSubscribers, warmUp } from './fanout/subscribers.js';
import { analyse, fmt, spread, type Stream } from './fanout/stats.js';

const BASE_DB_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    gateways: { type: 'string', default: '2' },
    bids: { type: 'string', default: '200' },
    rate: { type: 'string', default: '1' },
    'baseline-messages': { type: 'string', default: '50' },
    auctions: { type: 'string', default: '1000' },
    'per-auction': { type: 'string', default: '10' },
    'bids-b': { type: 'string' },
    'rate-b': { type: 'string', default: '100' },
    bidders: { type: 'string', default: '4' },
    batch: { type: 'string', default: '250' },
    settle: { type: 'string', default: '2' },
  },
});
const SUBSCRIBERS = Number(flags.subscribers);
const GATEWAYS = Number(flags.gateways);
const BIDS_A = Number(flags.bids);
const RATE_A = Number(flags.rate);
const BASELINE_MESSAGES = Math.min(BIDS_A, Number(flags['baseline-messages']));
const AUCTIONS_B = Number(flags.auctions);
const PER_AUCTION = Number(flags['per-auction']);
const BIDS_B = Number(flags['bids-b'] ?? 2 * AUCTIONS_B);
const RATE_B = Number(flags['rate-b']);
const BIDDERS = Number(flags.bidders);
const BATCH = Number(flags.batch);
const SETTLE_MS = Number(flags.settle) * 1000;

// ---------------------------------------------------------------------------------------------

const cleanups = cleanupStack();
const cleanup = cleanups.run;

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    await run();
  } finally {
    await cleanup();
  }
}

async function run(): Promise<void> {
  const b = AUCTIONS_B * PER_AUCTION;
  if (b > SUBSCRIBERS) throw new Error(`--auctions x --per-auction (${b}) must not exceed --subscribers (${SUBSCRIBERS}): scenario B reuses the connections`);
  const scope = randomBytes(5).toString('hex');
  console.log(
    `fan-out benchmark, scope ${scope}: ${fmt(SUBSCRIBERS)} subscribers over ${GATEWAYS} gateways; ` +
      `(A) ${fmt(BIDS_A)} bids at ${RATE_A}/s on one auction; (B) ${fmt(AUCTIONS_B)} auctions x ${PER_AUCTION} subscribers, ${fmt(BIDS_B)} bids at ${RATE_B}/s`,
  );

  // Scratch database and Redis prefix, removed at the end.
  const dbName = `auction_fanout_${scope}`;
  const database = await scratchDatabase(BASE_DB_URL, dbName);
  const redisPrefix = `auction_fanout:${scope}:`;
  const redis = new Redis(REDIS_URL);
  cleanups.push(async () => {
    await redis.quit();
    await database.drop();
    const deleted = await deleteRedisKeys(REDIS_URL, redisPrefix);
    console.log(`cleanup: dropped ${dbName}, deleted ${deleted} Redis keys, stopped the servers and the Kafka mock`);
  });
  const dbUrl = new URL(database.url);

  const topic = `bid-events-${scope}`;
  const kafka = await startKafkaMock({ topics: [{ name: topic, partitions: 8 }, { name: `${topic}.dlq`, partitions: 1 }] });
  cleanups.push(() => kafka.stop());

  const servers: ServerProcess[] = [];
  cleanups.push(() => Promise.all(servers.map((s) => s.stop())));
  const logFile = (name: string) => `/tmp/auction-fanout-${scope}-${name}.log`;
  const appEnv: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: dbUrl.toString(),
    MIGRATE_ON_START: 'true',
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_BID_TOPIC: topic,
    KAFKA_GROUP_PREFIX: `fanout-${scope}-`,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_MS: '300',
    KAFKA_MAX_WAIT_MS: '20',
    // Every bench client comes from 127.0.0.1.
    WS_MAX_CONNECTIONS_PER_IP: '100000',
    SIGN_UP_ATTEMPTS_PER_IP: '1000000',
    SHUTDOWN_GRACE_MS: '5000',
  };
  const startApp = async (name: string, role: 'gateway' | 'workers') => {
    const server = await spawnServer({
      name,
      args: ['src/main.ts', '--role', role],
      env: appEnv,
      logFile: logFile(name),
      isReady: (line) => line.msg === 'auction platform started',
    });
    servers.push(server);
    return server;
  };

  // The workers process migrates the database first; the gateways then start on a migrated schema.
  const t0 = performance.now();
  const workers = await startApp('workers', 'workers');
  const gateways = await Promise.all(Array.from({ length: GATEWAYS }, (_, g) => startApp(`gateway${g}`, 'gateway')));
  const httpUrls = gateways.map((g) => g.ready.url as string);
  const wsUrls = httpUrls.map((u) => u.replace(/^http/, 'ws'));
  console.log(`started workers + ${GATEWAYS} gateways (${httpUrls.join(', ')}) in ${fmt(performance.now() - t0)} ms; logs ${logFile('*')}`);

  // Users and auctions, through the public API.
  const seller = await signUp(httpUrls[0]!, 'seller');
  const bidders = await Promise.all(Array.from({ length: BIDDERS }, (_, i) => signUp(httpUrls[i % GATEWAYS]!, `bidder${i}`)));
  const hotAuction = await createAuction(httpUrls[0]!, seller.token, 'hot');
  const t1 = performance.now();
  const manyAuctions = await mapLimit(Array.from({ length: AUCTIONS_B }, (_, i) => i), 16, (i) =>
    createAuction(httpUrls[i % GATEWAYS]!, seller.token, `auction ${i}`),
  );
  console.log(`created 1 + ${fmt(AUCTIONS_B)} auctions in ${fmt(performance.now() - t1)} ms`);

  const bidding = new Bidding(httpUrls, bidders.map((u) => u.token));

  // ---- Baseline: bare ws servers fed by Redis SPUBLISH --------------------------------------
  const bareChannel = `${redisPrefix}bare`;
  const bare = await Promise.all(
    Array.from({ length: GATEWAYS }, async (_, g) => {
      const server = await spawnServer({
        name: `bare${g}`,
        args: ['bench/fanout/bare-gateway.ts'],
        env: { REDIS_URL, BARE_CHANNEL: bareChannel },
        logFile: logFile(`bare${g}`),
        isReady: (line) => line.ready === true,
      });
      servers.push(server);
      return server;
    }),
  );
  await sleep(SETTLE_MS);
  const bareBefore = await memoryOf(bare);
  const bareSubs = new BareSubscribers(
    bare.map((s) => `ws://127.0.0.1:${s.ready.port}/bare`),
    SUBSCRIBERS,
  );
  const bareConnect = await bareSubs.connect(BATCH);
  await sleep(SETTLE_MS);
  const bareAfter = await memoryOf(bare);
  console.log(`\n(baseline: ${fmt(bareConnect.connected)} bare ws connections in ${fmt(bareConnect.ms)} ms)`);

  let bareSeq = 0;
  const barePayload = (seq: number) =>
    JSON.stringify({
      id: '1',
      type: 'next',
      payload: { data: { auctionEvents: { seq, currentPrice: '12.00', bid: { id: '00000000-0000-4000-8000-000000000000', amount: '12.00', bidderAlias: 'b***1' } } } },
    });
  // Warm-up until one message reaches every socket.
  const bareWarm = await warmUp(bareSubs.receivers, [0], async () => {
    await redis.spublish(bareChannel, barePayload(++bareSeq));
    return [bareSeq];
  });
  const bareStream: Stream = { answeredAt: new Map(), afterSeq: bareWarm[0]! };
  const bareCpu = await cpuMeter(bare);
  const bareFirst = performance.now();
  await atRate(BASELINE_MESSAGES, RATE_A, async () => {
    const seq = ++bareSeq;
    await redis.spublish(bareChannel, barePayload(seq));
    bareStream.answeredAt.set(seq, performance.now());
  });
  await drain(bareSubs.receivers, new Map([[0, bareStream]]));
  const bareDelivery = analyse(bareSubs.receivers, new Map([[0, bareStream]]), bareFirst);
  const bareCpuLine = await bareCpu();
  await bareSubs.close();
  await Promise.all(bare.map((s) => s.stop()));

  // ---- App: memory of idle connections and subscriptions ------------------------------------
  await sleep(SETTLE_MS);
  const appBefore = await memoryOf(gateways);
  const subs = new GraphqlSubscribers(wsUrls, SUBSCRIBERS);
  const connect = await subs.connect(BATCH);
  console.log(`(app: ${fmt(connect.connected)} of ${fmt(SUBSCRIBERS)} graphql-ws connections acknowledged in ${fmt(connect.ms)} ms)`);
  await sleep(SETTLE_MS);
  const appConnected = await memoryOf(gateways);

  // ---- Scenario A: one auction, every subscriber on it --------------------------------------
  const tSub = performance.now();
  subs.subscribe([hotAuction], () => 0);
  const hotWarm = await warmUp(subs.receivers, [0], async () => [await bidding.bidOrThrow(hotAuction, 0)]);
  console.log(`(app: every subscriber received a warm-up event ${fmt(performance.now() - tSub)} ms after subscribing)`);
  await sleep(SETTLE_MS);
  const appSubscribed = await memoryOf(gateways);

  printMemory(SUBSCRIBERS, { before: bareBefore, after: bareAfter }, { before: appBefore, connected: appConnected, subscribed: appSubscribed });

  const cpuA = await cpuMeter([...gateways, workers]);
  const streamA = await bidding.stream(Array.from({ length: BIDS_A }, () => ({ key: 0, id: hotAuction })), RATE_A, [hotWarm[0]!]);
  await drain(subs.receivers, streamA.streams);
  const deliveryA = analyse(subs.receivers, streamA.streams, streamA.firstSentAt);
  printScenario(`(A) one auction, ${fmt(SUBSCRIBERS)} subscribers over ${GATEWAYS} gateways, ${fmt(BIDS_A)} bids at ${RATE_A}/s`, deliveryA, streamA, await cpuA(), subs.problems.lines());
  console.log(`   -- baseline: bare ws servers fed by SPUBLISH, same subscribers, ${fmt(BASELINE_MESSAGES)} messages at ${RATE_A}/s (no GraphQL, graphql-ws, Kafka or Postgres)`);
  console.log(`   delivery ms      : ${spread(bareDelivery.latencies)}   (SPUBLISH answer -> receipt)`);
  console.log(`   delivered        : ${fmt(bareDelivery.delivered)} of ${fmt(bareDelivery.expected)}, ${fmt(bareDelivery.delivered / bareDelivery.seconds)} msgs/s; lost ${fmt(bareDelivery.lost)}, duplicated ${fmt(bareDelivery.duplicates)}, out of order ${fmt(bareDelivery.outOfOrder)}`);
  console.log(`   ${bareCpuLine}`);
  checkAlive(servers);
  subs.problems.clear();

  // ---- Scenario B: many auctions, a few subscribers each -------------------------------------
  subs.unsubscribeAll();
  const countB = AUCTIONS_B * PER_AUCTION;
  // Subscriber i watches auction i mod AUCTIONS_B: each auction's watchers are spread over the gateways.
  subs.subscribe(manyAuctions, (i) => (i < countB ? i % AUCTIONS_B : -1));
  const subscribedB = subs.receivers.filter((r) => r.auction >= 0);
  const tWarmB = performance.now();
  const warmB = await warmUp(subscribedB, manyAuctions.map((_, a) => a), async (keys) =>
    mapLimit(keys, 16, (a) => bidding.bidOrThrow(manyAuctions[a]!, a)),
  );
  console.log(`\n(app: every scenario B subscriber received a warm-up event ${fmt(performance.now() - tWarmB)} ms after subscribing)`);
  await sleep(SETTLE_MS);
  const cpuB = await cpuMeter([...gateways, workers]);
  const streamB = await bidding.stream(
    Array.from({ length: BIDS_B }, (_, i) => ({ key: i % AUCTIONS_B, id: manyAuctions[i % AUCTIONS_B]! })),
    RATE_B,
    warmB,
  );
  await drain(subscribedB, streamB.streams);
  const deliveryB = analyse(subscribedB, streamB.streams, streamB.firstSentAt);
  printScenario(`(B) ${fmt(AUCTIONS_B)} auctions x ${PER_AUCTION} subscribers, ${fmt(BIDS_B)} bids at ${RATE_B}/s spread over them`, deliveryB, streamB, await cpuB(), subs.problems.lines());
  checkAlive(servers);

  await subs.close();
  await Promise.all(gateways.map((s) => s.stop()));
  await workers.stop();
  await printLogSummary(servers);
  console.log('');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
