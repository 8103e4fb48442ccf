// Applies pending migrations to DATABASE_URL, or to the embedded PGlite under DATA_DIR when unset:
// `npm run db:migrate`. Exits 0 when the database is up to date, 1 otherwise.
import { openDatabase } from '../src/adapters/postgres/database.js';
import { loadDotEnv } from '../src/config/env-file.js';
import { createLogger } from '../src/logger.js';

loadDotEnv();

const logger = createLogger({
  level: process.env.LOG_LEVEL ?? 'info',
  format: process.env.LOG_FORMAT === 'json' || !process.stdout.isTTY ? 'json' : 'pretty',
});

async function main(): Promise<void> {
  const db = await openDatabase({
    url: process.env.DATABASE_URL || undefined,
    dataDir: process.env.DATA_DIR ?? './.data',
    migrationsDir: process.env.MIGRATIONS_DIR ?? 'prisma/migrations',
    logger,
  });
  try {
    const applied = await db.migrate();
    if (applied.length === 0) logger.info({ database: db.kind }, 'no pending migrations');
    else logger.info({ database: db.kind, migrations: applied }, 'applied migrations');
  } finally {
    await db.close();
  }
}

// Exit explicitly: the migration engine leaves a timer behind that would hold the process ~10 s.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    logger.error({ err: error }, 'migrating the database failed');
    process.exit(1);
  },
);
