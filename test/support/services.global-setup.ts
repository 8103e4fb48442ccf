import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { KafkaMockUnavailableError, startKafkaMock } from './kafka-mock.js';

// Global setup of the "services" project: the integration suite against real Postgres and Redis,
// and a Kafka-protocol broker. Locally a missing service skips that suite, naming what is missing;
// in CI (CI=true) it fails the run, because a suite that silently did not run proves nothing.

export type ServicesContext =
  | { available: true; databaseUrl: string; redisUrl: string; kafkaBrokers: string[] }
  | { available: false; reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesContext;
  }
}

const CONNECT_TIMEOUT_MS = 3_000;
/** Topics the application expects; the mock cannot create them on demand. */
const TOPICS = [
  { name: 'bid-events', partitions: 8 },
  { name: 'bid-events.dlq', partitions: 1 },
];

export default async function setup({ provide }: Pick<TestProject, 'provide'>): Promise<() => Promise<void>> {
  const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

  const [postgres, redis, kafka] = await Promise.allSettled([
    checkPostgres(databaseUrl),
    checkRedis(redisUrl),
    startKafkaMock({ topics: TOPICS }),
  ]);
  // A harness that cannot start on a machine that has its toolchain is a bug to see, not an absence.
  if (kafka.status === 'rejected' && !(kafka.reason instanceof KafkaMockUnavailableError)) throw kafka.reason;
  const mock = kafka.status === 'fulfilled' ? kafka.value : undefined;
  const teardown = async () => {
    await mock?.stop();
  };

  const missing = [
    describeFailure(`Postgres at ${redactPassword(databaseUrl)}`, postgres),
    describeFailure(`Redis at ${redactPassword(redisUrl)}`, redis),
    describeFailure('Kafka mock', kafka),
  ].filter((line) => line !== undefined);

  if (missing.length === 0 && mock) {
    provide('services', { available: true, databaseUrl, redisUrl, kafkaBrokers: mock.brokers });
    return teardown;
  }

  const reason = `missing ${missing.join('; ')}`;
  await teardown();
  if (process.env.CI === 'true') throw new Error(`services suite cannot run: ${reason}`);
  process.stderr.write(`[services] ${reason}: the services integration suite is skipped\n`);
  provide('services', { available: false, reason });
  return async () => {};
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A refused connection also surfaces as an 'error' event; without a listener it would crash the run.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Probe once: the default would keep reconnecting and hold the setup open.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // ioredis rejects connect() with a bare "Connection is closed."; the cause arrives as an event.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect().catch((error: unknown) => {
      throw cause ?? error;
    });
    const reply = await redis.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
  } finally {
    redis.disconnect();
  }
}

function describeFailure(service: string, result: PromiseSettledResult<unknown>): string | undefined {
  if (result.status === 'fulfilled') return undefined;
  const error: unknown = result.reason;
  const message = error instanceof Error ? error.message || error.name : String(error);
  return `${service} (${message})`;
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}
