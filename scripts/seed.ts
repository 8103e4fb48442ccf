// Fills the database with demo data: `npm run seed -- [--auctions N] [--users N] [--seed N]`.
// Writes to DATABASE_URL, or to the embedded PGlite under DATA_DIR (the one `npm start` uses; stop
// the server first, PGlite is one process's alone), configured exactly as the app is. Demo users
// are reused when they exist; auctions and bids are added on every run. On a real Postgres a large
// count (--auctions 1_000_000) is written mostly by Postgres itself, as the benchmarks do.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedAuctions } from '../bench/support/seed-auctions.js';
import { parseDatabaseUrl } from '../src/adapters/postgres/connection.js';
import { openConfiguredDatabase } from '../src/adapters/postgres/database.js';
import { loadDotEnv } from '../src/config/env-file.js';
import { ServiceUnreachableError } from '../src/adapters/unreachable.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { createProgress } from './seed/progress.js';
import { formatSeedReport } from './seed/report.js';
import { seedDatabase } from './seed/seed-database.js';

const USAGE = `usage: npm run seed -- [--auctions N] [--users N] [--seed N]

  --auctions N   auctions to add (default 1000); on Postgres, those beyond the first 10,000 are
                 bulk listings without bids (generated titles, ends over the next week)
  --users N      demo users to use, a quarter of them sellers; made when missing (default 20, at least 2)
  --seed N       the same N gives the same titles, prices and bid histories (default: random, printed)
`;

class UsageError extends Error {
  override name = 'UsageError';
}

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  // Underscores allowed, so --auctions 100_000 reads as it is written.
  const parsed = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed < min) throw new UsageError(`--${name} must be a whole number of at least ${min}\n\n${USAGE}`);
  return parsed;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        auctions: { type: 'string' },
        users: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const auctions = count('auctions', values.auctions, 1_000, 0);
  const users = count('users', values.users, 20, 2);
  const seed = values.seed === undefined ? undefined : count('seed', values.seed, 0, 0);

  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log);
  const startedAt = performance.now();
  const db = await openConfiguredDatabase(config, logger);
  try {
    // The same rule as the app's start-up: the embedded database is always migrated, a real one
    // only when asked; seeding a database the app would not accept would only fail half-way.
    if (config.database.migrateOnStart) {
      const applied = await db.migrate();
      if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
    } else {
      const pending = await db.pendingMigrations();
      if (pending.length > 0) {
        throw new UsageError(`the database lacks migrations (${pending.join(', ')}): run npm run db:migrate or set MIGRATE_ON_START=true`);
      }
    }
    const progress = createProgress(process.stderr, 'auctions');
    const bulk = db.kind === 'postgres' && config.database.url ? Math.max(0, auctions - DETAILED_AUCTIONS) : 0;
    const result = await seedDatabase(db.prisma, {
      auctions: auctions - bulk,
      users,
      seed,
      // PGlite answers one query at a time; a real server takes a few batches at once.
      concurrency: db.kind === 'postgres' ? Math.min(4, config.database.poolSize) : 1,
      onProgress: (done) => progress.update(done, auctions),
    })
      .then(async (seeded) => {
        if (bulk === 0) return seeded;
        const sellerIds = seeded.users.filter((u) => u.role === 'seller').map((u) => u.id);
        await bulkAuctions(config.database.url!, sellerIds, bulk, (done) => progress.update(seeded.auctions + done, auctions));
        return { ...seeded, auctions };
      })
      .finally(() => progress.stop());
    process.stdout.write(formatSeedReport(result, { graphqlUrl: `${config.http.publicUrl}/graphql`, elapsedMs: performance.now() - startedAt }));
  } finally {
    await db.close();
  }
}

// Beyond this many, each auction through the app's own writes (bid histories included) would take
// hours; the rest are inserted by INSERT ... SELECT FROM generate_series, a minute a million.
const DETAILED_AUCTIONS = 10_000;

/** Spreads `count` bulk auctions over the sellers; they start now and end over the coming week. */
async function bulkAuctions(url: string, sellerIds: string[], count: number, onProgress: (done: number) => void): Promise<void> {
  const pool = new pg.Pool({ ...parseDatabaseUrl(url), max: 1 });
  try {
    const endsAt = new Date(Date.now() + 3600_000);
    let before = 0;
    for (const [i, sellerId] of sellerIds.entries()) {
      const share = Math.floor(count / sellerIds.length) + (i < count % sellerIds.length ? 1 : 0);
      await seedAuctions(pool, { count: share, sellerId, endsAt, onProgress: (done) => onProgress(before + done) });
      before += share;
    }
  } finally {
    await pool.end();
  }
}

// Exit explicitly: the migration engine leaves a timer behind that would hold the process ~10 s.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    const expected = error instanceof UsageError || error instanceof ConfigError || error instanceof ServiceUnreachableError;
    process.stderr.write(`${expected ? (error as Error).message : ((error as Error)?.stack ?? String(error))}\n`);
    process.exit(expected ? 2 : 1);
  },
);
