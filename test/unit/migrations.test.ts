import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidDatabaseUrlError, parseDatabaseUrl } from '../../src/adapters/postgres/connection.js';
import { openDatabase, type Database } from '../../src/adapters/postgres/database.js';
import {
  createMigration,
  MigrationError,
  scratchPgliteMigrationConnection,
  scratchPostgresMigrationConnection,
  type MigrationConnection,
} from '../../src/adapters/postgres/migrations.js';

const logger = pino({ level: 'silent' });
const MIGRATIONS_DIR = 'prisma/migrations';
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// A machine without Postgres may skip the real-Postgres half, saying why; CI must run it, so there
// an unreachable server fails those tests instead.
const postgresDown = await unreachableReason(ADMIN_URL);
const postgresSkip = postgresDown !== undefined && process.env.CI !== 'true' ? `Postgres unavailable: ${postgresDown}` : undefined;

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'migrations-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A fresh, empty database of each kind; `dispose` removes it. */
interface Target {
  kind: Database['kind'];
  skip?: string;
  open(migrationsDir: string): Promise<Database & { dispose(): Promise<void> }>;
  scratch(): Promise<MigrationConnection>;
}

const targets: Target[] = [
  {
    kind: 'pglite',
    open: async (migrationsDir) => {
      const dataDir = path.join(workDir, randomUUID());
      const db = await openDatabase({ dataDir, migrationsDir, logger });
      return Object.assign(db, { dispose: () => db.close() });
    },
    scratch: () => scratchPgliteMigrationConnection(),
  },
  {
    kind: 'postgres',
    skip: postgresSkip,
    open: async (migrationsDir) => {
      const name = `migrations_test_${randomUUID().replaceAll('-', '')}`;
      await adminQuery(`CREATE DATABASE ${name}`);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      const db = await openDatabase({ url: url.toString(), dataDir: workDir, migrationsDir, logger, poolSize: 2 });
      return Object.assign(db, {
        dispose: async () => {
          await db.close();
          await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
        },
      });
    },
    scratch: () => scratchPostgresMigrationConnection(parseDatabaseUrl(ADMIN_URL)),
  },
];

