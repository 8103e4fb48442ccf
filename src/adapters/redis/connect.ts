import type { Redis } from 'ioredis';
import { reaching } from '../unreachable.js';

/**
 * Connects a lazily created client, naming REDIS_URL when it cannot. ioredis rejects with a bare
 * "Connection is closed" and reports the actual cause (refused, DNS, TLS) as an 'error' event, so
 * the last such event becomes the failure's cause.
 */
export async function connectRedis(redis: Redis, url: string): Promise<void> {
  let lastError: Error | undefined;
  const remember = (error: Error) => {
    lastError = error;
  };
  redis.on('error', remember);
  try {
    await reaching('Redis', 'REDIS_URL', url, () =>
      redis.connect().catch((error: unknown) => {
        throw lastError ?? error;
      }),
    );
  } catch (error) {
    redis.disconnect();
    throw error;
  } finally {
    redis.off('error', remember);
  }
}
