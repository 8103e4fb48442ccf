// Bid throughput benchmark: the real placeBid path (GraphQL -> Redis price book -> Kafka -> worker
// -> Postgres) against two baselines measured in the same run on the same machine:
//   - the ceiling: `{ serverTime }`, i.e. what the HTTP + GraphQL stack alone can do;
//   - the naive row-lock placeBid (SELECT ... FOR UPDATE in one transaction) most auction code uses.
//
// Usage: npm run bench:bids -- [--clients 64] [--seconds 10]
//   or:  node --import @swc-node/register/esm-register bench/bids.ts [--clients 64] [--seconds 10]
//
// Needs Postgres on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and a C compiler with
// librdkafka-dev for the Kafka mock cluster. Everything it creates is removed at the end.
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { startApp, type App } from '../src/app.js';
import { bidIncrement } from '../src/domain/increments.js';
import { freshBookEntry } from '../src/services/bids/book-entry.js';
import { formatMoney } from '../src/domain/money.js';
import { startKafkaMock, type KafkaMock } from '../test/support/kafka-mock.js';
import { gql, signUp } from './support/api.js';
import { deleteRedisKeys, scratchDatabase } from './support/scratch.js';

const BASE_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const COLD_AUCTIONS = 10_000;

const { values: flags } = parseArgs({
  options: { clients: { type: 'string', default: '64' }, seconds: { type: 'string', default: '10' } },
});
const CLIENTS = Number(flags.clients);
const SECONDS = Number(flags.seconds);

const PLACE_BID = 'mutation($input: PlaceBidInput!) { placeBid(input: $input) { bid { id seq } } }';

// ---------------------------------------------------------------------------------------------
// Measurement helpers

interface RunResult {
  name: string;
  requests: number;
  accepted: number;
  retries: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latencies: number[];
}

/** One request's outcome: the amount the client should try next, if the server told it. */
type Outcome =
  | { kind: 'accepted' | 'too_low'; next: number }
  | { kind: 'ok' }
  // UNAVAILABLE: the server asks to retry with the same idempotencyKey (e.g. a cold auction whose log is not persisted yet).
  | { kind: 'retry' }
  | { kind: 'error'; message: string };

/**
 * Runs `clients` async loops for `seconds`; each loop calls `once(clientIndex)` back to back. A
 * closed loop (no think time), so requests/s is what the system sustains at that concurrency.
 */
