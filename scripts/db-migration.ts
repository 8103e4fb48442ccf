// Creates prisma/migrations/<timestamp>_<name>/migration.sql from the difference between the
// migrations so far and prisma/schema.prisma: `npm run db:migration -- <name>`. The migrations are
// replayed on scratch and shadow databases: created beside DATABASE_URL when set (the database it
// names is left untouched), else in-memory PGlite instances.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDatabaseUrl } from '../src/adapters/postgres/connection.js';
import {
  createMigration,
  scratchPgliteMigrationConnection,
  scratchPostgresMigrationConnection,
} from '../src/adapters/postgres/migrations.js';
import { loadDotEnv } from '../src/config/env-file.js';
import { createLogger } from '../src/logger.js';

loadDotEnv();

const SCHEMA_PATH = 'prisma/schema.prisma';

const logger = createLogger({
  level: process.env.LOG_LEVEL ?? 'info',
  format: process.env.LOG_FORMAT === 'json' || !process.stdout.isTTY ? 'json' : 'pretty',
});

class UsageError extends Error {
  override name = 'UsageError';
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[A-Za-z0-9_]+$/.test(name)) {
    throw new UsageError('usage: npm run db:migration -- <name>   (letters, digits and _ only)');
  }
  const migrationsDir = process.env.MIGRATIONS_DIR ?? 'prisma/migrations';
  const schema = { path: SCHEMA_PATH, content: await readFile(SCHEMA_PATH, 'utf8') };

  const url = process.env.DATABASE_URL;
  const scratch = url
    ? await scratchPostgresMigrationConnection(parseDatabaseUrl(url))
    : await scratchPgliteMigrationConnection();
  try {
    const created = await createMigration(scratch, { migrationsDir, schema, name, logger });
    if (created === undefined) logger.info('no changes: the migrations already match the schema');
    else logger.info({ file: path.join(migrationsDir, created, 'migration.sql') }, 'created migration');
  } finally {
    await scratch.close();
  }
}

// Exit explicitly: the migration engine leaves a timer behind that would hold the process ~10 s.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) logger.error(error.message);
    else logger.error({ err: error }, 'creating the migration failed');
    process.exit(1);
  },
);
