// Closing benchmark: 10,000 auctions ending within one minute, each with bids, closed by the real
// closing job (services/auctions/close-auctions.ts) and recorded by the real bid persister
// (workers/bid-worker.ts) in workers processes, on real Postgres, Redis and the Kafka mock. It runs
// once with one workers process and once with two, and reports for each how soon after its end
// every auction's AuctionEnded was recorded, and whether each auction ended exactly once with the
// right winner.
//
// Usage: npm run bench:close -- [--auctions 10000] [--window 60] [--workers 1,2] [--lead auto]
//   or:  node --import @swc-node/register/esm-register bench/close.ts [flags]
//
// Needs Postgres on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and a C compiler with
// librdkafka-dev for the Kafka mock cluster. Everything it creates is removed after each run, also
// after an error or Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { startApp } from '../src/app.js';
import { startKafkaMock } from '../test/support/kafka-mock.js';
import { signUp } from './support/api.js';
import { checkEnds, countRows, insertAuctions, loadPriceBook, placeBids, planAuctions, readEnds, readWorkerLogs, type Correctness, type RecordedEnd } from './support/closing.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, deleteRedisKeys, scratchDatabase } from './support/scratch.js';
import { machineBusySeconds, spawnServer, type ServerProcess } from './fanout/processes.js';
import { printLogSummary } from './fanout/report.js';

const BASE_DB_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;
const TARGET_P99_MS = 2_000;

const { values: flags } = parseArgs({
  options: {
    auctions: { type: 'string', default: '10000' },
    window: { type: 'string', default: '60' },
    lead: { type: 'string', default: 'auto' },
    workers: { type: 'string', default: '1,2' },
    bidders: { type: 'string', default: '24' },
    concurrency: { type: 'string', default: '64' },
  },
});
const AUCTIONS = Number(flags.auctions);
const WINDOW_MS = Number(flags.window) * 1000;
const WORKER_COUNTS = flags.workers.split(',').map(Number);
const BIDDERS = Number(flags.bidders);
const CONCURRENCY = Number(flags.concurrency);
/** How long after the last end the bench waits for stragglers before it reports them missing. */
const STRAGGLER_MS = 120_000;
/** Auctions (ending in an hour) whose bids warm the persister up, then measure its rate, before the real ones are planned. */
const WARM_UP_AUCTIONS = 100;
const CALIBRATION_AUCTIONS = 500;

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

// ---------------------------------------------------------------------------------------------
// Cleanup, once per run, whether it ends, fails or is interrupted

let cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => console.error('cleanup failed:', e));
    cleanups = [];
  })());

