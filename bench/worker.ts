// Persister benchmark: how fast the bid persister (workers/bid-worker.ts, in a `--role workers`
// process, as deployed) writes the bid log to Postgres when the bids are spread over 10,000
// auctions. BidPlaced messages go straight into the log on the Kafka mock through the gateway's
// own bid-log adapter (shared produce requests, acks -1), valid and gap-free per auction.
//
// Usage: npm run bench:worker -- [--auctions 10000] [--backlog 200000] [--rate 5000] [--seconds 20]
//   or:  node --import @swc-node/register/esm-register bench/worker.ts [flags]
//
// Needs Postgres on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and a C compiler with
// librdkafka-dev for the Kafka mock cluster. Everything it creates is removed at the end, also
// after an error or Ctrl-C.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { openDatabase } from '../src/adapters/postgres/database.js';
import { createKafkaBidLog } from '../src/adapters/kafka/kafka-bid-log.js';
import { createKafkaLagReader } from '../src/adapters/kafka/kafka-lag.js';
import type { BidLog, BidPlacedMessage } from '../src/ports/bid-log.js';
import { startKafkaMock } from '../test/support/kafka-mock.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, cleanupStack, deleteRedisKeys, scratchDatabase } from './support/scratch.js';
import { machineBusySeconds, spawnServer, type ServerProcess } from './fanout/processes.js';
import { printLogSummary } from './fanout/report.js';

const BASE_DB_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;
const TARGET_RATE = 10_000;
const TARGET_DRAIN_MS = 2_000;
const TARGET_GAP_MS = 2_000;

const { values: flags } = parseArgs({
  options: {
    auctions: { type: 'string', default: '10000' },
    backlog: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    'scale-rate': { type: 'string', default: '5000' },
    'scale-seconds': { type: 'string', default: '36' },
    partitions: { type: 'string', default: '32' },
    bidders: { type: 'string', default: '500' },
    dist: { type: 'boolean', default: false },
  },
});
const AUCTIONS = Number(flags.auctions);
const BACKLOG = Number(flags.backlog);
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const SCALE_RATE = Number(flags['scale-rate']);
const SCALE_SECONDS = Number(flags['scale-seconds']);
// The mock keeps at most 5 MiB per partition and drops the oldest beyond it: the backlog must fit.
const PARTITIONS = Number(flags.partitions);
const BIDDERS = Number(flags.bidders);
const ENTRY = flags.dist ? 'dist/src/main.js' : 'src/main.ts';

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

const cleanups = cleanupStack();
const cleanup = cleanups.run;

// ---------------------------------------------------------------------------------------------
// The bids: what the gateway would publish, auction by auction in seq order

interface AuctionState {
  id: string;
  seq: number;
  endsAt: string;
  leader: { bidId: string; bidderId: string; amount: number } | null;
}

function nextBid(auction: AuctionState, bidderIds: string[]): BidPlacedMessage {
  const seq = ++auction.seq;
  const id = randomUUID();
  const now = new Date().toISOString();
  const amount = 1_000 + 100 * seq;
  const bidderId = bidderIds[Math.floor(Math.random() * bidderIds.length)]!;
  const previousLeader = auction.leader;
  auction.leader = { bidId: id, bidderId, amount };
  return {
    v: 1,
    type: 'BidPlaced',
    id,
    auctionId: auction.id,
    seq,
    at: now,
    bid: { id, bidderId, amount, maxAmount: null, idempotencyKey: `bench-${id}`, placedAt: now },
    currentPrice: amount,
    bidCount: seq,
    minimumNextBid: amount + 100,
    endsAt: auction.endsAt,
    // The notifier tells the previous leader, as it would after a real outbid.
    previousLeader,
  };
}

/** Publishes `count` bids on random auctions, at most `window` unacknowledged at once. */
async function publishBacklog(log: BidLog, auctions: AuctionState[], bidderIds: string[], count: number, window: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await log.publish(nextBid(auctions[Math.floor(Math.random() * auctions.length)]!, bidderIds), { timeoutMs: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

/**
 * Publishes at `rate` per second for `ms`, in 10 ms ticks, as concurrent placeBids would: a bid is
 * published as soon as it is made and nobody waits for another's acknowledgement. Resolves with the
 * count once every publish is acknowledged.
 */
async function publishAtRate(log: BidLog, auctions: AuctionState[], bidderIds: string[], rate: number, ms: number, onTick?: (elapsedMs: number) => void): Promise<number> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= ms) break;
    onTick?.(elapsed);
    const due = Math.floor((elapsed / 1000) * rate);
    for (; sent < due; sent++) pending.push(log.publish(nextBid(auctions[Math.floor(Math.random() * auctions.length)]!, bidderIds), { timeoutMs: 30_000 }));
    await sleep(10);
  }
  await Promise.all(pending);
  return sent;
}

