// Scratch resources a benchmark creates under a unique scope and removes at the end.
import pg from 'pg';
import { Redis } from 'ioredis';

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