describe.each(targets)('migrations on $kind', (target) => {
  beforeEach((ctx) => {
    if (target.skip !== undefined) ctx.skip(target.skip);
  });

  it('applies the committed migrations to a fresh database, leaving none pending', async () => {
    const committed = await migrationNames(MIGRATIONS_DIR);
    expect(committed.length).toBeGreaterThan(0);
    const db = await target.open(MIGRATIONS_DIR);
    try {
      expect(db.kind).toBe(target.kind);
      await db.ping();
      expect(await db.pendingMigrations()).toEqual(committed);
      expect(await db.migrate()).toEqual(committed);
      expect(await db.pendingMigrations()).toEqual([]);
      expect(await db.migrate()).toEqual([]);
      expect(await db.prisma.user.count()).toBe(0);
    } finally {
      await db.dispose();
    }
  });

  it('throws on a migration whose SQL fails, and neither records it as applied nor keeps half of it', async () => {
    const dir = await migrationsDir({
      '20260101000000_first': 'CREATE TABLE first_table (id INT PRIMARY KEY);',
      '20260102000000_broken': 'CREATE TABLE half_done (id INT);\nSELECT missing_column FROM first_table;',
    });
    const db = await target.open(dir);
    try {
      const failure = await db.migrate().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(MigrationError);
      expect((failure as Error).message).toContain('missing_column');

      const recorded = await db.prisma.$queryRaw<{ migration_name: string; applied: boolean }[]>`
        SELECT migration_name, finished_at IS NOT NULL AS applied FROM _prisma_migrations ORDER BY migration_name`;
      expect(recorded).toEqual([
        { migration_name: '20260101000000_first', applied: true },
        { migration_name: '20260102000000_broken', applied: false },
      ]);
      const [{ exists }] = await db.prisma.$queryRaw<[{ exists: boolean }]>`
        SELECT to_regclass('half_done') IS NOT NULL AS exists`;
      expect(exists).toBe(false);
      expect(await db.pendingMigrations()).toEqual(['20260102000000_broken']);
    } finally {
      await db.dispose();
    }
  });

  it('runs a migration script whole, keeping semicolons inside literals and function bodies', async () => {
    const dir = await migrationsDir({
      '20260101000000_tricky': [
        "CREATE TABLE notes (body TEXT NOT NULL DEFAULT 'a; b');",
        'CREATE FUNCTION shout(t TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$',
        'BEGIN',
        "  RETURN upper(t) || '!';",
        'END;',
        '$$;',
      ].join('\n'),
    });
    const db = await target.open(dir);
    try {
      expect(await db.migrate()).toEqual(['20260101000000_tricky']);
      const [row] = await db.prisma.$queryRaw<[{ shouted: string }]>`SELECT shout('hi') AS shouted`;
      expect(row.shouted).toBe('HI!');
    } finally {
      await db.dispose();
    }
  });

  it('creates a migration for a schema change, and none when the schema matches', async () => {
    const dir = path.join(workDir, randomUUID());
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const committedSchema = await readFile('prisma/schema.prisma', 'utf8');
    const create = async (content: string): Promise<string | undefined> => {
      const scratch = await target.scratch();
      try {
        return await createMigration(scratch, {
          migrationsDir: dir,
          logger,
          name: 'add_watchlist',
          schema: { path: 'schema.prisma', content },
        });
      } finally {
        await scratch.close();
      }
    };

    expect(await create(committedSchema)).toBeUndefined();

    const changed = `${committedSchema}\nmodel Watch {\n  id     String @id @db.Uuid\n  userId String @map("user_id") @db.Uuid\n\n  @@map("watches")\n}\n`;
    const created = await create(changed);
    expect(created).toMatch(/^\d{14}_add_watchlist$/);
    const script = await readFile(path.join(dir, created!, 'migration.sql'), 'utf8');
    expect(script).toContain('CREATE TABLE "watches"');
    expect(script).not.toContain('CREATE TABLE "users"');
    expect(await readFile(path.join(dir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');
  }, 90_000); // on PGlite: two scratch and two shadow instances, a few seconds each
});

describe('the embedded PGlite database', () => {
  it('keeps its data directory across restarts', async () => {
    const dataDir = path.join(workDir, randomUUID());
    const first = await openDatabase({ dataDir, migrationsDir: MIGRATIONS_DIR, logger });
    try {
      await first.migrate();
      await first.prisma.user.create({
        data: { email: 'kept@example.com', passwordHash: 'x', displayName: 'Kept' },
      });
    } finally {
      await first.close();
    }
    expect(await readdir(path.join(dataDir, 'pglite'))).not.toEqual([]);

    const second = await openDatabase({ dataDir, migrationsDir: MIGRATIONS_DIR, logger });
    try {
      expect(await second.pendingMigrations()).toEqual([]);
      expect(await second.prisma.user.findUnique({ where: { email: 'kept@example.com' } })).toMatchObject({
        displayName: 'Kept',
      });
    } finally {
      await second.close();
    }
  });
});

describe('parseDatabaseUrl', () => {
  it('splits a URL into separate, decoded connection fields', () => {
    expect(
      parseDatabaseUrl('postgresql://app:p%40ss@db.internal:6543/auctions?sslmode=require&connect_timeout=3'),
    ).toEqual({
      host: 'db.internal',
      port: 6543,
      user: 'app',
      password: 'p@ss',
      database: 'auctions',
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 3_000,
    });
  });

  it('defaults the port to 5432, the database to the user name and the connect timeout to 10 s', () => {
    expect(parseDatabaseUrl('postgres://postgres@127.0.0.1')).toEqual({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 10_000,
    });
  });

  it('rejects parameters it would otherwise ignore, such as schema', () => {
    expect(() => parseDatabaseUrl('postgres://u@h/db?schema=other')).toThrow(InvalidDatabaseUrlError);
    expect(() => parseDatabaseUrl('mysql://u@h/db')).toThrow(InvalidDatabaseUrlError);
  });
});

async function migrationsDir(migrations: Record<string, string>): Promise<string> {
  const dir = path.join(workDir, randomUUID());
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(path.join(dir, name), { recursive: true });
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function migrationNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client(parseDatabaseUrl(ADMIN_URL));
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function unreachableReason(url: string): Promise<string | undefined> {
  const client = new pg.Client({ ...parseDatabaseUrl(url), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