// ---------------------------------------------------------------------------------------------
// Progress: count(*) FROM bids, sampled

interface Sample {
  at: number;
  persisted: number;
}

function sampler(pool: pg.Pool, everyMs: number) {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM bids');
      samples.push({ at: performance.now(), persisted: Number(rows[0]!.n) });
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    latest: () => samples.at(-1)?.persisted ?? 0,
    async waitFor(persisted: number, timeoutMs: number): Promise<number | undefined> {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        const hit = samples.find((s) => s.persisted >= persisted);
        if (hit) return hit.at;
        await sleep(everyMs);
      }
      return undefined;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The most persisted within any 1 s of the samples between from and to. */
function bestSecond(samples: Sample[], from: number, to: number): number {
  const within = samples.filter((s) => s.at >= from && s.at <= to);
  let best = 0;
  for (let i = 0, j = 0; j < within.length; j++) {
    while (within[j]!.at - within[i]!.at > 1000) i++;
    const span = within[j]!.at - within[i]!.at;
    if (span >= 900) best = Math.max(best, ((within[j]!.persisted - within[i]!.persisted) * 1000) / span);
  }
  return best;
}

/** The longest time between two increases of the count while bids were waiting to be persisted. */
function longestStall(samples: Sample[], from: number, to: number, produced: (at: number) => number): number {
  let longest = 0;
  let lastProgress = from;
  let last = samples.filter((s) => s.at <= from).at(-1)?.persisted ?? 0;
  for (const s of samples.filter((x) => x.at > from && x.at <= to)) {
    if (s.persisted > last || s.persisted >= produced(s.at)) {
      longest = Math.max(longest, s.at - lastProgress);
      lastProgress = s.at;
      last = s.persisted;
    }
  }
  return longest;
}

// ---------------------------------------------------------------------------------------------

interface Row {
  scenario: string;
  figure: string;
  value: string;
  target?: string;
  met?: boolean;
}

async function main(): Promise<void> {
  const scope = randomBytes(5).toString('hex');
  const logger = pino({ level: 'warn' });
  console.log(`== persister bench (scope ${scope}): ${fmt(AUCTIONS)} auctions, ${PARTITIONS} partitions, ${availableParallelism()} cores, workers from ${ENTRY}`);

  const dbName = `auction_worker_${scope}`;
  const database = await scratchDatabase(BASE_DB_URL, dbName);
  const redisPrefix = `auction_worker:${scope}:`;
  cleanups.push(async () => {
    await database.drop();
    const deleted = await deleteRedisKeys(REDIS_URL, redisPrefix);
    console.log(`   cleanup: dropped ${dbName}, deleted ${fmt(deleted)} Redis keys, stopped the processes and the Kafka mock`);
  });
  const migrator = await openDatabase({ url: database.url, dataDir: '/tmp', migrationsDir: 'prisma/migrations', logger });
  await migrator.migrate();
  await migrator.close();

  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  cleanups.push(() => pool.end());
  const sellerId = randomUUID();
  const bidderIds = Array.from({ length: BIDDERS }, () => randomUUID());
  const users = [sellerId, ...bidderIds];
  await pool.query(
    `INSERT INTO users (id, email, password_hash, display_name, updated_at)
     SELECT id, id || '@bench.example', 'x', 'Bench ' || n, now() FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)`,
    [users],
  );
  const endsAt = new Date(Date.now() + 2 * 24 * 3600_000).toISOString();
  const auctions: AuctionState[] = Array.from({ length: AUCTIONS }, () => ({ id: randomUUID(), seq: 0, endsAt, leader: null }));
  await pool.query(
    `INSERT INTO auctions (id, seller_id, title, description, currency, starting_price, starts_at, ends_at, scheduled_ends_at, current_price, updated_at)
     SELECT id, $2, 'persister bench', 'benchmark', 'USD', 1000, now(), $3, $3, 1000, now() FROM unnest($1::uuid[]) AS a(id)`,
    [auctions.map((a) => a.id), sellerId, endsAt],
  );

  const topic = `bid-events-${scope}`;
  const kafka = await startKafkaMock({ topics: [{ name: topic, partitions: PARTITIONS }, { name: `${topic}.dlq`, partitions: 1 }] });
  cleanups.push(() => kafka.stop());
  const groupPrefix = `worker-${scope}-`;
  const log = await createKafkaBidLog({ brokers: kafka.brokers, clientId: 'bench-worker', topic, groupId: `${groupPrefix}bid-persister`, logger, lingerMs: 2, maxBatchMessages: 500 });
  cleanups.push(() => log.close());
  const lagReader = createKafkaLagReader({ brokers: kafka.brokers, clientId: 'bench-worker', topic, logger });
  cleanups.push(() => lagReader.close());
  const lag = () => lagReader.lag(`${groupPrefix}bid-persister`);

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: database.url,
    MIGRATE_ON_START: 'false',
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_BID_TOPIC: topic,
    KAFKA_GROUP_PREFIX: groupPrefix,
    // The mock rebalances a join about (session timeout - 1 s) later; real Kafka as soon as every member rejoined.
    KAFKA_SESSION_TIMEOUT_MS: '2500',
    KAFKA_HEARTBEAT_MS: '300',
    KAFKA_MAX_WAIT_MS: '20',
    SHUTDOWN_GRACE_MS: '5000',
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('KAFKA_') || k === 'DATABASE_POOL_SIZE')),
  };
  const workers: ServerProcess[] = [];
  cleanups.push(() => Promise.all(workers.map((w) => w.stop())));
  const startWorker = async (name: string) => {
    const worker = await spawnServer({
      name,
      args: ['--disable-warning=TimeoutNegativeWarning', ENTRY, '--role', 'workers'],
      env,
      logFile: `/tmp/auction-worker-${scope}-${name}.log`,
      isReady: (line) => line.msg === 'auction platform started',
      inspect: false,
    });
    workers.push(worker);
    return worker;
  };

  const rows: Row[] = [];
  const results: Record<string, unknown> = { scope, auctions: AUCTIONS, partitions: PARTITIONS, cores: availableParallelism(), entry: ENTRY };
  const count = sampler(pool, 100);
  cleanups.push(() => count.stop());
  const busyBefore = await machineBusySeconds();

  // (a) A backlog, then one workers process drains it.
  console.log(`\n(a) backlog: publishing ${fmt(BACKLOG)} bids before any worker runs`);
  let t = performance.now();
  await publishBacklog(log, auctions, bidderIds, BACKLOG, 4_000);
  const produceSeconds = (performance.now() - t) / 1000;
  console.log(`   published in ${fmt(produceSeconds, 1)} s (${fmt(BACKLOG / produceSeconds)} /s); lag ${fmt(await lag())}`);
  const first = await startWorker('workers1');
  const cpuStart = await first.cpuSeconds();
  const readyAt = performance.now();
  const drainedAt = await count.waitFor(BACKLOG, 600_000);
  const drainMs = (drainedAt ?? performance.now()) - readyAt;
  const firstPersistAt = count.samples.find((s) => s.at >= readyAt && s.persisted > 0)?.at ?? readyAt;
  const drainRate = BACKLOG / (((drainedAt ?? performance.now()) - firstPersistAt) / 1000);
  const drainBest = bestSecond(count.samples, readyAt, drainedAt ?? performance.now());
  const cpuA = (await first.cpuSeconds()) - cpuStart;
  const loadA = loadavg()[0]!;
  console.log(`   drained ${fmt(count.latest())}/${fmt(BACKLOG)} in ${fmt(drainMs / 1000, 1)} s from start-up: ${fmt(drainRate)} bids/s (best 1 s ${fmt(drainBest)}), worker CPU ${fmt(cpuA, 1)} s, load ${fmt(loadA, 2)}`);
  rows.push({ scenario: '(a) backlog drain', figure: 'persisted bids/s, first bid to last', value: fmt(drainRate), target: `>= ${fmt(TARGET_RATE)}`, met: drainRate >= TARGET_RATE });
  rows.push({ scenario: '(a) backlog drain', figure: 'best 1 s', value: fmt(drainBest) });
  rows.push({ scenario: '(a) backlog drain', figure: 'workers CPU s / load avg (1 min)', value: `${fmt(cpuA, 1)} / ${fmt(loadA, 2)}` });
  results.backlog = { bids: BACKLOG, produceSeconds, drainMs, drainRate, drainBest, workerCpuSeconds: cpuA, loadAverage: loadA, drained: drainedAt !== undefined };

  // (b) A steady rate with the worker running, then the time to lag 0 once it stops.
  console.log(`\n(b) steady: ${fmt(RATE)} bids/s for ${SECONDS} s with the worker running`);
  const baseB = count.latest();
  const cpuB0 = await first.cpuSeconds();
  const benchB0 = process.cpuUsage();
  t = performance.now();
  const sentB = await publishAtRate(log, auctions, bidderIds, RATE, SECONDS * 1000);
  const stoppedAt = performance.now();
  const offeredB = sentB / ((stoppedAt - t) / 1000);
  const lagAtStop = await lag();
  const caughtUpAt = await count.waitFor(baseB + sentB, 60_000);
  let lagZeroMs = NaN;
  for (const until = performance.now() + 60_000; performance.now() < until; await sleep(50)) {
    if ((await lag()) === 0) {
      lagZeroMs = performance.now() - stoppedAt;
      break;
    }
  }
  const persistedB = ((count.samples.filter((s) => s.at <= stoppedAt).at(-1)?.persisted ?? baseB) - baseB) / ((stoppedAt - t) / 1000);
  const drainB = (caughtUpAt ?? NaN) - stoppedAt;
  const cpuB = (await first.cpuSeconds()) - cpuB0;
  const benchCpuB = (() => {
    const u = process.cpuUsage(benchB0);
    return (u.user + u.system) / 1e6;
  })();
  const loadB = loadavg()[0]!;
  console.log(
    `   offered ${fmt(offeredB)} /s, persisted ${fmt(persistedB)} /s while producing; at the stop: lag ${fmt(lagAtStop)}, ` +
      `all in Postgres ${fmt(drainB)} ms later, lag 0 after ${fmt(lagZeroMs)} ms; CPU worker ${fmt(cpuB, 1)} s, bench ${fmt(benchCpuB, 1)} s, load ${fmt(loadB, 2)}`,
  );
  rows.push({ scenario: `(b) steady ${fmt(RATE)}/s`, figure: 'persisted bids/s while producing', value: `${fmt(persistedB)} of ${fmt(offeredB)} offered` });
  rows.push({ scenario: `(b) steady ${fmt(RATE)}/s`, figure: 'stop to all bids in Postgres, ms', value: fmt(drainB), target: `< ${fmt(TARGET_DRAIN_MS)}`, met: drainB < TARGET_DRAIN_MS });
  rows.push({ scenario: `(b) steady ${fmt(RATE)}/s`, figure: 'stop to committed lag 0, ms', value: fmt(lagZeroMs), target: `< ${fmt(TARGET_DRAIN_MS)}`, met: lagZeroMs < TARGET_DRAIN_MS });
  rows.push({ scenario: `(b) steady ${fmt(RATE)}/s`, figure: 'CPU s: worker / bench; load avg', value: `${fmt(cpuB, 1)} / ${fmt(benchCpuB, 1)}; ${fmt(loadB, 2)}` });
  results.steady = { rate: RATE, seconds: SECONDS, offered: offeredB, persistedWhileProducing: persistedB, lagAtStop, drainMs: drainB, lagZeroMs, workerCpuSeconds: cpuB, benchCpuSeconds: benchCpuB, loadAverage: loadB };

  // (c) Scale out and in under a steady rate: a second process joins at 1/3, the first leaves at 2/3.
  console.log(`\n(c) scale-out: ${fmt(SCALE_RATE)} bids/s for ${SCALE_SECONDS} s; a second workers process starts at ${SCALE_SECONDS / 3} s, the first stops at ${(2 * SCALE_SECONDS) / 3} s`);
  const baseC = count.latest();
  const producedBefore = baseC;
  let sentC = 0;
  const startC = performance.now();
  const events: Record<string, number> = {};
  const third = (SCALE_SECONDS * 1000) / 3;
  let second: Promise<ServerProcess> | undefined;
  let firstStopped: Promise<void> | undefined;
  const cpuFirst0 = await first.cpuSeconds();
  const produced = publishAtRate(log, auctions, bidderIds, SCALE_RATE, SCALE_SECONDS * 1000, (elapsed) => {
    sentC = Math.floor((elapsed / 1000) * SCALE_RATE);
    if (!second && elapsed >= third) {
      events.secondSpawned = performance.now();
      second = startWorker('workers2').then((w) => {
        events.secondReady = performance.now();
        return w;
      });
    }
    if (!firstStopped && elapsed >= 2 * third && events.secondReady !== undefined) {
      events.firstStopping = performance.now();
      firstStopped = first.stop().then(() => void (events.firstStopped = performance.now()));
    }
  });
  sentC = await produced;
  const endC = performance.now();
  const secondWorker = await second!;
  await firstStopped;
  const caughtUpC = await count.waitFor(producedBefore + sentC, 60_000);
  const producedAt = (at: number) => producedBefore + Math.floor((Math.min(at, endC) - startC) / 1000) * SCALE_RATE;
  const stall = longestStall(count.samples, startC, caughtUpC ?? endC, producedAt);
  const rateBetween = (from: number, to: number) => {
    const a = count.samples.filter((s) => s.at <= from).at(-1)?.persisted ?? 0;
    const b = count.samples.filter((s) => s.at <= to).at(-1)?.persisted ?? 0;
    return (b - a) / ((to - from) / 1000);
  };
  const joinedAt = events.secondReady ?? startC + third;
  const leftAt = events.firstStopping ?? startC + 2 * third;
  const phases = { oneWorker: rateBetween(startC, events.secondSpawned ?? joinedAt), twoWorkers: rateBetween(joinedAt, leftAt), afterLeave: rateBetween(leftAt, endC) };
  const cpuFirst = (await first.cpuSeconds().catch(() => NaN)) - cpuFirst0;
  const cpuSecond = await secondWorker.cpuSeconds();
  const loadC = loadavg()[0]!;
  console.log(
    `   persisted /s: one process ${fmt(phases.oneWorker)}, two ${fmt(phases.twoWorkers)}, after one left ${fmt(phases.afterLeave)} (offered ${fmt(SCALE_RATE)}); ` +
      `longest stall ${fmt(stall)} ms; caught up ${fmt((caughtUpC ?? NaN) - endC)} ms after the stop; second process ready ${fmt((events.secondReady ?? NaN) - (events.secondSpawned ?? NaN))} ms after spawning`,
  );
  rows.push({ scenario: '(c) scale out/in', figure: 'longest stall in persistence, ms', value: fmt(stall), target: `<= ${fmt(TARGET_GAP_MS)}`, met: stall <= TARGET_GAP_MS });
  rows.push({ scenario: '(c) scale out/in', figure: 'persisted /s: 1 process | 2 | after leave', value: `${fmt(phases.oneWorker)} | ${fmt(phases.twoWorkers)} | ${fmt(phases.afterLeave)} (offered ${fmt(SCALE_RATE)})` });
  rows.push({ scenario: '(c) scale out/in', figure: 'CPU s: first / second; load avg', value: `${fmt(cpuFirst, 1)} / ${fmt(cpuSecond, 1)}; ${fmt(loadC, 2)}` });
  results.scale = { rate: SCALE_RATE, seconds: SCALE_SECONDS, sent: sentC, stallMs: stall, phases, events: Object.fromEntries(Object.entries(events).map(([k, v]) => [k, v - startC])), cpuFirst, cpuSecond, loadAverage: loadC };

  const exactlyOnce = await pool.query<{ bids: string; events: string; lagging: string }>(
    `SELECT (SELECT count(*) FROM bids) AS bids, (SELECT count(*) FROM auction_events) AS events,
            (SELECT count(*) FROM auctions WHERE last_seq <> bid_count) AS lagging`,
  );
  const totalSent = auctions.reduce((n, a) => n + a.seq, 0);
  const check = exactlyOnce.rows[0]!;
  const correct = Number(check.bids) === totalSent && Number(check.events) === totalSent && Number(check.lagging) === 0;
  rows.push({ scenario: 'all', figure: 'bids / events stored of published; auctions at their last seq', value: `${fmt(Number(check.bids))} / ${fmt(Number(check.events))} of ${fmt(totalSent)}; ${fmt(AUCTIONS - Number(check.lagging))} of ${fmt(AUCTIONS)}`, target: 'all, exactly once', met: correct });
  const busy = (await machineBusySeconds()) - busyBefore;
  results.correct = correct;
  results.machineBusySeconds = busy;

  console.log(`\n== results (2 cores shared by the bench, the workers, Postgres, Redis and the mock; machine busy ${fmt(busy, 0)} CPU s in all)`);
  const widths = [20, 52, 44, 10];
  console.log(['scenario', 'figure', 'value', 'target'].map((h, i) => h.padEnd(widths[i]!)).join(' ') + ' ');
  for (const r of rows) {
    console.log(
      [r.scenario.padEnd(widths[0]!), r.figure.padEnd(widths[1]!), r.value.padEnd(widths[2]!), (r.target ?? '').padEnd(widths[3]!), r.met === undefined ? '' : mark(r.met)].join(' '),
    );
  }
  await printLogSummary(workers);
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/worker-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  await writeFile(file, `${JSON.stringify({ ...results, rows }, null, 2)}\n`);
  console.log(`\n   figures written to ${file}`);
}

process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
try {
  if (flags.dist && !existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build first`);
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
  // Prisma's migration engine keeps a timer alive for a while after it is done.
  process.exit();
}
