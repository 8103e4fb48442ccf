import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { Logger } from 'pino';
import type { MigrationConnection } from './migration-adapters.js';
import { withSchemaEngine, type SchemaEngine, type SchemaFile } from './schema-engine.js';

export {
  pgliteMigrationConnection,
  postgresMigrationConnection,
  scratchPgliteMigrationConnection,
  scratchPostgresMigrationConnection,
  type MigrationConnection,
} from './migration-adapters.js';

/** A migration command failed; `cause` holds the engine's error, whose message names the migration. */
export class MigrationError extends Error {
  constructor(
    readonly operation: 'apply' | 'status' | 'create',
    cause: unknown,
  ) {
    super(`Migration ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MigrationError';
  }
}

export interface MigrationsOptions {
  migrationsDir: string;
  logger: Logger;
}

const LOCKFILE = 'migration_lock.toml';
const MIGRATION_FILE = 'migration.sql';
const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

// Each command takes a MigrationConnection and leaves it open: whoever opened it closes it.

/** Applies every pending migration, as `prisma migrate deploy` does; returns the names applied. */
export async function applyMigrations(connection: MigrationConnection, options: MigrationsOptions): Promise<string[]> {
  const migrationsList = await readMigrations(options.migrationsDir);
  const { appliedMigrationNames } = await run('apply', connection, options.logger, undefined, (engine) =>
    engine.applyMigrations({ migrationsList, filters: NO_FILTER }),
  );
  return appliedMigrationNames;
}

/** A row of Prisma's `_prisma_migrations` history table. */
export interface AppliedMigration {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * The migrations on disk that `history` does not show as applied, failed ones included: what
 * diagnoseMigrationHistory reports as unapplied, read from the history table alone, so checking an
 * up-to-date database needs neither the migration engine nor its start-up time.
 */
export async function unappliedMigrations(
  history: readonly AppliedMigration[],
  options: MigrationsOptions,
): Promise<string[]> {
  const { migrationDirectories } = await readMigrations(options.migrationsDir);
  const applied = new Map<string, AppliedMigration>();
  const failed = new Set<string>();
  for (const row of history) {
    if (row.rolled_back_at) continue;
    if (row.finished_at) applied.set(row.migration_name, row);
    else failed.add(row.migration_name);
  }
  const edited: string[] = [];
  const pending = new Set(failed);
  for (const { path: name, migrationFile } of migrationDirectories) {
    const row = applied.get(name);
    if (!row) pending.add(name);
    else if (migrationFile.content.tag === 'ok' && row.checksum !== sha256(migrationFile.content.value)) edited.push(name);
  }
  if (edited.length > 0) options.logger.warn({ migrations: edited }, 'applied migrations were edited after being applied');
  return [...pending].sort();
}

// Prisma's checksum of a migration script: SHA-256 of its bytes, in hex.
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface CreateMigrationOptions extends MigrationsOptions {
  schema: SchemaFile;
  /** The user's part of the directory name: `<timestamp>_<name>`. */
  name: string;
}

/**
 * Writes a migration taking the migrations so far to `schema`, as `prisma migrate dev --create-only`
 * does. `scratch` must reach a throwaway database: the migrations so far are applied to it. Returns
 * the new directory's name, or undefined when the schema matches the migrations already.
 */
export async function createMigration(
  scratch: MigrationConnection,
  options: CreateMigrationOptions,
): Promise<string | undefined> {
  const migrationsList = await readMigrations(options.migrationsDir);
  const created = await run('create', scratch, options.logger, options.schema, async (engine) => {
    // The WebAssembly engine cannot replay migrations inside createMigration: it takes their schema
    // from a cache that devDiagnostic fills by replaying, on a shadow database, the migrations the
    // target has applied. Hence a scratch target with every migration applied, as `migrate dev` has.
    await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    const { action } = await engine.devDiagnostic({ migrationsList, filters: NO_FILTER });
    if (action.tag === 'reset') throw new Error(`the migrations do not replay cleanly: ${action.reason}`);
    return engine.createMigration({
      draft: false,
      migrationName: options.name,
      migrationsList,
      schema: { files: [options.schema] },
      filters: NO_FILTER,
    });
  });
  if (created.migrationScript === null) return undefined;

  const dir = path.join(migrationsList.baseDir, created.generatedMigrationName);
  await mkdir(dir); // never over an existing migration
  await writeFile(path.join(dir, `migration.${created.extension}`), created.migrationScript, 'utf8');
  await writeFile(
    path.join(migrationsList.baseDir, LOCKFILE),
    '# Please do not edit this file manually\n' +
      '# It should be added in your version-control system (e.g., Git)\n' +
      `provider = "${created.connectorType}"\n`,
    'utf8',
  );
  return created.generatedMigrationName;
}

async function run<T>(
  operation: MigrationError['operation'],
  connection: MigrationConnection,
  logger: Logger,
  schema: SchemaFile | undefined,
  command: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  try {
    return await withSchemaEngine(connection.factory, logger, schema, command);
  } catch (error) {
    throw new MigrationError(operation, error);
  }
}

/** Reads the migrations directory the way the Prisma CLI does, for the engine to checksum and apply. */
export async function readMigrations(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const lockfile = await readFile(path.join(baseDir, LOCKFILE), 'utf8').catch(() => null);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const migrationDirectories = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort((a, b) => a.localeCompare(b))
      .map(async (name) => ({
        path: name,
        migrationFile: {
          path: MIGRATION_FILE,
          // A missing or unreadable script is the engine's to report, with the migration's name.
          content: await readFile(path.join(baseDir, name, MIGRATION_FILE), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
  );
  return { baseDir, lockfile: { path: LOCKFILE, content: lockfile }, shadowDbInitScript: '', migrationDirectories };
}
