// Scratch resources a benchmark creates under a unique scope and removes at the end.
import pg from 'pg';
import { Redis } from 'ioredis';

/** Where the benchmarks find Postgres and Redis. */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A benchmark's undo steps: `run` performs them once, newest first, whether the run ends, fails or
 * is interrupted, and a step that fails does not stop the others. `first` runs before them.
 */
export function cleanupStack(first?: () => void): { push(step: () => Promise<unknown>): void; run(): Promise<void> } {
  let steps: Array<() => Promise<unknown>> = [];
  let running: Promise<void> | undefined;
  return {
    push: (step) => void steps.push(step),
    run: () =>
      (running ??= (async () => {
        first?.();
        for (const step of steps.reverse()) await step().catch((e: unknown) => console.error('cleanup failed:', e));
        steps = [];
      })()),
  };
}

/** Creates database `name` next to `baseUrl`'s; returns its URL and a cleanup that drops it. */
export async function scratchDatabase(baseUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // Forced: the servers' pools may still hold connections.
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Deletes every Redis key under `prefix` (SCAN, then UNLINK); returns how many went. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) deleted += await redis.unlink(...(keys as string[]));
  }
  await redis.quit();
  return deleted;
}
