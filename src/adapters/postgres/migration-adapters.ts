import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { PgConnectionConfig } from './connection.js';

/**
 * What the schema engine connects through, plus the cleanup the engine cannot be trusted with:
 * `close()` ends the connections opened for the engine and drops any shadow database left behind.
 */
export interface MigrationConnection {
  readonly factory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

/**
 * Migration connection over an open PGlite; shadow databases are fresh in-memory PGlite instances.
 * The published adapter's shadow is never closed, and its executeScript does not await the script,
 * so a failing migration would be recorded as applied and its error left unhandled.
 */
export function pgliteMigrationConnection(client: PGlite): MigrationConnection {
  const shadows = new Set<PGlite>();
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: 'pglite-prisma-adapter',
    connect: async () => {
      const adapter = await new PrismaPGlite(client).connect();
      return withOverrides(adapter, { executeScript: (script) => execOnPglite(client, script) });
    },
    connectToShadowDb: async () => {
      const shadow = await PGlite.create();
      shadows.add(shadow);
      const adapter = await new PrismaPGlite(shadow).connect();
      return withOverrides(adapter, {
        executeScript: (script) => execOnPglite(shadow, script),
        dispose: async () => {
          shadows.delete(shadow);
          await shadow.close();
        },
      });
    },
  };
  return {
    factory,
    close: async () => {
      await Promise.all([...shadows].map((shadow) => shadow.close()));
      shadows.clear();
    },
  };
}

/**
 * Migration connection to a real Postgres server. The engine gets a single session, as the native
 * engine has: its advisory lock is then held, and released, together with that session. Shadow
 * databases are created beside the target and dropped once their pool has ended (Postgres refuses to
 * drop a database someone is connected to, which the published adapter's shadow does).
 */
export function postgresMigrationConnection(config: PgConnectionConfig): MigrationConnection {
  const pool = enginePool(config, config.database);
  const shadows = new Map<string, pg.Pool>();

  const dropShadow = async (database: string): Promise<void> => {
    const shadowPool = shadows.get(database);
    shadows.delete(database);
    await shadowPool?.end();
    await adminQuery(config, `DROP DATABASE IF EXISTS "${database}"`);
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => pgAdapter(pool),
    connectToShadowDb: async () => {
      const database = `prisma_migrate_shadow_db_${randomUUID()}`;
      await adminQuery(config, `CREATE DATABASE "${database}"`);
      const shadowPool = enginePool(config, database);
      shadows.set(database, shadowPool);
      return withOverrides(await pgAdapter(shadowPool), { dispose: () => dropShadow(database) });
    },
  };
  return {
    factory,
    close: async () => {
      await Promise.all([...shadows.keys()].map(dropShadow));
      await pool.end();
    },
  };
}

/** A migration connection to an in-memory PGlite of its own, gone once closed. */
export async function scratchPgliteMigrationConnection(): Promise<MigrationConnection> {
  const client = await PGlite.create();
  const connection = pgliteMigrationConnection(client);
  return {
    factory: connection.factory,
    close: async () => {
      await connection.close();
      await client.close();
    },
  };
}

/** A migration connection to a database created for it on the server, and dropped once closed. */
export async function scratchPostgresMigrationConnection(config: PgConnectionConfig): Promise<MigrationConnection> {
  const database = `prisma_migrate_scratch_${randomUUID()}`;
  await adminQuery(config, `CREATE DATABASE "${database}"`);
  const connection = postgresMigrationConnection({ ...config, database });
  return {
    factory: connection.factory,
    close: async () => {
      await connection.close();
      await adminQuery(config, `DROP DATABASE IF EXISTS "${database}"`);
    },
  };
}

async function pgAdapter(pool: pg.Pool): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaPg(pool).connect();
  // adapter-pg splits scripts on every ';' (string literals and function bodies included) and runs
  // the pieces one by one. One simple-protocol query runs the script whole and atomically, as the
  // native engine does; with no parameters, executeRaw sends exactly that.
  return withOverrides(adapter, {
    executeScript: async (script) => {
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    },
    // The pool belongs to the migration connection, which ends it in close().
    dispose: async () => undefined,
  });
}

function enginePool(config: PgConnectionConfig, database: string): pg.Pool {
  const pool = new pg.Pool({ ...config, database, max: 1, idleTimeoutMillis: 0, Client: CatalogReadingClient });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

async function adminQuery(config: PgConnectionConfig, sql: string): Promise<void> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * The catalog tables the engine describes use Postgres' one-byte "char" type (OID 18, e.g.
 * pg_constraint.contype), which adapter-pg refuses to decode. Its text form is the value itself, so
 * this client reports such columns as text.
 */
class CatalogReadingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const query = super.query as unknown as (...queryArgs: unknown[]) => unknown;
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => callback(error, relabelChar(result));
      return query.apply(this, args) as never;
    }
    const result = query.apply(this, args);
    return (result instanceof Promise ? result.then(relabelChar) : result) as never;
  }
}

function relabelChar<T>(result: T): T {
  for (const one of Array.isArray(result) ? result : [result]) {
    for (const field of (one as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

async function execOnPglite(client: PGlite, script: string): Promise<void> {
  try {
    await client.exec(script);
  } catch (error) {
    throw asDriverAdapterError(error);
  }
}

// The engine only reads a database error's details from a DriverAdapterError; anything else
// reaches it as an opaque "GenericJs" error.
function asDriverAdapterError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  type PostgresFields = Partial<Record<'code' | 'severity' | 'detail' | 'column' | 'hint', string>>;
  const { code, severity, detail, column, hint } = error as Error & PostgresFields;
  if (typeof code !== 'string' || typeof severity !== 'string') return error;
  return new DriverAdapterError({
    kind: 'postgres',
    code,
    severity,
    message: error.message,
    detail,
    column,
    hint,
  });
}

type Overrides = Partial<Pick<SqlDriverAdapter, 'executeScript' | 'dispose'>>;

function withOverrides(adapter: SqlDriverAdapter, overrides: Overrides): SqlDriverAdapter {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => adapter.queryRaw(query),
    executeRaw: (query) => adapter.executeRaw(query),
    startTransaction: (isolationLevel) => adapter.startTransaction(isolationLevel),
    getConnectionInfo: () => adapter.getConnectionInfo?.() ?? { supportsRelationJoins: true },
    executeScript: overrides.executeScript ?? ((script) => adapter.executeScript(script)),
    dispose: overrides.dispose ?? (() => adapter.dispose()),
  };
}
