import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/database.js';
import { startTestApp, testTarget, type TestApp } from '../support/app.js';
import { ok, request } from '../support/client.js';
import { connect, subscribe } from '../support/ws-client.js';
import { OutbidDocument, SignUpDocument } from '../generated/graphql.js';

// Only real Postgres can be left unmigrated: the embedded database is always migrated at start.
describe.skipIf(testTarget() !== 'services')('a gateway on a database that is not migrated', () => {
  let app: TestApp;
  const signUp = (email: string) => ({ input: { email, password: 'correct horse battery', displayName: 'Ada' } });

  beforeAll(async () => {
    app = await startTestApp({ env: { MIGRATE_ON_START: 'false' }, roles: ['gateway'] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('fails /readyz saying which migrations are pending and to run npm run db:migrate', async () => {
    const response = await fetch(new URL('/readyz', app.url));
    expect(response.status).toBe(503);
    const body = (await response.json()) as { reason: string };
    expect(body.reason).toMatch(/pending migrations: \d+_init.*run `npm run db:migrate`/);
  });

  it('answers every operation UNAVAILABLE with what to run, over HTTP and WebSocket, and changes nothing', async () => {
    const result = await request(app.url, SignUpDocument, signUp('early@example.com'));
    expect(result.status).toBe(503);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    expect(result.errors?.[0]?.message).toMatch(/not migrated .*run `npm run db:migrate`/);

    const client = await connect(app.wsUrl);
    try {
      const outbid = subscribe(client, OutbidDocument);
      await outbid.ended();
      expect(outbid.errors[0]?.extensions?.code).toBe('UNAVAILABLE');
    } finally {
      await client.dispose();
    }
  });

  it('serves again, without a restart, once the migrations are applied beside it', async () => {
    const db = await openDatabase({ url: app.env.DATABASE_URL, dataDir: app.env.DATA_DIR!, migrationsDir: 'prisma/migrations', logger: pino({ level: 'silent' }) });
    try {
      expect(await db.migrate()).not.toEqual([]);
    } finally {
      await db.close();
    }
    await vi.waitFor(async () => expect((await fetch(new URL('/readyz', app.url))).status).toBe(200), { timeout: 15_000, interval: 200 });
    await vi.waitFor(() => ok(app.url, SignUpDocument, signUp('after@example.com')), { timeout: 15_000, interval: 200 });
    // The sign-up refused while unmigrated left nothing behind: its email is still free.
    await ok(app.url, SignUpDocument, signUp('early@example.com'));
  });
});
