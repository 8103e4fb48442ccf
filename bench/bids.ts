// Bid benchmark, measured from outside the server: the built server (`node dist/src/main.js`, as
// `npm start` runs it, NODE_ENV=production) in a child process on real Postgres, Redis and the
// librdkafka mock, driven over HTTP by load generators in child processes of their own
// (bench/load/client.ts). Every scenario runs in the same run and lands in one table, with the
// CPU each process used, so the ratios compare figures from one machine at one time.
//
// Usage: npm run bench:bids -- [--clients 64] [--seconds 10] [--auctions-1m 1000000] [--rate 1000] [--only hot,row-lock]
//   or:  node --import @swc-node/register/esm-register bench/bids.ts [flags]
//
// Needs Postgres on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and a C compiler with
// librdkafka-dev for the Kafka mock cluster. Everything it creates is removed at the end, also
// after an error or Ctrl-C. Results go to bench/results/bids-<time>.json.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createRedisPriceBook } from '../src/adapters/redis/redis-price-book.js';
import { startKafkaMock } from '../test/support/kafka-mock.js';
import { createAuction, mapLimit, signUp } from './support/api.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, cleanupStack, deleteRedisKeys, scratchDatabase } from './support/scratch.js';
import { seedAuctions } from './support/seed-auctions.js';
import { REPO_ROOT, cpuSecondsOf, machineBusySeconds, spawnServer, type ServerProcess } from './fanout/processes.js';
import { runEngines, startLoadProcess, type LoadProcess } from './load/children.js';
import { concatenated, spread, uuidToBytes, type AutomaticMix, type EngineRun, type LoadJob, type LoadResult, type LoadUser, type Operation } from './load/protocol.js';
import { printReport, targetsOf, type ScenarioRow, type WorkerFigures } from './load/report.js';

