import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startApp, type App, type Role } from '../../src/app.js';
import type { Clock } from '../../src/ports/clock.js';
import { describe } from 'vitest';
import { createScratchDatabase, servicesOrSkip } from './services.js';

export type TestTarget = 'embedded' | 'services';

export interface TestApp extends App {
  url: string;
  wsUrl: string;
  target: TestTarget;
  env: Record<string, string>;
  close(): Promise<void>;
}

export const testTarget = (): TestTarget => (process.env.TEST_TARGET === 'services' ? 'services' : 'embedded');

/**
 * What points a server at the "services" target: a new scratch database, and a bid topic, consumer
 * groups and Redis keys named after `scope`, since apps of other test files share the broker and
 * Redis. `drop` removes the database.
 */
export async function servicesEnv(scope: string): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const services = servicesOrSkip();
  if (!services.available) throw new Error(`the services suite needs its services: ${services.reason}`);
  const database = await createScratchDatabase(services.databaseUrl);
  const name = scope.replace(/[^a-zA-Z0-9]/g, '');
  return {
    env: {
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${name}:`,
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      KAFKA_BID_TOPIC: `bid-events-${name}`,
      KAFKA_GROUP_PREFIX: `${name}-`,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_MS: '300',
      KAFKA_MAX_WAIT_MS: '20',
    },
    drop: () => database.drop(),
  };
}

/**
 * Starts the whole server on a random port against the suite's target: PGlite and in-process
 * stand-ins ("embedded"), or the real Postgres, Redis and Kafka-protocol broker ("services").
 */
export async function startTestApp(
  options: { env?: Record<string, string>; roles?: Role[]; clock?: Clock; logs?: DestinationStream } = {},
): Promise<TestApp> {
  const target = testTarget();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'auction-test-'));
  const cleanups: Array<() => Promise<void>> = [() => rm(dataDir, { recursive: true, force: true })];
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_FORMAT: 'json',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-signing',
    // Every test signs its users up from 127.0.0.1; the suites that test the limit set their own.
    SIGN_UP_ATTEMPTS_PER_IP: '100000',
  };
  if (target === 'services') {
    const services = await servicesEnv(path.basename(dataDir));
    cleanups.push(() => services.drop());
    Object.assign(env, services.env);
  }
  Object.assign(env, options.env);
  // The production logger, redaction included; `logs` lets a test read what it writes.
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'silent', format: 'json' }, options.logs);
  const app = await startApp(loadConfig(env, false), logger, {
    roles: new Set(options.roles ?? ['gateway', 'workers']),
    clock: options.clock,
  });
  const url = app.url!;
  return {
    ...app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    target,
    env,
    async close() {
      await app.stop();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

/**
 * `describe` for suites that start the app: on the "services" target without its services (only
 * possible outside CI, where global setup fails the run instead) the suite is skipped, saying why.
 */
export function describeApp(name: string, body: () => void): void {
  const services = testTarget() === 'services' ? servicesOrSkip() : undefined;
  if (services && !services.available) describe.skip(`${name} (skipped: ${services.reason})`, body);
  else describe(name, body);
}