/** One line redrawn in place on a terminal; elsewhere a plain line at most every 10 s. */
function progressLine() {
  let last = 0;
  return {
    update(text: string) {
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K   ${text}`);
      else if (performance.now() - last >= 10_000) {
        last = performance.now();
        console.log(`   ${text}`);
      }
    },
    done(text: string) {
      if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
      console.log(`   ${text}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Spread {
  p50: number;
  p99: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
  return { p50: at(50), p99: at(99), max: sorted.length === 0 ? NaN : sorted.at(-1)! };
}

/** The most timestamps within any one second. */
function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

interface RunResult {
  workers: number;
  scope: string;
  auctions: number;
  closed: number;
  /** auctions closed / (last recorded end - first end). */
  closesPerSecond: number;
  offeredPerSecond: number;
  peakClosesInOneSecond: number;
  /** auctions.updated_at - ends_at, ms: from the end to AuctionEnded recorded in Postgres. */
  delayMs: Spread;
  /** The delay of the auctions ending in each 10 s of the window, in order: where in the window the tail is. */
  delayByTenSeconds: Spread[];
  /** From the end to the bid log acknowledging AuctionEnded (the closing job's part), ms. */
  endToPublishedMs: Spread;
  /** From that acknowledgement to the row recorded (the persister's part), ms. */
  publishedToRecordedMs: Spread;
  withWinner: number;
  correctness: Correctness;
  closedByProcess: number[];
  closedAgain: number;
  /** The persister's batches from the first end on: how many in each process, and their sizes. */
  persisterBatches: { byProcess: number[]; meanSize: number; maxSize: number };
  /** Anything that makes the run's figures unclean: said in the table. */
  trouble: { setupOverran: boolean; workerRestarts: number; consumerCrashes: number[]; mockTruncations: number };
  setup: { persistRate: number; bids: number; bidRetries: number; bidErrors: number; firstBidError?: string; bidsPerSecond: number; seconds: number; marginSeconds: number };
  loadAverage: number[];
  cpu: { windowSeconds: number; workerSeconds: number[]; workerTotalSeconds: number[]; benchSeconds: number; machineBusyPercent: number };
}

// ---------------------------------------------------------------------------------------------

/** Whether a process's log shows a Kafka consumer that crashed (kafkajs does not restart it on a non-retriable error). */
async function consumerCrashed(worker: ServerProcess): Promise<boolean> {
  return (await readFile(worker.logFile, 'utf8').catch(() => '')).includes('"msg":"Crash: ');
}

/**
 * Starts the workers processes so that each one's consumers really join their groups.
 *
 * The librdkafka mock completes a group's SyncGroup as soon as the leader's request brings every
 * member's assignment, and then answers a follower's SyncGroup that comes later with
 * INVALID_REQUEST, which kafkajs treats as fatal: that consumer stops for good while the process
 * runs on (its restartOnFailure is only asked about retriable errors). A process that has just
 * started is always that late follower (~10 ms behind a warm leader), so a second process's bid
 * persister would never consume. So while a newcomer starts, the running processes are paused
 * (SIGSTOP): their memberships lapse after KAFKA_SESSION_TIMEOUT_MS, the newcomer forms the groups
 * and leads them, and the resumed processes rejoin as warm followers. A process whose consumer
 * crashed all the same is replaced (up to 3 times in all). Returns how many were replaced.
 */
async function startWorkers(workers: ServerProcess[], count: number, logFile: (name: string) => string, env: Record<string, string>): Promise<number> {
  const spawnWorker = (i: number, attempt: number) =>
    spawnServer({
      name: `workers${i}`,
      args: ['src/main.ts', '--role', 'workers'],
      env,
      logFile: logFile(attempt === 0 ? `workers${i}` : `workers${i}-restart${attempt}`),
      isReady: (line) => line.msg === 'auction platform started',
      inspect: false,
    });
  const startBeside = async (i: number, attempt: number) => {
    const running = workers.filter((w, j) => j !== i && w.alive());
    for (const w of running) process.kill(w.pid, 'SIGSTOP');
    try {
      return await spawnWorker(i, attempt);
    } finally {
      for (const w of running) process.kill(w.pid, 'SIGCONT');
    }
  };
  for (let i = 0; i < count; i++) workers.push(await startBeside(i, 0));
  let restarts = 0;
  for (;;) {
    // The resumed members rejoin, and the mock rebalances a few seconds after a join.
    await sleep(count > 1 ? 10_000 : 1_500);
    const crashed = (await Promise.all(workers.map(consumerCrashed))).flatMap((c, i) => (c ? [i] : []));
    if (crashed.length === 0) return restarts;
    if (restarts >= 3) {
      console.log(`   !! ${crashed.map((i) => workers[i]!.name).join(', ')}: a Kafka consumer crashed again; measuring anyway`);
      return restarts;
    }
    for (const i of crashed) {
      await workers[i]!.stop();
      workers[i] = await startBeside(i, ++restarts);
    }
  }
}

async function run(workerCount: number): Promise<RunResult> {
  const scope = randomBytes(5).toString('hex');
  const setupStarted = performance.now();
  console.log(`\n== ${workerCount} workers process${workerCount === 1 ? '' : 'es'} (scope ${scope})`);

  const dbName = `auction_close_${scope}`;
  const database = await scratchDatabase(BASE_DB_URL, dbName);
  const redisPrefix = `auction_close:${scope}:`;
  cleanups.push(async () => {
    await database.drop();
    const deleted = await deleteRedisKeys(REDIS_URL, redisPrefix);
    console.log(`   cleanup: dropped ${dbName}, deleted ${fmt(deleted)} Redis keys, stopped the processes and the Kafka mock`);
  });
  const topic = `bid-events-${scope}`;
  // 8 partitions, as docker-compose.yml creates the topic.
  const kafka = await startKafkaMock({ topics: [{ name: topic, partitions: 8 }, { name: `${topic}.dlq`, partitions: 1 }] });
  cleanups.push(() => kafka.stop());

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_BID_TOPIC: topic,
    KAFKA_GROUP_PREFIX: `close-${scope}-`,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_MS: '300',
    KAFKA_MAX_WAIT_MS: '20',
    SHUTDOWN_GRACE_MS: '5000',
  };

  // The bidding side, in this process: a gateway (it migrates the scratch database) whose deps
  // take the bids through acceptBid. Its warnings go to a file.
  const gatewayLog = `/tmp/auction-close-${scope}-gateway.log`;
  const gateway = await startApp(
    loadConfig({ ...env, MIGRATE_ON_START: 'true', DATABASE_POOL_SIZE: '20', SIGN_UP_ATTEMPTS_PER_IP: '1000000', PASSWORD_HASH_MAX_WAITING: '100000' }, false),
    pino({ level: 'warn' }, pino.destination({ dest: gatewayLog, sync: false })),
    { roles: new Set(['gateway']) },
  );
  cleanups.push(() => gateway.stop());

  // The workers processes: src/main.ts --role workers, i.e. startApp with roles ['workers'], as
  // deployed, at debug level so the closing job's "auction ended" lines time each publish.
  const workers: ServerProcess[] = [];
  cleanups.push(() => Promise.all(workers.map((w) => w.stop())));
  const restarts = await startWorkers(workers, workerCount, (name) => `/tmp/auction-close-${scope}-${name}.log`, { ...env, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', MIGRATE_ON_START: 'false' });
  const logFiles = workers.map((w) => w.logFile);
  console.log(
    `   started the gateway in-process and ${workerCount} workers process${workerCount === 1 ? '' : 'es'}` +
      `${restarts > 0 ? ` (${restarts} replaced after a Kafka consumer of it crashed on joining)` : ''}; logs /tmp/auction-close-${scope}-*.log`,
  );

  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  cleanups.push(() => pool.end());
  const persisted = () => countRows(pool, 'SELECT count(*) AS n FROM bids');

  const seller = await signUp(gateway.url!, 'seller');
  const bidders = await Promise.all(Array.from({ length: BIDDERS }, (_, i) => signUp(gateway.url!, `bidder${i}`)));
  const bidderIds = bidders.map((b) => b.id);

  // Calibration: auctions ending in an hour (never closed here). The bids of the first few warm
  // the persister up; those of the rest show how fast it records bids on this machine right now.
  // The first end waits for that.
  const calibrationStart = Date.now();
  let calibrationBids = 0;
  const calibrate = async (n: number) => {
    const auctions = planAuctions(n, calibrationStart + 3600_000, 0, bidderIds);
    await insertAuctions(pool, seller.id, auctions, new Date());
    await loadPriceBook(gateway, seller.id, auctions, new Date());
    const started = performance.now();
    calibrationBids += (await placeBids(gateway, auctions, CONCURRENCY, () => undefined)).accepted;
    while ((await persisted()) < calibrationBids && performance.now() - started < 120_000) await sleep(20);
    return (auctions.reduce((sum, a) => sum + a.accepted, 0) * 1000) / (performance.now() - started);
  };
  await calibrate(WARM_UP_AUCTIONS);
  const persistRate = await calibrate(CALIBRATION_AUCTIONS);
  const calibrationLogs = await readWorkerLogs(logFiles, calibrationStart, Date.now());
  console.log(
    `   calibration: ${fmt(calibrationBids)} bids; the persister recorded ${fmt(persistRate)} bids/s after warming up; batches by process ${calibrationLogs.batchesBy.map((n) => fmt(n)).join(' + ')}, ` +
      `mean size ${fmt(calibrationLogs.batches.reduce((a, b) => a + b, 0) / calibrationLogs.batches.length, 2)}`,
  );
  for (const [i, n] of calibrationLogs.batchesBy.entries()) {
    if (n === 0) console.log(`   !! ${workers[i]!.name} persisted nothing: its bid persister is not consuming (crashes: ${calibrationLogs.crashes[i]}); see ${workers[i]!.logFile}`);
  }

  // The measured auctions: ends spread over the window, the first once the bids can be persisted.
  const planned = planAuctions(AUCTIONS, 0, WINDOW_MS, bidderIds);
  const plannedBids = planned.reduce((n, a) => n + a.bidders.length, 0);
  const lead = flags.lead === 'auto' ? (10 + (1.2 * plannedBids) / persistRate) * 1000 : Number(flags.lead) * 1000;
  const firstEnd = Date.now() + lead;
  for (const a of planned) a.endsAt = new Date(a.endsAt.getTime() + firstEnd);
  console.log(`   ${fmt(AUCTIONS)} auctions end over ${fmt(WINDOW_MS / 1000)} s from ${fmt(lead / 1000)} s from now; ${fmt(plannedBids)} bids to place and persist first`);
  const startsAt = new Date();
  let t = performance.now();
  await insertAuctions(pool, seller.id, planned, startsAt);
  const insertMs = performance.now() - t;
  t = performance.now();
  await loadPriceBook(gateway, seller.id, planned, startsAt);
  console.log(`   inserted them in ${fmt(insertMs)} ms (one INSERT ... FROM unnest), loaded the price book in ${fmt(performance.now() - t)} ms`);

  const bidProgress = progressLine();
  t = performance.now();
  const tally = await placeBids(gateway, planned, CONCURRENCY, (s) => {
    if ((s.accepted + s.errors) % 250 === 0) bidProgress.update(`bids: ${fmt(s.accepted)} / ${fmt(plannedBids)} accepted, ${s.errors} errors, first end in ${fmt((firstEnd - Date.now()) / 1000)} s`);
  });
  const bidSeconds = (performance.now() - t) / 1000;
  bidProgress.done(`bids: ${fmt(tally.accepted)} / ${fmt(plannedBids)} accepted through acceptBid in ${fmt(bidSeconds, 1)} s (${fmt(tally.accepted / bidSeconds)}/s), ${tally.retries} UNAVAILABLE retried, ${tally.errors} errors`);
  if (tally.firstError) console.log(`   first bid error: ${tally.firstError}`);

  const expectedBids = calibrationBids + tally.accepted;
  const persistProgress = progressLine();
  t = performance.now();
  let stored = 0;
  while ((stored = await persisted()) < expectedBids && Date.now() < firstEnd) {
    persistProgress.update(`persister: ${fmt(stored - calibrationBids)} / ${fmt(tally.accepted)} bids in Postgres, first end in ${fmt((firstEnd - Date.now()) / 1000)} s`);
    await sleep(100);
  }
  persistProgress.done(`persister: ${fmt(stored - calibrationBids)} / ${fmt(tally.accepted)} bids in Postgres, ${fmt((performance.now() - t) / 1000, 1)} s after the last bid was accepted`);
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  const marginSeconds = (firstEnd - Date.now()) / 1000;
  const setupOverran = stored < expectedBids;
  if (setupOverran) console.log(`   !! the persister had not caught up by the first end: the ends compete with bids, so the figures below are not clean`);
  else console.log(`   setup took ${fmt(setupSeconds)} s and finished ${fmt(marginSeconds, 1)} s before the first end`);

  const countdown = progressLine();
  while (Date.now() < firstEnd) {
    countdown.update(`first end in ${fmt((firstEnd - Date.now()) / 1000, 1)} s`);
    await sleep(Math.min(250, Math.max(1, firstEnd - Date.now())));
  }

  // The close window: from the first end until every end is recorded.
  const read = async () => ({
    at: performance.now(),
    bench: process.cpuUsage(),
    workers: await Promise.all(workers.map((w) => w.cpuSeconds())),
    machine: await machineBusySeconds(),
  });
  const before = await read();
  const lastEnd = planned.at(-1)!.endsAt.getTime();
  const closeProgress = progressLine();
  let recorded = 0;
  while ((recorded = await countRows(pool, `SELECT count(*) AS n FROM auctions WHERE state = 'ENDED'`)) < AUCTIONS && Date.now() < lastEnd + STRAGGLER_MS) {
    const dead = workers.filter((w) => !w.alive());
    if (dead.length > 0) throw new Error(`${dead.map((w) => w.name).join(', ')} stopped; see ${dead.map((w) => w.logFile).join(', ')}`);
    const due = Math.min(AUCTIONS, Math.max(0, Math.floor(((Date.now() - firstEnd) * AUCTIONS) / WINDOW_MS) + 1));
    closeProgress.update(`ends: ${fmt(recorded)} recorded in Postgres / ${fmt(due)} due / ${fmt(AUCTIONS)}   (${fmt((Date.now() - firstEnd) / 1000)} s since the first end)`);
    await sleep(250);
  }
  const after = await read();
  const loadAverage = loadavg();
  closeProgress.done(
    recorded < AUCTIONS
      ? `ends: only ${fmt(recorded)} / ${fmt(AUCTIONS)} recorded ${fmt(STRAGGLER_MS / 1000)} s after the last end; the rest count as missing`
      : `ends: ${fmt(recorded)} / ${fmt(AUCTIONS)} recorded, the last ${fmt((Date.now() - lastEnd) / 1000, 1)} s after the last end`,
  );

  // What Postgres holds, and the workers' logs for the split between closing job and persister.
  const ends = await readEnds(pool, planned.map((a) => a.id));
  const endedRows = ends.filter((e) => e.state === 'ENDED');
  const correctness = checkEnds(planned, ends);
  const logs = await readWorkerLogs(logFiles, firstEnd, Date.now());
  const recordedTimes = endedRows.map((e) => e.updatedAt.getTime());
  const lastRecorded = Math.max(...recordedTimes);
  const windowSeconds = (after.at - before.at) / 1000;
  const benchUsage = process.cpuUsage(before.bench);
  const sinceEnd = (pick: (e: RecordedEnd) => number | undefined) => spread(endedRows.flatMap((e) => (pick(e) === undefined ? [] : [pick(e)!])));
  const publishedAt = (e: RecordedEnd) => logs.published.get(e.id);
  const result: RunResult = {
    workers: workerCount,
    scope,
    auctions: AUCTIONS,
    closed: endedRows.length,
    closesPerSecond: endedRows.length / ((lastRecorded - firstEnd) / 1000),
    offeredPerSecond: AUCTIONS / (WINDOW_MS / 1000),
    peakClosesInOneSecond: peakPerSecond(recordedTimes),
    delayMs: sinceEnd((e) => e.updatedAt.getTime() - e.endsAt.getTime()),
    delayByTenSeconds: Array.from({ length: Math.ceil(WINDOW_MS / 10_000) }, (_, k) =>
      sinceEnd((e) => (Math.floor((e.endsAt.getTime() - firstEnd) / 10_000) === k ? e.updatedAt.getTime() - e.endsAt.getTime() : undefined)),
    ),
    endToPublishedMs: sinceEnd((e) => (publishedAt(e) === undefined ? undefined : publishedAt(e)! - e.endsAt.getTime())),
    publishedToRecordedMs: sinceEnd((e) => (publishedAt(e) === undefined ? undefined : e.updatedAt.getTime() - publishedAt(e)!)),
    withWinner: correctness.withWinner,
    correctness,
    closedByProcess: logs.closedBy,
    closedAgain: logs.repeated,
    persisterBatches: {
      byProcess: logs.batchesBy,
      meanSize: logs.batches.reduce((a, b) => a + b, 0) / logs.batches.length,
      maxSize: Math.max(0, ...logs.batches),
    },
    trouble: { setupOverran, workerRestarts: restarts, consumerCrashes: logs.crashes, mockTruncations: logs.offsetResets },
    setup: {
      persistRate,
      bids: tally.accepted,
      bidRetries: tally.retries,
      bidErrors: tally.errors,
      firstBidError: tally.firstError,
      bidsPerSecond: tally.accepted / bidSeconds,
      seconds: setupSeconds,
      marginSeconds,
    },
    loadAverage,
    cpu: {
      windowSeconds,
      workerSeconds: after.workers.map((s, i) => s - before.workers[i]!),
      workerTotalSeconds: after.workers,
      benchSeconds: (benchUsage.user + benchUsage.system) / 1e6,
      machineBusyPercent: (100 * (after.machine - before.machine)) / windowSeconds,
    },
  };
  await printLogSummary(workers);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

function clean(r: RunResult): string {
  const problems = [
    ...(r.trouble.setupOverran ? ['setup overran'] : []),
    ...r.trouble.consumerCrashes.flatMap((n, i) => (n > 0 ? [`workers${i} consumer crashed`] : [])),
    ...(r.trouble.mockTruncations > 0 ? [`mock dropped unread messages (${fmt(r.trouble.mockTruncations)} resets)`] : []),
  ];
  return problems.length === 0 ? 'yes' : `NO: ${problems.join('; ')}`;
}

function printTable(results: RunResult[]): void {
  const cores = availableParallelism();
  const ms = (s: Spread) => `${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.max)}`;
  const none = (n: number) => (n === 0 ? 'ok' : `${fmt(n)} WRONG`);
  const rows: Array<[string, (r: RunResult) => string]> = [
    ['workers processes', (r) => String(r.workers)],
    ['auctions', (r) => fmt(r.auctions)],
    ['ended (recorded in Postgres)', (r) => fmt(r.closed)],
    ['closes/s (closed / (last recorded - first end))', (r) => `${fmt(r.closesPerSecond, 1)} (offered ${fmt(r.offeredPerSecond, 1)})`],
    ['most closes recorded in 1 s', (r) => fmt(r.peakClosesInOneSecond)],
    ['end -> recorded ms p50 / p99 / max', (r) => ms(r.delayMs)],
    [`  target p99 <= ${fmt(TARGET_P99_MS)} ms`, (r) => (r.delayMs.p99 <= TARGET_P99_MS && r.closed === r.auctions ? 'ok' : 'MISSED')],
    ['  end -> AuctionEnded in the log (closing job)', (r) => ms(r.endToPublishedMs)],
    ['  log -> recorded (persister)', (r) => ms(r.publishedToRecordedMs)],
    ['ended with a winner (expected)', (r) => `${fmt(r.withWinner)} (${fmt(r.correctness.expectedWinners)})`],
    ['exactly one AuctionEnded: missing', (r) => none(r.correctness.missingEndEvent)],
    ['exactly one AuctionEnded: duplicated', (r) => none(r.correctness.duplicateEndEvent)],
    ['winner = highest bidder (row and event)', (r) => none(r.correctness.wrongWinner)],
    ['stored top bid = top accepted bid', (r) => none(r.correctness.wrongTopBid)],
    ['stored bids = accepted bids, per auction', (r) => none(r.correctness.bidCountMismatch)],
    ['AuctionEnded published, by process', (r) => r.closedByProcess.map((n) => fmt(n)).join(' + ')],
    ['  of which republished (lease lapsed)', (r) => fmt(r.closedAgain)],
    ['persister batches by process (mean / max size)', (r) => `${r.persisterBatches.byProcess.map((n) => fmt(n)).join(' + ')} (${fmt(r.persisterBatches.meanSize, 2)} / ${fmt(r.persisterBatches.maxSize)})`],
    ['clean run (setup done, no consumer crash, no log loss)', (r) => clean(r)],
    ['  workers replaced after a consumer crash at start', (r) => fmt(r.trouble.workerRestarts)],
    ['load average 1 / 5 / 15 min (at the end)', (r) => r.loadAverage.map((n) => fmt(n, 2)).join(' / ')],
    ['workers CPU s in window (each)', (r) => r.cpu.workerSeconds.map((s) => fmt(s, 1)).join(' + ')],
    ['workers CPU s since start (each)', (r) => r.cpu.workerTotalSeconds.map((s) => fmt(s, 1)).join(' + ')],
    ['window s; bench process CPU s', (r) => `${fmt(r.cpu.windowSeconds, 1)}; ${fmt(r.cpu.benchSeconds, 1)}`],
    [`machine busy in window (${cores} cores = ${cores * 100}%)`, (r) => `${fmt(r.cpu.machineBusyPercent)}%`],
    ['setup: persister rate measured, bids/s', (r) => fmt(r.setup.persistRate)],
    ['setup: bids (retries, errors), bids/s', (r) => `${fmt(r.setup.bids)} (${r.setup.bidRetries}, ${r.setup.bidErrors}), ${fmt(r.setup.bidsPerSecond)}/s`],
    ['setup: s, margin before first end', (r) => `${fmt(r.setup.seconds, 1)} s, ${fmt(r.setup.marginSeconds, 1)} s`],
  ];
  const cells = rows.map(([label, cell]) => [label, ...results.map(cell)]);
  const widths = results.map((_, i) => Math.max(...cells.map((row) => row[i + 1]!.length)));
  const labelWidth = Math.max(...cells.map((row) => row[0]!.length));
  console.log('\n== closing benchmark');
  for (const row of cells) console.log(`   ${row[0]!.padEnd(labelWidth)}  ${row.slice(1).map((c, i) => c.padStart(widths[i]!)).join('   ')}`);
  console.log('\n   end -> recorded p99 / max ms, by 10 s of the window (ends in the first 10 s, the next 10 s, ...)');
  for (const r of results) console.log(`   ${r.workers} workers: ${r.delayByTenSeconds.map((d) => `${fmt(d.p99)} / ${fmt(d.max)}`).join(',  ')}`);
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const startedAt = new Date();
  console.log(
    `closing benchmark: ${fmt(AUCTIONS)} auctions ending over ${fmt(WINDOW_MS / 1000)} s, 2-3 bids each, first end ${flags.lead === 'auto' ? 'once the bids can be persisted' : `${flags.lead} s after planning`}; ` +
      `workers processes ${WORKER_COUNTS.join(', then ')}; ${availableParallelism()} cores`,
  );
  const results: RunResult[] = [];
  for (const count of WORKER_COUNTS) {
    try {
      results.push(await run(count));
    } finally {
      await cleanup();
      cleaning = undefined;
    }
  }
  printTable(results);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/close-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify({ startedAt, cores: availableParallelism(), node: process.version, flags, targetP99Ms: TARGET_P99_MS, runs: results }, null, 2)}\n`);
  console.log(`\n   results: ${file.pathname}`);
}

main().then(
  // Explicit exit: the Prisma WASM engine keeps a timer alive after the client is closed.
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await cleanup();
    process.exit(1);
  },
);
