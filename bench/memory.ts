// Memory benchmark: how many bytes of Redis one auction's price book costs, without bids and with
// ten. It loads N books (default 1,000,000) through the real Redis price book's `load` into a
// scratch key prefix, then places ten bids on each auction of a sample through the real bid
// decision (services/bids/place-bid.ts, acceptBid: validation, the price book's script, the bid
// finisher) and reports them persisted as the bid worker does (markPersisted, a batch at a time).
// Each stage is measured twice: INFO memory's used_memory before and after (the whole server), and
// MEMORY USAGE on a sample of the books (the book's own key); and compared with the targets.
//
// Usage: npm run bench:memory -- [--books 1000000] [--bid-sample 10000] [--usage-sample 1000] [--concurrency 512]
//   or:  node --import @swc-node/register/esm-register bench/memory.ts [flags]
//
// Needs Redis on 127.0.0.1:6379 (BENCH_REDIS_URL); about 250 MB of it for a million books. Every
// key it writes is under its own prefix and removed at the end, also after an error or Ctrl-C.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRedisPriceBook } from '../src/adapters/redis/redis-price-book.js';
import { createMemoryBidLog } from '../src/adapters/memory/memory-bid-log.js';
import { createBidFinisher } from '../src/services/bids/bid-finisher.js';
import { acceptBid } from '../src/services/bids/place-bid.js';
import { freshBookEntry } from '../src/services/bids/book-entry.js';
import { minimumNextBid } from '../src/domain/increments.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import type { BidPlacedMessage } from '../src/ports/bid-log.js';
import type { PersistedEntry } from '../src/ports/price-book.js';
import type { UseCaseMetrics } from '../src/ports/metrics.js';
import { BENCH_REDIS_URL, deleteRedisKeys } from './support/scratch.js';

const REDIS_URL = BENCH_REDIS_URL;
const TARGETS = { withoutBids: 250, withTenBids: 1_024 };
const BIDS_PER_AUCTION = 10;
/** What the bid worker reports per call: one batch of the log. */
const PERSIST_BATCH = 100;
/** Auctions bid on before their bids are reported persisted. */
const CHUNK = 200;

const { values: flags } = parseArgs({
  options: {
    books: { type: 'string', default: '1000000' },
    'bid-sample': { type: 'string', default: '10000' },
    'usage-sample': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '512' },
  },
});
const BOOKS = Number(flags.books);
const BID_SAMPLE = Math.min(Number(flags['bid-sample']), BOOKS);
const USAGE_SAMPLE = Math.min(Number(flags['usage-sample']), BID_SAMPLE);
const CONCURRENCY = Number(flags.concurrency);

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const silent = pino({ level: 'silent' });
const HOUR = 3_600_000;

// The bid decision reads Postgres only to rebuild a missing book or answer a persisted retry; here
// every book is loaded and every key new, so it must never ask.
const noDatabase = new Proxy({} as PrismaClient, {
  get: (_target, property) => {
    throw new Error(`Postgres was asked for ${String(property)}`);
  },
});
const metrics: UseCaseMetrics = { bidAccepted: () => {}, bidRefused: () => {}, outbidSms: () => {}, bidDeadLettered: () => {}, auctionClosed: () => {} };