async function drive(name: string, clients: number, seconds: number, once: (client: number) => Promise<Outcome>): Promise<RunResult> {
  const result: RunResult = { name, requests: 0, accepted: 0, retries: 0, errors: 0, seconds, latencies: [] };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const outcome = await once(client).catch((error: unknown): Outcome => ({ kind: 'error', message: String(error) }));
        result.latencies.push(performance.now() - t0);
        result.requests++;
        if (outcome.kind === 'accepted') result.accepted++;
        if (outcome.kind === 'retry') result.retries++;
        if (outcome.kind === 'error') {
          result.errors++;
          result.firstError ??= outcome.message;
        }
      }
    }),
  );
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(r: RunResult) {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return {
    acceptedPerSec: r.accepted / r.seconds,
    requestsPerSec: r.requests / r.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printRun(r: RunResult, note?: string): void {
  const s = summarize(r);
  const p99Mark = s.p99 < 25 ? 'ok' : 'MISSED';
  console.log(`\n== ${r.name}${note ? `  (${note})` : ''}`);
  console.log(`   accepted bids/s : ${fmt(s.acceptedPerSec)}`);
  console.log(`   requests/s      : ${fmt(s.requestsPerSec)}   (${fmt(r.requests)} requests in ${fmt(r.seconds, 1)} s, ${fmt(r.retries)} UNAVAILABLE/retry, ${r.errors} errors)`);
  console.log(`   latency ms      : p50 ${fmt(s.p50, 2)}  p95 ${fmt(s.p95, 2)}  p99 ${fmt(s.p99, 2)}   [target p99 < 25 ms: ${p99Mark}]`);
  if (r.firstError) console.log(`   first error     : ${r.firstError.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// placeBid as a client

const parseMoney = (s: string) => Math.round(Number(s) * 100);

/**
 * Places one bid and interprets the answer the way a real client would: BID_TOO_LOW carries the
 * minimum next bid, so the client retries with exactly that; after an accepted bid the next
 * acceptable amount is the accepted amount plus the increment.
 */
async function placeBid(url: string, token: string, auctionId: string, amount: number, idempotencyKey: string = randomUUID()): Promise<Outcome> {
  const { data, errors } = await gql(url, PLACE_BID, { input: { auctionId, amount: formatMoney(amount), idempotencyKey } }, token);
  if (data?.placeBid) return { kind: 'accepted', next: amount + bidIncrement(amount) };
  const error = errors?.[0];
  if (error?.extensions?.code === 'BID_TOO_LOW') return { kind: 'too_low', next: parseMoney(error.extensions.minimumNextBid) };
  if (error?.extensions?.code === 'UNAVAILABLE') return { kind: 'retry' };
  return { kind: 'error', message: JSON.stringify(errors ?? data) };
}

// ---------------------------------------------------------------------------------------------
// Naive row-lock baseline, run directly over pg in this process (no HTTP/GraphQL in its way).

async function rowLockBid(pool: pg.Pool, auctionId: string, bidderId: string, amount: number): Promise<Outcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ current_price: number; bid_count: number; starting_price: number; last_seq: number }>(
      'SELECT current_price, bid_count, starting_price, last_seq FROM auctions WHERE id = $1 FOR UPDATE',
      [auctionId],
    );
    const a = rows[0]!;
    const minimum = a.bid_count === 0 ? a.starting_price : a.current_price + bidIncrement(a.current_price);
    if (amount < minimum) {
      await client.query('ROLLBACK');
      return { kind: 'too_low', next: minimum };
    }
    const bidId = randomUUID();
    const seq = a.last_seq + 1;
    await client.query(
      'INSERT INTO bids (id, auction_id, bidder_id, amount, seq, idempotency_key, placed_at) VALUES ($1, $2, $3, $4, $5, $6, now())',
      [bidId, auctionId, bidderId, amount, seq, randomUUID()],
    );
    await client.query(
      `UPDATE auctions SET current_price = $2, bid_count = bid_count + 1, last_seq = $3, leading_bid_id = $4, leader_id = $5,
         updated_at = now() WHERE id = $1`,
      [auctionId, amount, seq, bidId, bidderId],
    );
    await client.query('COMMIT');
    return { kind: 'accepted', next: amount + bidIncrement(amount) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Worker throughput: the bids table is the worker's output, so counting its rows over time
// measures how fast the Kafka consumer persists what the gateway accepted.

async function countBids(pool: pg.Pool, exceptAuction?: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    exceptAuction ? 'SELECT count(*) AS n FROM bids WHERE auction_id <> $1' : 'SELECT count(*) AS n FROM bids',
    exceptAuction ? [exceptAuction] : [],
  );
  return Number(rows[0]!.n);
}

/** Samples count(bids) while `load` runs, then polls until all `expectedTotal` rows are persisted. */
async function withWorkerWatch<T>(pool: pg.Pool, load: () => Promise<T>, expectedTotal: () => number) {
  const before = await countBids(pool);
  const samples: Array<{ t: number; n: number }> = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push({ t: performance.now(), n: await countBids(pool) });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const t0 = performance.now();
  const result = await load();
  const loadEnd = performance.now();
  running = false;
  await sampler;

  // Drain: poll tightly so the figure is not dominated by the polling interval.
  let persisted = await countBids(pool);
  const drainLimit = loadEnd + 30_000;
  while (persisted < expectedTotal() && performance.now() < drainLimit) {
    await new Promise((r) => setTimeout(r, 5));
    persisted = await countBids(pool);
  }
  const drained = persisted >= expectedTotal();
  const end = performance.now();
  // Peak rate over any one-second window of the samples: the worker's capacity when it had work.
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      if (samples[j]!.t - samples[i]!.t >= 1000) {
        peak = Math.max(peak, ((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.t - samples[i]!.t));
        break;
      }
    }
  }
  return {
    result,
    persisted: persisted - before,
    avgPerSec: ((persisted - before) * 1000) / (end - t0),
    peakPerSec: peak,
    drainMs: drained ? end - loadEnd : NaN,
    drained,
  };
}

function printWorker(w: { persisted: number; avgPerSec: number; peakPerSec: number; drainMs: number; drained: boolean }) {
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  console.log(
    `   worker persisted: ${fmt(w.persisted)} bids, ${fmt(w.avgPerSec)} bids/s average (load + drain), peak ${fmt(w.peakPerSec)} bids/s over 1 s` +
      `   [target >= 10,000 bids/s: ${mark(w.peakPerSec >= 10_000)}; note: bounded by how many bids the gateway accepted]`,
  );
  console.log(
    `   lag drain       : ${w.drained ? `${fmt(w.drainMs)} ms` : 'did NOT drain within 30 s'} after load stopped   [target < 2,000 ms: ${mark(w.drained && w.drainMs < 2000)}]`,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => console.error('cleanup failed:', e));
  };
  try {
    await run(cleanups);
  } finally {
    await cleanup();
  }
}

async function run(cleanups: Array<() => Promise<unknown>>): Promise<void> {
  const scope = randomBytes(5).toString('hex');
  console.log(`bids benchmark: ${CLIENTS} clients, ${SECONDS} s per scenario, scope ${scope}`);

  // Scratch database and Redis prefix, removed at the end.
  const dbName = `auction_bench_${scope}`;
  const database = await scratchDatabase(BASE_DB_URL, dbName);
  const redisPrefix = `auction_bench:${scope}:`;
  cleanups.push(async () => {
    await database.drop();
    const deleted = await deleteRedisKeys(REDIS_URL, redisPrefix);
    console.log(`cleanup: dropped ${dbName}, deleted ${deleted} Redis keys, stopped app and Kafka mock`);
  });
  const dbUrl = new URL(database.url);

  const kafka: KafkaMock = await startKafkaMock({
    topics: [
      { name: 'bid-events', partitions: 8 },
      { name: 'bid-events.dlq', partitions: 1 },
    ],
  });
  cleanups.push(() => kafka.stop());

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: dbUrl.toString(),
    DATABASE_POOL_SIZE: '20',
    MIGRATE_ON_START: 'true',
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_BID_TOPIC: 'bid-events',
    KAFKA_GROUP_PREFIX: `bench-${scope}-`,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_MS: '300',
    KAFKA_MAX_WAIT_MS: '20',
    // Every bench client signs up from 127.0.0.1, all at once.
    SIGN_UP_ATTEMPTS_PER_IP: '1000000',
    PASSWORD_HASH_MAX_WAITING: '100000',
  };
  // The app's warnings go to a file: the cold path logs one per refused bid, which would drown the report.
  const logFile = `/tmp/auction-bench-${scope}.log`;
  const app: App = await startApp(loadConfig(env, false), pino({ level: 'warn' }, pino.destination({ dest: logFile, sync: false })), {
    roles: new Set(['gateway', 'workers']),
  });
  console.log(`app log (level warn): ${logFile}`);
  cleanups.push(() => app.stop());
  const url = app.url!;
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 20 });
  cleanups.push(() => pool.end());

  // Users: one seller, one bidder per client (so idempotency keys and "leader" behave as with real users).
  const seller = await signUp(url, 'seller');
  const bidders = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => signUp(url, `bidder${i}`)));
  const endsAt = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
  const createAuction = async (title: string) => {
    const { data, errors } = await gql(
      url,
      'mutation($input: CreateAuctionInput!) { createAuction(input: $input) { id } }',
      { input: { title, description: 'benchmark', startingPrice: '1.00', endsAt } },
      seller.token,
    );
    if (errors) throw new Error(`createAuction failed: ${JSON.stringify(errors)}`);
    return data.createAuction.id as string;
  };

  // Warm-up: JIT, connection pools, the Kafka producer, so the first scenario is not penalised.
  const warm = await createAuction('warm-up');
  let warmNext = 100;
  const warmUp = await drive('warm-up', CLIENTS, 1, async (c) => {
    const o = await placeBid(url, bidders[c]!.token, warm, warmNext);
    if (o.kind === 'accepted' || o.kind === 'too_low') warmNext = Math.max(warmNext, o.next);
    return o;
  });
  let acceptedTotal = warmUp.accepted; // every accepted bid the worker must eventually have persisted
  await withWorkerWatch(pool, async () => {}, () => acceptedTotal);

  // (1) Ceiling: the cheapest possible GraphQL operation over the same HTTP stack.
  const ceiling = await drive('ceiling: { serverTime } over POST', CLIENTS, SECONDS, async () => {
    const { data, errors } = await gql(url, '{ serverTime }');
    return data?.serverTime ? { kind: 'ok' } : { kind: 'error', message: JSON.stringify(errors) };
  });
  printRun(ceiling);

  // (a) One hot auction, every client bidding on it. Clients share what they learn through their
  // own answers only: each keeps its own idea of the next acceptable amount.
  const hot = await createAuction('hot');
  const hotNext = new Array<number>(CLIENTS).fill(100);
  const hotWatch = await withWorkerWatch(
    pool,
    () =>
      drive('(a) placeBid, one hot auction', CLIENTS, SECONDS, async (c) => {
        const o = await placeBid(url, bidders[c]!.token, hot, hotNext[c]!);
        if (o.kind === 'accepted' || o.kind === 'too_low') hotNext[c] = o.next;
        if (o.kind === 'accepted') acceptedTotal++;
        return o;
      }),
    () => acceptedTotal,
  );
  printRun(hotWatch.result, 'most requests lose the race and get BID_TOO_LOW: requests/s is the gateway figure');
  printWorker(hotWatch);

  // (b) 10,000 auctions, random picks. Inserted with createMany for speed, then loaded into the price
  // book exactly as createAuction does (the lazy reload is the recovery path after Redis loses state).
  const t0 = performance.now();
  const now = new Date();
  const coldIds: string[] = Array.from({ length: COLD_AUCTIONS }, () => randomUUID());
  await app.deps.db.auction.createMany({
    data: coldIds.map((id, i) => ({
      id,
      sellerId: seller.id,
      title: `cold ${i}`,
      description: 'benchmark',
      currency: 'USD',
      startingPrice: 100,
      currentPrice: 100,
      startsAt: now,
      endsAt: new Date(endsAt),
      scheduledEndsAt: new Date(endsAt),
    })),
  });
  await Promise.all(
    coldIds.map((auctionId) =>
      app.deps.priceBook.load(
        freshBookEntry({
          id: auctionId,
          sellerId: seller.id,
          state: 'OPEN',
          startsAt: now,
          endsAt: new Date(endsAt),
          scheduledEndsAt: new Date(endsAt),
          softCloseSeconds: 0,
          startingPrice: 100,
          reservePrice: null,
        }),
      ),
    ),
  );
  console.log(`\n(created ${fmt(COLD_AUCTIONS)} auctions with createMany and loaded them into the price book in ${fmt(performance.now() - t0)} ms)`);
  const coldNext = new Map<string, number>(coldIds.map((id) => [id, 100]));
  // A client told UNAVAILABLE retries the same bid (same auction, amount and key), as the error asks.
  const pending = new Array<{ id: string; amount: number; key: string } | undefined>(CLIENTS);
  const coldWatch = await withWorkerWatch(
    pool,
    () =>
      drive(`(b) placeBid, ${fmt(COLD_AUCTIONS)} auctions, random picks`, CLIENTS, SECONDS, async (c) => {
        const id = pending[c]?.id ?? coldIds[Math.floor(Math.random() * coldIds.length)]!;
        const bid = pending[c] ?? { id, amount: coldNext.get(id)!, key: randomUUID() };
        const o = await placeBid(url, bidders[c]!.token, id, bid.amount, bid.key);
        pending[c] = o.kind === 'retry' ? bid : undefined;
        if (o.kind === 'accepted' || o.kind === 'too_low') coldNext.set(id, Math.max(coldNext.get(id)!, o.next));
        if (o.kind === 'accepted') acceptedTotal++;
        return o;
      }),
    () => acceptedTotal,
  );
  const touched = [...coldNext.values()].filter((v) => v > 100).length;
  printRun(coldWatch.result, `${fmt(touched)} distinct auctions received a bid, each first one via the lazy Postgres load`);
  printWorker(coldWatch);

  // (2) Naive row-lock baseline on its own hot auction, same database, pool of 20, same clients.
  // Runs last, and is excluded from the worker counts above since it writes bids itself.
  const rowLockAuction = await createAuction('row-lock');
  const rowNext = new Array<number>(CLIENTS).fill(100);
  const rowLock = await drive('(2) row-lock placeBid (pg, SELECT ... FOR UPDATE), one hot auction', CLIENTS, SECONDS, async (c) => {
    const o = await rowLockBid(pool, rowLockAuction, bidders[c]!.id, rowNext[c]!);
    if (o.kind === 'accepted' || o.kind === 'too_low') rowNext[c] = o.next;
    return o;
  });
  printRun(rowLock, 'direct function call over pg: excludes HTTP/GraphQL overhead, which favours the baseline');

  // Ratios for the hot auction.
  const hotS = summarize(hotWatch.result);
  const ceilS = summarize(ceiling);
  const rowS = summarize(rowLock);
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const vsCeiling = hotS.requestsPerSec / ceilS.requestsPerSec;
  const vsRowLock = hotS.acceptedPerSec / rowS.acceptedPerSec;
  console.log('\n== ratios (hot auction)');
  console.log(`   placeBid / ceiling  : ${fmt(vsCeiling, 2)}x requests/s   [target >= 0.5x: ${mark(vsCeiling >= 0.5)}]`);
  console.log(`   placeBid / row-lock : ${fmt(vsRowLock, 2)}x accepted bids/s   [target >= 3x: ${mark(vsRowLock >= 3)}]`);
  console.log(`   (requests/s of placeBid vs row-lock: ${fmt(hotS.requestsPerSec / rowS.requestsPerSec, 2)}x)`);
  console.log('');
}

main().then(
  // Explicit exit: the Prisma WASM engine keeps a timer alive after the client is closed.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
