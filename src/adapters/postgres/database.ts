import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Logger } from 'pino';
import { PrismaClient } from '../../generated/prisma/client.js';
import type { Config } from '../../config/config.js';
import { reaching } from '../unreachable.js';
import { parseDatabaseUrl } from './connection.js';
import {
  applyMigrations,
  unappliedMigrations,
  type AppliedMigration,
  pgliteMigrationConnection,
  postgresMigrationConnection,
  type MigrationConnection,
} from './migrations.js';

export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: 'postgres' | 'pglite';
  /** Resolves once the database answers a query; throws DatabaseUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Names of the migrations in migrationsDir the database has not applied (empty when up to date). */
  pendingMigrations(): Promise<string[]>;
  /** Applies the pending migrations with Prisma's migration engine; returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL; without one, an embedded PGlite keeps its files under dataDir. */
  url?: string;
  dataDir: string;
  migrationsDir: string;
  logger: Logger;
  /** Connections in the pool Prisma Client uses; real Postgres only. */
  poolSize?: number;
}

/** The database did not answer; `cause` says why. */
export class DatabaseUnavailableError extends Error {
  constructor(kind: Database['kind'], cause: unknown) {
    super(`The ${kind} database is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * Opens the database the configuration names, as every entry point does: a real one must answer
 * at once, or the failure names DATABASE_URL; the embedded one is opened on demand.
 */
export async function openConfiguredDatabase(config: Pick<Config, 'database' | 'dataDir'>, logger: Logger): Promise<Database> {
  const db = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    migrationsDir: config.database.migrationsDir,
    poolSize: config.database.poolSize,
    logger: logger.child({ component: 'database' }),
  });
  // Prisma connects lazily: without this, an unreachable database would only show at the first query.
  const { url } = config.database;
  if (url) await reaching('Postgres', 'DATABASE_URL', url, () => db.ping()).catch(async (error: unknown) => {
    await db.close().catch(() => undefined);
    throw error;
  });
  return db;
}

/** Opens real Postgres when `url` is set, else the embedded PGlite in `${dataDir}/pglite`. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const config = parseDatabaseUrl(url);
  const logger = options.logger.child({ database: 'postgres' });
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
  // Without a listener, a server closing an idle connection would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle Postgres connection failed'));
  return assemble('postgres', options, logger, {
    adapter: new PrismaPg(pool),
    migrationConnection: () => postgresMigrationConnection(config),
    closeDriver: () => pool.end(),
  });
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const logger = options.logger.child({ database: 'pglite' });
  const dataDir = path.resolve(options.dataDir, 'pglite');
  await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  logger.debug({ dataDir }, 'embedded PGlite open');
  return assemble('pglite', options, logger, {
    adapter: new PrismaPGlite(client),
    migrationConnection: () => pgliteMigrationConnection(client),
    closeDriver: () => client.close(),
  });
}

interface Driver {
  adapter: SqlDriverAdapterFactory;
  migrationConnection(): MigrationConnection;
  closeDriver(): Promise<void>;
}

function assemble(kind: Database['kind'], options: DatabaseOptions, logger: Logger, driver: Driver): Database {
  const prisma = new PrismaClient({ adapter: driver.adapter });
  const migrationOptions = { migrationsDir: options.migrationsDir, logger };

  const withMigrationConnection = async <T>(use: (connection: MigrationConnection) => Promise<T>): Promise<T> => {
    const connection = driver.migrationConnection();
    try {
      return await use(connection);
    } finally {
      await connection.close();
    }
  };

  const pendingMigrations = async (): Promise<string[]> => {
    const [{ exists }] = await prisma.$queryRaw<[{ exists: boolean }]>`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS "exists"`;
    const history = exists
      ? await prisma.$queryRaw<AppliedMigration[]>`SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations`
      : [];
    return unappliedMigrations(history, migrationOptions);
  };

  return {
    prisma,
    kind,
    ping: async () => {
      try {
        await prisma.$queryRaw`SELECT 1`;
      } catch (error) {
        throw new DatabaseUnavailableError(kind, error);
      }
    },
    pendingMigrations,
    // The engine takes a while to load: an up-to-date database never starts it.
    migrate: async () =>
      (await pendingMigrations()).length === 0 ? [] : withMigrationConnection((connection) => applyMigrations(connection, migrationOptions)),
    close: async () => {
      await prisma.$disconnect();
      await driver.closeDriver();
    },
  };
}