/** Runs `task` for 0..count-1 with at most `concurrency` in flight, drawing a progress line. */
async function inFlight(label: string, count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  let done = 0;
  const progress = setInterval(() => {
    if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K   ${label}: ${fmt(done)} / ${fmt(count)}`);
  }, 500);
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const i = next++;
          await task(i);
          done++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${process.stdout.isTTY ? '\r\x1b[K' : ''}   ${label}: ${fmt(count)} in ${fmt(seconds, 1)} s (${fmt(count / seconds)}/s)\n`);
  return seconds;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  if (process.env.BENCH_MEMORY_DEBUG) console.log(info.split('\n').filter((l) => /^(used_memory|used_memory_overhead|used_memory_dataset|mem_clients_normal|used_memory_scripts):/.test(l)).join(' '));
  return Number(/^used_memory:(\d+)/m.exec(info)![1]);
}

/** MEMORY USAGE of each key (its whole value, SAMPLES 0), with the mean, median and largest. */
async function memoryUsage(redis: Redis, keys: string[]) {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const sizes = ((await pipeline.exec()) ?? []).map(([error, size]) => {
    if (error) throw error;
    return Number(size);
  });
  const sorted = [...sizes].sort((a, b) => a - b);
  return { keys: sizes.length, mean: sizes.reduce((a, b) => a + b, 0) / sizes.length, p50: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let count = 0;
  for await (const keys of redis.scanStream({ match: pattern, count: 1_000 })) count += (keys as string[]).length;
  return count;
}

async function main(): Promise<void> {
  // Short, as a deployment's prefix is: a key's name is part of what it costs.
  const prefix = `bm${randomBytes(2).toString('hex')}:`;
  let cleaned: Promise<number> | undefined;
  const cleanup = () => (cleaned ??= deleteRedisKeys(REDIS_URL, prefix));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  // Auto-pipelining: thousands of scripts in flight share round trips, as busy gateways' do.
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const book = createRedisPriceBook({ redis, keyPrefix: prefix });
  const bidLog = createMemoryBidLog();
  const bidFinisher = createBidFinisher({ bidLog, logger: silent });
  const startedAt = new Date();
  try {
    const server = await redis.info('server');
    const config = Object.fromEntries(
      await Promise.all(['hash-max-listpack-entries', 'hash-max-listpack-value', 'maxmemory-policy'].map(async (name) => [name, (await redis.config('GET', name))[1]])),
    );
    const version = /^redis_version:(.+)$/m.exec(server)?.[1]?.trim();
    console.log(`price book memory benchmark: ${fmt(BOOKS)} books, ten bids on ${fmt(BID_SAMPLE)} of them; Redis ${version} at ${REDIS_URL}, prefix ${prefix}`);
    console.log(`   ${Object.entries(config).map(([k, v]) => `${k} ${v}`).join(', ')}`);

    // Auctions as sellers create them: a week or so long, ends to the millisecond, some with a
    // soft-close window, some with a reserve, none yet bid on.
    const now = Date.now();
    const auctionIds: string[] = Array.from({ length: BOOKS }, () => randomUUID());
    const entryOf = (i: number) => {
      const endsAt = new Date(now + HOUR + Math.floor(Math.random() * 10 * 24 * HOUR));
      return freshBookEntry({
        id: auctionIds[i]!,
        sellerId: randomUUID(),
        state: 'OPEN',
        startsAt: new Date(now - HOUR),
        endsAt,
        scheduledEndsAt: endsAt,
        softCloseSeconds: i % 2 === 0 ? 120 : 0,
        startingPrice: 1_00 + Math.floor(Math.random() * 500_00),
        reservePrice: i % 4 === 0 ? 1_000_00 : null,
        buyNowPrice: null,
      });
    };
    const bookKey = (auctionId: string) => `${prefix}auction:{${auctionId}}`;

    const before = await usedMemory(redis);
    const loadSeconds = await inFlight('loading books', BOOKS, CONCURRENCY, async (i) => {
      if (!(await book.load(entryOf(i)))) throw new Error(`book ${auctionIds[i]} was already loaded`);
    });
    const afterLoad = await usedMemory(redis);
    const sample = auctionIds.slice(0, BID_SAMPLE);
    const usageSample = sample.slice(0, USAGE_SAMPLE);
    const bare = await memoryUsage(redis, usageSample.map(bookKey));
    const withoutBids = { usedMemoryPerBook: (afterLoad - before) / BOOKS, memoryUsage: bare };

    // Ten bids on each sampled auction, from ten bidders, each at the minimum next bid; reported
    // persisted a chunk at a time, as the bid worker does a little behind the bids. (Holding every
    // sampled bid unpersisted at once would grow Redis's key tables past a power of two, a cost
    // that stays after the keys are gone and that no steady state pays.)
    const live = await book.peek(sample);
    const deps = { db: noDatabase, logger: silent, priceBook: book, bidLog, bidFinisher, metrics };
    const chunk = Math.min(CHUNK, BID_SAMPLE);
    const chunks = Math.ceil(BID_SAMPLE / chunk);
    let unpersisted: { book: number; messages: number; recentBids: number } | undefined;
    const bidSeconds = await inFlight('placing bids, a chunk at a time', chunks, 1, async (c) => {
      const auctions = sample.slice(c * chunk, (c + 1) * chunk);
      const accepted: BidPlacedMessage[] = [];
      await Promise.all(
        auctions.map(async (auctionId) => {
          const price = { startingPrice: live.get(auctionId)!.currentPrice, currentPrice: 0, bidCount: 0 };
          for (let n = 0; n < BIDS_PER_AUCTION; n++) {
            const amount = minimumNextBid(price);
            const { message } = await acceptBid(deps, { id: randomUUID() }, { auctionId, amount, idempotencyKey: randomUUID() });
            accepted.push(message);
            Object.assign(price, { currentPrice: amount, bidCount: price.bidCount + 1 });
          }
        }),
      );
      if (c === 0) {
        // What an auction's ten bids cost while the persister does not have them yet.
        const sampled = auctions.slice(0, USAGE_SAMPLE);
        const ids = accepted.filter((m) => sampled.includes(m.auctionId)).map((m) => m.id);
        unpersisted = {
          book: (await memoryUsage(redis, sampled.map(bookKey))).mean,
          messages: (await memoryUsage(redis, sampled.map((id) => `${bookKey(id)}:m`))).mean,
          recentBids: ((await memoryUsage(redis, ids.map((id) => `${prefix}bid:{${id}}`))).mean * ids.length) / sampled.length,
        };
      }
      const entries = new Map<string, PersistedEntry>();
      for (const message of accepted) {
        const entry = entries.get(message.auctionId) ?? { auctionId: message.auctionId, seq: 0, bidIds: [] };
        entry.seq = Math.max(entry.seq, message.extension?.seq ?? message.seq);
        entry.bidIds.push(message.id);
        entries.set(message.auctionId, entry);
      }
      const all = [...entries.values()];
      const perBatch = Math.max(1, Math.floor(PERSIST_BATCH / BIDS_PER_AUCTION));
      await Promise.all(Array.from({ length: Math.ceil(all.length / perBatch) }, (_, i) => book.markPersisted(all.slice(i * perBatch, (i + 1) * perBatch))));
    });
    const afterPersist = await usedMemory(redis);
    const persisted = await memoryUsage(redis, usageSample.map(bookKey));
    const leftOver = { messages: await countKeys(redis, `${prefix}auction:{*}:m`), recentBids: await countKeys(redis, `${prefix}bid:{*}`) };
    const withTenBids = {
      usedMemoryPerBook: withoutBids.usedMemoryPerBook + (afterPersist - afterLoad) / BID_SAMPLE,
      memoryUsage: persisted,
      beforePersisted: unpersisted!,
    };

    const verdict = (bytes: number, target: number) => `${fmt(bytes)} B  (target < ${fmt(target)} B: ${bytes < target ? 'met' : 'MISSED'})`;
    console.log('\n== price book memory per auction');
    console.log(`   without bids      INFO used_memory   ${verdict(withoutBids.usedMemoryPerBook, TARGETS.withoutBids)}   over ${fmt(BOOKS)} books`);
    console.log(`                     MEMORY USAGE       ${verdict(bare.mean, TARGETS.withoutBids)}   mean of ${fmt(bare.keys)}; p50 ${fmt(bare.p50)}, max ${fmt(bare.max)}`);
    console.log(`   ten bids, persisted  INFO used_memory   ${verdict(withTenBids.usedMemoryPerBook, TARGETS.withTenBids)}   over ${fmt(BID_SAMPLE)} auctions`);
    console.log(`                     MEMORY USAGE       ${verdict(persisted.mean, TARGETS.withTenBids)}   mean of ${fmt(persisted.keys)}; p50 ${fmt(persisted.p50)}, max ${fmt(persisted.max)}`);
    const held = withTenBids.beforePersisted;
    console.log(
      `   ten bids, not yet persisted: MEMORY USAGE ${fmt(held.book + held.messages + held.recentBids)} B per auction (book ${fmt(held.book)}, messages ${fmt(held.messages)}, read-your-writes copies ${fmt(held.recentBids)}), held until markPersisted`,
    );
    console.log(`   left after markPersisted: ${fmt(leftOver.messages)} message hashes, ${fmt(leftOver.recentBids)} read-your-writes copies`);
    console.log(`   load ${fmt(BOOKS / loadSeconds)} books/s, bids ${fmt((BID_SAMPLE * BIDS_PER_AUCTION) / bidSeconds)}/s (shared machine, no baseline: not a throughput figure)`);
    console.log('   INFO used_memory covers the whole server: other clients of a shared Redis move it; MEMORY USAGE counts only the book key.');

    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(`./results/memory-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
    const report = { startedAt, node: process.version, redis: { version, ...config }, flags, targets: TARGETS, usedMemory: { before, afterLoad, afterPersist }, withoutBids, withTenBids, leftOver };
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\n   results: ${file.pathname}`);
  } finally {
    await bidFinisher.close(0);
    await bidLog.close();
    redis.disconnect();
    const deleted = await cleanup();
    console.log(`   cleaned up ${fmt(deleted)} keys`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
