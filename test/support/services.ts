import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { ServicesContext } from './services.global-setup.js';

// Helpers for integration tests that run against the real Postgres, Redis and Kafka mock that
// services.global-setup.ts checked and started. Each test isolates itself: its own database, its own
// Redis key prefix, its own consumer group.

export type { ServicesContext };
export type AvailableServices = Extract<ServicesContext, { available: true }>;

/** The part of vitest's test context that can skip the running test. */
export interface SkipContext {
  skip(note?: string): never;
}

/** What global setup provided; in any project but "services" it reports the services unavailable. */
export function servicesOrSkip(): ServicesContext;
/** The real services, or skips the calling test (or beforeEach) with the reason they are missing. */
export function servicesOrSkip(ctx: SkipContext): AvailableServices;
export function servicesOrSkip(ctx?: SkipContext): ServicesContext {
  // inject() yields undefined when this project's global setup provided nothing.
  const services: ServicesContext = (inject('services') as ServicesContext | undefined) ?? {
    available: false,
    reason: `the services global setup did not run (TEST_TARGET=${process.env.TEST_TARGET ?? 'unset'})`,
  };
  if (ctx && !services.available) ctx.skip(services.reason);
  return services;
}

export interface ScratchDatabase {
  /** The base URL pointed at the new, empty database. */
  url: string;
  name: string;
  /** Drops the database, closing whatever connections are still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database on the server at baseUrl. */
export async function createScratchDatabase(baseUrl: string): Promise<ScratchDatabase> {
  // Lower-case hex only, so the name never needs quoting rules beyond the plain identifier.
  const name = `auction_test_${randomBytes(6).toString('hex')}`;
  await withClient(baseUrl, (client) => client.query(`create database "${name}"`));

  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => (dropping ??= withClient(baseUrl, (client) => client.query(`drop database if exists "${name}" with (force)`))),
  };
}

/** A key prefix no other test uses, so one test's Redis keys never meet another's. */
export function scratchRedisPrefix(): string {
  return `auction_test:${randomBytes(6).toString('hex')}:`;
}

async function withClient(url: string, use: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}
