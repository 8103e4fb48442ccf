import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Why Redis cannot be tested here, or null when it can. In CI a missing Redis is an error, never
 * a reason to skip.
 */
export async function redisSkipReason(what: string): Promise<string | null> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // connect() only says the connection closed; the error event says why.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause = error));
  let reason: string | null = null;
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    reason = `no Redis at ${REDIS_URL} (${(cause ?? (error as Error)).message}); set TEST_REDIS_URL or start one`;
  } finally {
    redis.disconnect();
  }
  if (reason !== null && process.env.CI === 'true') throw new Error(`CI must test ${what}: ${reason}`);
  return reason;
}

/** Deletes every key under `prefix` (the test Redis is shared, so nothing else); returns how many. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) removed += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return removed;
}