const BASE_DB_URL = BENCH_DATABASE_URL;
const REDIS_URL = BENCH_REDIS_URL;
const SCENARIOS = ['ceiling', 'hot', 'warm', 'warm-auto', 'cold', '1m', 'open', 'row-lock', 'engine'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Every seeded auction starts at 1.00, so a client that has not seen an auction yet bids that. */
const STARTING_PRICE = 100;
const TEN_K = 10_000;
/**
 * The warm-auto row's mix: every other bid automatic, its maximum up to 10.00 above the amount, some
 * dozen increments at these prices, so challengers meet defending maximums and spend their own.
 */
const AUTOMATIC: AutomaticMix = { share: 0.5, maxAboveCents: 1000 };

const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    'auctions-1m': { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '1000' },
    'load-processes': { type: 'string', default: '1' },
    'pool-size': { type: 'string', default: '20' },
    'drain-timeout': { type: 'string', default: '60' },
    only: { type: 'string', default: SCENARIOS.join(',') },
    partitions: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    roles: { type: 'string', default: 'all' },
    'from-source': { type: 'boolean', default: false },
  },
});
const CLIENTS = Number(flags.clients);
const SECONDS = Number(flags.seconds);
const WARMUP = Number(flags.warmup);
const MILLION = Number(flags['auctions-1m']);
const RATE = Number(flags.rate);
const LOAD_PROCESSES = Number(flags['load-processes']);
const POOL_SIZE = Number(flags['pool-size']);
const DRAIN_TIMEOUT_MS = Number(flags['drain-timeout']) * 1000;
const FROM_SOURCE = flags['from-source'];
// The warm and warm-auto rows take turns this many times and each reports all its rounds together,
// so a slow spell of the machine (a checkpoint, autovacuum) weighs on both rather than on one.
const ROUNDS = Number(flags.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds: a whole number of at least 1');
// As docker-compose.yml creates them. The mock answers a fetch with one record batch per partition,
// so more partitions give the persister more per round, and the server's one process less CPU for
// the gateway (bench/README.md).
const PARTITIONS = Number(flags.partitions);
if (flags.roles !== 'split' && flags.roles !== 'all') throw new Error('--roles: split or all');
// split: a gateway and a workers process, as deployed (docker-compose.yml); all: one process, as npm start.
const SPLIT_ROLES = flags.roles === 'split';
const ONLY = new Set(flags.only.split(',').map((s) => s.trim()));
for (const name of ONLY) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario ${name}; one of ${SCENARIOS.join(', ')}`);
const wanted = (s: Scenario) => ONLY.has(s);

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

// ---------------------------------------------------------------------------------------------
// Cleanup, once, whether the run ends, fails or is interrupted

const cleanups = cleanupStack(() => bar.stop());
const cleanup = cleanups.run;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping and cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Progress

const bar = new cliProgress.SingleBar(
  { format: '{phase} [{bar}] {percentage}% | {detail}', hideCursor: true, clearOnComplete: true, barsize: 30 },
  cliProgress.Presets.shades_classic,
);
/** Shows `phase` until `work` settles; on a terminal a bar, elsewhere one line when it is done. */
async function phase<T>(name: string, total: number, work: (update: (value: number, detail: string) => void) => Promise<T>): Promise<T> {
  const started = performance.now();
  bar.start(total, 0, { phase: name.padEnd(34), detail: '' });
  try {
    return await work((value, detail) => bar.update(Math.min(value, total), { detail }));
  } finally {
    bar.stop();
    console.log(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

// ---------------------------------------------------------------------------------------------
// The server as `npm start` runs it

async function build(): Promise<void> {
  const child = spawn(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`the build failed (scripts/build-if-stale.mjs exited with ${code}); the server cannot start from dist/`);
}

/** The server under test: one `--role all` process, or a workers process and a gateway (--roles split). */
interface Server {
  url: string;
  pids: number[];
  describe: string;
  stop(): Promise<void>;
}

async function startServer(name: string, env: Record<string, string>, scope: string): Promise<Server> {
  const spawnRole = async (role: 'all' | 'gateway' | 'workers', roleEnv: Record<string, string>): Promise<ServerProcess> => {
    const label = role === 'all' ? name : `${name}-${role}`;
    const server = await spawnServer({
      name: label,
      args: ['--disable-warning=TimeoutNegativeWarning', FROM_SOURCE ? 'src/main.ts' : 'dist/src/main.js', '--role', role],
      env: roleEnv,
      logFile: `/tmp/auction-bench-${scope}-${label}.log`,
      isReady: (line) => line.msg === 'auction platform started',
      inspect: false,
    });
    cleanups.push(() => server.stop());
    return server;
  };
  const describe = (role: string, p: ServerProcess) => `${role} pid ${p.pid}, log ${p.logFile}`;
  if (!SPLIT_ROLES) {
    const all = await spawnRole('all', env);
    return { url: all.ready.url as string, pids: [all.pid], describe: describe('--role all', all), stop: () => all.stop() };
  }
  // The workers migrate first; the gateway then finds the schema in place.
  const workers = await spawnRole('workers', env);
  const gateway = await spawnRole('gateway', { ...env, MIGRATE_ON_START: 'false' });
  return {
    url: gateway.ready.url as string,
    pids: [gateway.pid, workers.pid],
    describe: `${describe('gateway', gateway)}; ${describe('workers', workers)}`,
    stop: async () => {
      await gateway.stop();
      await workers.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring one scenario

interface Measured {
  results: LoadResult[];
  serverCpuSeconds: number | null;
  loadCpuSeconds: number;
  loadAverage: number;
  machineBusyPercent: number;
}

/** What every process used between two instants: read at the end of the warm-up and at the deadline. */
async function usage(pids: number[]): Promise<{ cpu: number[]; busy: number; at: number }> {
  return { cpu: await Promise.all(pids.map((pid) => cpuSecondsOf(pid).catch(() => NaN))), busy: await machineBusySeconds(), at: performance.now() };
}

/** Runs one closed- or open-loop job on every load process at once, the users split between them. */
async function measure(
  name: string,
  loads: LoadProcess[],
  server: Server | null,
  job: { kind: 'closed' } | { kind: 'open'; rate: number },
  operation: Operation,
  url: string,
  users: LoadUser[],
): Promise<Measured> {
  const startAt = Date.now() + 300;
  const serverPids = server?.pids ?? [];
  const pids = [...serverPids, ...loads.map((l) => l.pid)];
  let from: Awaited<ReturnType<typeof usage>> | undefined;
  let to: Awaited<ReturnType<typeof usage>> | undefined;
  let loadAverage = NaN;
  const fromTimer = setTimeout(() => void usage(pids).then((u) => (from = u)), startAt + WARMUP * 1000 - Date.now());
  const toTimer = setTimeout(() => {
    loadAverage = loadavg()[0]!;
    void usage(pids).then((u) => (to = u));
  }, startAt + (WARMUP + SECONDS) * 1000 - Date.now());
  const totalSeconds = WARMUP + SECONDS;
  const progress = loads.map(() => ({ requests: 0, accepted: 0 }));
  try {
    const results = await phase(name, totalSeconds * 10, async (update) => {
      const ticker = setInterval(() => {
        const elapsed = Math.max(0, (Date.now() - startAt) / 1000);
        const requests = progress.reduce((n, p) => n + p.requests, 0);
        const accepted = progress.reduce((n, p) => n + p.accepted, 0);
        update(elapsed * 10, `${fmt(requests)} requests, ${fmt(accepted)} accepted`);
      }, 200);
      try {
        return await Promise.all(
          loads.map((load, i) => {
            const share = users.filter((_, u) => u % loads.length === i);
            const common = { url, operation, users: share, startAt, warmupSeconds: WARMUP, seconds: SECONDS, startingPrice: STARTING_PRICE };
            const loadJob: LoadJob = job.kind === 'closed' ? { kind: 'closed', ...common } : { kind: 'open', ...common, rate: job.rate / loads.length };
            return load.run(loadJob, (requests, accepted) => (progress[i] = { requests, accepted })) as Promise<LoadResult>;
          }),
        );
      } finally {
        clearInterval(ticker);
      }
    });
    // The end reading is due at the deadline; the tail of answers can settle first.
    while (!to) await sleep(20);
    const cores = availableParallelism();
    const delta = (i: number) => to!.cpu[i]! - from!.cpu[i]!;
    const loadPids = loads.map((_, i) => i + serverPids.length);
    return {
      results,
      serverCpuSeconds: server ? serverPids.reduce((n, _, i) => n + delta(i), 0) : null,
      loadCpuSeconds: loadPids.reduce((n, i) => n + delta(i), 0),
      loadAverage,
      machineBusyPercent: (100 * (to.busy - from!.busy)) / (((to.at - from!.at) / 1000) * cores),
    };
  } finally {
    clearTimeout(fromTimer);
    clearTimeout(toTimer);
  }
}

function rowOf(key: string, label: string, m: Measured, isBid: boolean): ScenarioRow {
  const sum = (pick: (r: LoadResult) => number) => m.results.reduce((n, r) => n + pick(r), 0);
  const seconds = Math.max(...m.results.map((r) => r.seconds));
  const errorCodes = errorCodesOf(m.results);
  return {
    key,
    label,
    requests: sum((r) => r.requests),
    seconds,
    requestsPerSecond: sum((r) => r.requests) / seconds,
    acceptedPerSecond: isBid ? sum((r) => r.accepted) / seconds : null,
    latencyMs: spread(m.results.map((r) => r.latencies)),
    tooLow: sum((r) => r.tooLow),
    retries: sum((r) => r.retries),
    errors: sum((r) => r.errors),
    errorCodes,
    firstError: m.results.find((r) => r.firstError)?.firstError,
    serverCpuSeconds: m.serverCpuSeconds,
    loadCpuSeconds: m.loadCpuSeconds,
    loadAverage: m.loadAverage,
    machineBusyPercent: m.machineBusyPercent,
  };
}

/** Each error code's count over several results. */
function errorCodesOf(results: LoadResult[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.errorCodes)) codes[code] = (codes[code] ?? 0) + n;
  return codes;
}

/**
 * Rounds of one row as one measurement: per load process, counts and seconds add up; CPU seconds,
 * the load average and how busy the machine was are a round's mean, as in the other rows.
 */
function mergeRounds(rounds: Measured[]): Measured {
  const mean = (pick: (m: Measured) => number | null) => rounds.reduce((n, m) => n + (pick(m) ?? NaN), 0) / rounds.length;
  const results = rounds[0]!.results.map((_, j): LoadResult => {
    const parts = rounds.map((m) => m.results[j]!);
    const add = (pick: (r: LoadResult) => number) => parts.reduce((n, r) => n + pick(r), 0);
    return {
      requests: add((r) => r.requests),
      accepted: add((r) => r.accepted),
      automatic: add((r) => r.automatic),
      tooLow: add((r) => r.tooLow),
      retries: add((r) => r.retries),
      errors: add((r) => r.errors),
      errorCodes: errorCodesOf(parts),
      firstError: parts.find((r) => r.firstError)?.firstError,
      seconds: add((r) => r.seconds),
      latencies: concatenated(parts.map((r) => r.latencies)),
      acceptedTotal: add((r) => r.acceptedTotal),
    };
  });
  return {
    results,
    serverCpuSeconds: rounds.some((m) => m.serverCpuSeconds === null) ? null : mean((m) => m.serverCpuSeconds),
    loadCpuSeconds: mean((m) => m.loadCpuSeconds),
    loadAverage: mean((m) => m.loadAverage),
    machineBusyPercent: mean((m) => m.machineBusyPercent),
  };
}

/** The worker over a row's rounds: what it persisted per second of all of them, and its slowest drain. */
function mergeWorkers(rounds: WorkerFigures[]): WorkerFigures {
  const last = rounds.at(-1)!;
  const persisted = rounds.reduce((n, w) => n + w.persisted, 0);
  const seconds = rounds.reduce((n, w) => n + w.persisted / w.perSecond, 0);
  return {
    expected: last.expected,
    persisted,
    perSecond: persisted / seconds,
    peakPerSecond: Math.max(...rounds.map((w) => w.peakPerSecond)),
    drainMs: rounds.some((w) => w.drainMs === null) ? null : Math.max(...rounds.map((w) => w.drainMs!)),
  };
}

function engineRow(key: string, label: string, run: EngineRun): ScenarioRow {
  return {
    key,
    label,
    requests: run.decisions,
    seconds: run.seconds,
    requestsPerSecond: run.decisions / run.seconds,
    acceptedPerSecond: run.accepted / run.seconds,
    latencyMs: spread([run.latencies]),
    tooLow: 0,
    retries: 0,
    errors: run.errors,
    errorCodes: run.errors > 0 ? { ENGINE: run.errors } : {},
    firstError: run.firstError,
    serverCpuSeconds: null,
    loadCpuSeconds: run.cpuSeconds,
    loadAverage: loadavg()[0]!,
    machineBusyPercent: NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// The worker: the bids table is its output, so counting its rows measures it from outside

/**
 * Samples count(bids) every 250 ms while `load` runs, then until it equals `expectedAfter()`, the
 * bids accepted so far (or the drain limit passes).
 */
async function watchWorker<T>(
  pool: pg.Pool,
  load: () => Promise<T>,
  expectedAfter: (result: T) => number | Promise<number>,
): Promise<{ result: T; worker: WorkerFigures }> {
  const count = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM bids')).rows[0]!.n);
  const samples: Array<{ t: number; n: number }> = [{ t: performance.now(), n: await count() }];
  let loading = true;
  const sampler = (async () => {
    while (loading) {
      await sleep(250);
      samples.push({ t: performance.now(), n: await count() });
    }
  })();
  const result = await load();
  loading = false;
  await sampler;
  const loadEnd = performance.now();
  const expected = await expectedAfter(result);
  let last = samples.at(-1)!;
  await phase(`  worker drain to ${fmt(expected)} bids`, Math.max(1, expected - samples[0]!.n), async (update) => {
    while (last.n < expected && performance.now() - loadEnd < DRAIN_TIMEOUT_MS) {
      await sleep(250);
      last = { t: performance.now(), n: await count() };
      samples.push(last);
      update(last.n - samples[0]!.n, `${fmt(last.n)} of ${fmt(expected)} persisted`);
    }
  });
  let peak = 0;
  for (let i = 0, j = 0; j < samples.length; j++) {
    while (samples[j]!.t - samples[i]!.t > 1000) i++;
    if (samples[j]!.t - samples[i]!.t >= 750) peak = Math.max(peak, ((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.t - samples[i]!.t));
  }
  const first = samples[0]!;
  return {
    result,
    worker: {
      expected,
      persisted: last.n - first.n,
      perSecond: ((last.n - first.n) * 1000) / (last.t - first.t),
      peakPerSecond: peak,
      drainMs: last.n >= expected ? Math.max(0, last.t - loadEnd) : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function run(): Promise<void> {
  const scope = randomBytes(5).toString('hex');
  const startedAt = new Date();
  console.log(
    `bids benchmark: ${CLIENTS} clients, ${WARMUP} s warm-up + ${SECONDS} s per scenario, open loop at ${fmt(RATE)}/s, ` +
      `${fmt(MILLION)} auctions for the 1M row, ${LOAD_PROCESSES} load process(es), ${PARTITIONS} partitions, server ${SPLIT_ROLES ? "as a gateway and a workers process" : "as one --role all process"}, scope ${scope}`,
  );
  // --from-source: for a development run while the build is broken by work in progress elsewhere.
  if (!FROM_SOURCE) await build();

  const kafka = await startKafkaMock({
    topics: [
      { name: 'bid-events', partitions: PARTITIONS },
      { name: 'bid-events.dlq', partitions: 1 },
      // The row-lock server's own, empty log: its worker must not be busy with the first server's.
      { name: 'bid-events-row-lock', partitions: PARTITIONS },
      { name: 'bid-events-row-lock.dlq', partitions: 1 },
      { name: 'bid-events-engine', partitions: PARTITIONS },
    ],
  });
  cleanups.push(() => kafka.stop());
  const database = await scratchDatabase(BASE_DB_URL, `auction_bench_${scope}`);
  const redisPrefix = `auction_bench:${scope}:`;
  cleanups.push(async () => {
    await database.drop();
    const deleted = await deleteRedisKeys(REDIS_URL, redisPrefix);
    console.log(`cleanup: dropped auction_bench_${scope}, deleted ${fmt(deleted)} Redis keys, stopped the servers, load processes and Kafka mock`);
  });

  const loads = await Promise.all(Array.from({ length: LOAD_PROCESSES }, () => startLoadProcess()));
  for (const load of loads) cleanups.push(() => load.stop());

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('hex'),
    JWT_TTL_SECONDS: '7200',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    MIGRATE_ON_START: 'true',
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_BID_TOPIC: 'bid-events',
    KAFKA_GROUP_PREFIX: `bench-${scope}-`,
    // The mock's timing, as the tests use it: it answers an idle fetch only after the full wait.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_MS: '300',
    KAFKA_MAX_WAIT_MS: '20',
    // Every bench user signs up from 127.0.0.1 within seconds.
    SIGN_UP_ATTEMPTS_PER_IP: '1000000',
    PASSWORD_HASH_MAX_WAITING: '100000',
  };
  const server = await startServer('price-book', env, scope);
  console.log(`server (price book): ${server.url}, ${server.describe}`);
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  cleanups.push(() => pool.end());

  const [seller, warmSeller, coldSeller, millionSeller, ...bidders] = await phase('sign up users', CLIENTS + 4, async (update) => {
    let done = 0;
    return mapLimit(Array.from({ length: CLIENTS + 4 }, (_, i) => i), 8, async (i) => {
      const user = await signUp(server.url, i < 4 ? `seller${i}` : `bidder${i - 4}`);
      update(++done, `${done} of ${CLIENTS + 4}`);
      return user;
    });
  });
  const users: LoadUser[] = bidders.map((b) => ({ id: b!.id, token: b!.token }));
  const hotAuction = await createAuction(server.url, seller!.token, 'hot auction');
  const rowLockAuction = await createAuction(server.url, seller!.token, 'row-lock hot auction');
  const engineAuction = await createAuction(server.url, seller!.token, 'engine row-lock auction');

  const endsAt = new Date(Date.now() + 24 * 3600_000);
  const seed = async (set: string, sellerId: string, count: number) => {
    await phase(`seed ${fmt(count)} auctions (${set})`, count, (update) =>
      seedAuctions(pool, { count, sellerId, endsAt, startingPrice: STARTING_PRICE, onProgress: (done) => update(done, `${fmt(done)} inserted`) }),
    );
    const { rows } = await pool.query<{ ids: Buffer | null }>("SELECT string_agg(uuid_send(id), ''::bytea) AS ids FROM auctions WHERE seller_id = $1", [sellerId]);
    const ids = new Uint8Array(rows[0]!.ids ?? Buffer.alloc(0));
    for (const load of loads) await load.run({ kind: 'auctions', set, ids });
  };
  const list = async (set: string) => {
    // Listed through the API, which loads each new auction into the price book, as sellers' are.
    const ids = await phase(`list ${fmt(TEN_K)} auctions through createAuction (${set})`, TEN_K, async (update) => {
      let done = 0;
      return mapLimit(Array.from({ length: TEN_K }, (_, i) => i), 16, async (i) => {
        const id = await createAuction(server.url, warmSeller!.token, `${set} ${i}`);
        if (++done % 100 === 0) update(done, `${fmt(done)} listed`);
        return id;
      });
    });
    const bytes = new Uint8Array(ids.length * 16);
    ids.forEach((id, i) => bytes.set(uuidToBytes(id), i * 16));
    for (const load of loads) await load.run({ kind: 'auctions', set, ids: bytes });
    return ids;
  };
  if (wanted('warm') || wanted('open')) await list('warm');
  // Its own set, listed and primed as the warm one: the open loop's plain bids on the warm set then
  // meet no maximum left by this row, and each row starts from auctions with one bid.
  const warmAutoIds = wanted('warm-auto') ? await list('warm-auto') : [];
  if (wanted('cold')) await seed('cold', coldSeller!.id, TEN_K);
  if (wanted('1m')) await seed('1m', millionSeller!.id, MILLION);
  // Settled now, so autovacuum does not start on the new rows in the middle of a scenario.
  await phase('vacuum analyze', 1, () => pool.query('VACUUM ANALYZE'));

  const rows = new Map<string, ScenarioRow>();
  let acceptedSoFar = 0;
  const acceptedIn = (results: LoadResult[]) => results.reduce((n, r) => n + r.acceptedTotal, 0);
  /** Closed-loop bids, then the worker's drain to every bid accepted so far. */
  const bidsAndDrain = (label: string, target: Operation) =>
    watchWorker(
      pool,
      () => measure(label, loads, server, { kind: 'closed' }, target, server.url, users),
      (m) => (acceptedSoFar += acceptedIn(m.results)),
    );
  const closedBids = async (key: string, label: string, target: Operation) => {
    const { result, worker } = await bidsAndDrain(label, target);
    rows.set(key, { ...rowOf(key, label, result, true), worker });
  };

  if (wanted('ceiling')) {
    const label = 'ceiling: { serverTime } POST + bearer token';
    rows.set('ceiling', rowOf('ceiling', label, await measure(label, loads, server, { kind: 'closed' }, { kind: 'serverTime' }, server.url, users), false));
  }
  if (wanted('hot')) await closedBids('hot', 'placeBid, one hot auction', { kind: 'placeBid', target: { kind: 'one', auctionId: hotAuction } });
  const prime = async (set: string) => {
    const primed = await watchWorker(
      pool,
      () =>
        phase(`prime ${fmt(TEN_K)} auctions (${set}): one bid each`, 1, async () =>
          (await loads[0]!.run({ kind: 'prime', url: server.url, set, users, concurrency: CLIENTS, startingPrice: STARTING_PRICE }))!,
        ),
      (result) => (acceptedSoFar += result.acceptedTotal),
    );
    console.log(`  primed: ${fmt(primed.worker.expected)} bids accepted so far`);
  };
  if (wanted('warm') || wanted('open')) await prime('warm');
  if (wanted('warm-auto')) await prime('warm-auto');
  // An answer names only the request's own bid, and the selection stays as the plain row's (no
  // bidCount), so the automatic bids are counted where the server decides: in the price book, read
  // before and after each round, outside its measured phase. The worker must persist them too.
  let warmAutoBook: ReturnType<typeof createRedisPriceBook> | null = null;
  if (wanted('warm-auto')) {
    const redis = new Redis(REDIS_URL);
    cleanups.push(async () => redis.disconnect());
    warmAutoBook = createRedisPriceBook({ redis, keyPrefix: redisPrefix });
  }
  const bidsOnWarmAuto = async () => {
    const live = await warmAutoBook!.peek(warmAutoIds);
    if (live.size !== warmAutoIds.length) throw new Error(`the price book holds ${live.size} of the ${warmAutoIds.length} warm-auto auctions, so their bids cannot be counted`);
    return [...live.values()].reduce((n, state) => n + state.bidCount, 0);
  };
  const warmRounds: Array<{ result: Measured; worker: WorkerFigures }> = [];
  const autoRounds: Array<{ result: Measured; worker: WorkerFigures; placed: number }> = [];
  const warmLabel = '10k auctions, warm (price book loaded)';
  const autoLabel = `10k auctions, warm, ${AUTOMATIC.share * 100}% automatic bids`;
  const ofRound = (label: string, round: number) => (ROUNDS > 1 ? `${label}, round ${round} of ${ROUNDS}` : label);
  for (let round = 1; round <= ROUNDS; round++) {
    if (wanted('warm')) warmRounds.push(await bidsAndDrain(ofRound(warmLabel, round), { kind: 'placeBid', target: { kind: 'random', set: 'warm' } }));
    if (wanted('warm-auto')) {
      const before = await bidsOnWarmAuto();
      let placed = 0;
      const operation: Operation = { kind: 'placeBid', target: { kind: 'random', set: 'warm-auto' }, automatic: AUTOMATIC };
      const measured = await watchWorker(
        pool,
        () => measure(ofRound(autoLabel, round), loads, server, { kind: 'closed' }, operation, server.url, users),
        async () => {
          placed = (await bidsOnWarmAuto()) - before;
          return (acceptedSoFar += placed);
        },
      );
      autoRounds.push({ ...measured, placed });
    }
    if (ROUNDS > 1 && warmRounds[round - 1] && autoRounds[round - 1]) {
      const [plain, auto] = [warmRounds[round - 1]!, autoRounds[round - 1]!].map((r) => rowOf('round', '', r.result, true).requestsPerSecond);
      console.log(`  round ${round}: warm ${fmt(plain!)} req/s, warm-auto ${fmt(auto!)} req/s (${(auto! / plain!).toFixed(2)}x)`);
    }
  }
  if (warmRounds.length > 0) rows.set('warm', { ...rowOf('warm', warmLabel, mergeRounds(warmRounds.map((r) => r.result)), true), worker: mergeWorkers(warmRounds.map((r) => r.worker)) });
  if (autoRounds.length > 0) {
    const result = mergeRounds(autoRounds.map((r) => r.result));
    const placed = autoRounds.reduce((n, r) => n + r.placed, 0);
    const acceptedRequests = acceptedIn(result.results);
    rows.set('warm-auto', {
      ...rowOf('warm-auto', autoLabel, result, true),
      worker: mergeWorkers(autoRounds.map((r) => r.worker)),
      automatic: { ...AUTOMATIC, requests: result.results.reduce((n, r) => n + r.automatic, 0), acceptedRequests, bids: placed - acceptedRequests },
    });
  }
  if (wanted('cold')) await closedBids('cold', '10k auctions, cold (first bid loads from Postgres)', { kind: 'placeBid', target: { kind: 'random', set: 'cold' } });
  if (wanted('1m')) await closedBids('1m', `${MILLION === 1_000_000 ? '1M' : fmt(MILLION)} auctions, random (nearly all cold first bids)`, { kind: 'placeBid', target: { kind: 'random', set: '1m' } });
  if (wanted('open')) {
    const trivial = `open loop ${fmt(RATE)}/s: { serverTime }`;
    rows.set('open-trivial', openRow('open-trivial', trivial, await measure(trivial, loads, server, { kind: 'open', rate: RATE }, { kind: 'serverTime' }, server.url, users)));
    const label = `open loop ${fmt(RATE)}/s: placeBid, 10k warm`;
    const { result, worker } = await watchWorker(
      pool,
      () => measure(label, loads, server, { kind: 'open', rate: RATE }, { kind: 'placeBid', target: { kind: 'random', set: 'warm' } }, server.url, users),
      (m) => (acceptedSoFar += acceptedIn(m.results)),
    );
    rows.set('open-bids', { ...openRow('open-bids', label, result), worker });
  }
  await server.stop();

  if (wanted('row-lock')) {
    const rowLockServer = await startServer('row-lock', { ...env, BID_ENGINE: 'row-lock', MIGRATE_ON_START: 'false', KAFKA_BID_TOPIC: 'bid-events-row-lock' }, scope);
    console.log(`server (row lock): ${rowLockServer.url}, ${rowLockServer.describe}`);
    const label = 'row-lock placeBid (BID_ENGINE=row-lock), hot';
    const measured = await measure(label, loads, rowLockServer, { kind: 'closed' }, { kind: 'placeBid', target: { kind: 'one', auctionId: rowLockAuction } }, rowLockServer.url, users);
    rows.set('row-lock', rowOf('row-lock', label, measured, true));
    await rowLockServer.stop();
  }

  if (wanted('engine')) {
    const engines = await phase('engine alone: price book, then row lock', 2 * (WARMUP + SECONDS), async (update) => {
      const started = performance.now();
      const ticker = setInterval(() => update((performance.now() - started) / 1000, ''), 200);
      try {
        return await runEngines(
          {
            callers: CLIENTS,
            seconds: SECONDS,
            warmupSeconds: WARMUP,
            redis: { url: REDIS_URL, keyPrefix: redisPrefix },
            kafka: { brokers: kafka.brokers, topic: 'bid-events-engine' },
            databaseUrl: database.url,
            poolSize: POOL_SIZE,
            sellerId: seller!.id,
            bidderIds: users.map((u) => u.id),
            rowLockAuctionId: engineAuction,
          },
          () => undefined,
        );
      } finally {
        clearInterval(ticker);
      }
    });
    rows.set('engine-price-book', engineRow('engine-price-book', 'engine alone: price book (Lua + Kafka append)', engines.priceBook));
    rows.set('engine-row-lock', engineRow('engine-row-lock', 'engine alone: row lock over pg', engines.rowLock));
  }

  const targets = targetsOf(rows, RATE);
  printReport([...rows.values()], targets, [
    '',
    `Latency: ms per request, from send to answer (open loop: from the scheduled send). CPU: user + system seconds during the ${SECONDS} s measured phase.`,
    `Server CPU is ${SPLIT_ROLES ? 'the gateway and the workers process together' : 'the one --role all process'}; Redis, Postgres and the Kafka mock are outside it, in "machine busy %".`,
    `loadavg: one-minute load average at the end of each scenario, on ${availableParallelism()} cores.`,
  ]);

  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/bids-${startedAt.toISOString().replaceAll(':', '-')}.json`, import.meta.url);
  const serializable = [...rows.values()].map((r) => ({ ...r }));
  await writeFile(
    file,
    `${JSON.stringify({ startedAt, flags: { clients: CLIENTS, seconds: SECONDS, warmup: WARMUP, auctions1m: MILLION, rate: RATE, loadProcesses: LOAD_PROCESSES, poolSize: POOL_SIZE }, cores: availableParallelism(), scenarios: serializable, targets }, null, 2)}\n`,
  );
  console.log(`\nresults: ${file.pathname}`);
}

function openRow(key: string, label: string, m: Measured): ScenarioRow {
  const row = rowOf(key, label, m, key === 'open-bids');
  const sum = (pick: (o: NonNullable<LoadResult['open']>) => number) => m.results.reduce((n, r) => n + (r.open ? pick(r.open) : 0), 0);
  return {
    ...row,
    requestsPerSecond: row.requests / SECONDS,
    acceptedPerSecond: row.acceptedPerSecond === null ? null : m.results.reduce((n, r) => n + r.accepted, 0) / SECONDS,
    open: {
      rate: RATE,
      achievedPerSecond: row.requests / SECONDS,
      scheduled: sum((o) => o.scheduled),
      sent: sum((o) => o.sent),
      late: sum((o) => o.late),
      dropped: sum((o) => o.dropped),
      maxLagMs: Math.max(...m.results.map((r) => r.open?.maxLagMs ?? 0)),
    },
  };
}

run()
  .then(cleanup)
  .then(
    () => process.exit(0),
    async (error: unknown) => {
      bar.stop();
      console.error(error);
      await cleanup();
      process.exit(1);
    },
  );
