import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../src/adapters/postgres/database.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';

const MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations');

export interface ScratchPglite {
  db: PrismaClient;
  /** Closes the database and deletes its folder. */
  remove(): Promise<void>;
}

/** A migrated embedded database of its own, in a temporary folder named after `name`. */
export async function scratchPglite(name: string): Promise<ScratchPglite> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `${name}-`));
  const database = await openDatabase({ dataDir, migrationsDir: MIGRATIONS, logger: pino({ level: 'silent' }) });
  await database.migrate();
  return {
    db: database.prisma,
    async remove() {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
