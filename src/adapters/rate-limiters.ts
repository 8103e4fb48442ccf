import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';

export interface RateLimiterStore {
  /** A limiter of `points` per `durationSeconds` per key, its keys named `name`. */
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}

/**
 * Rate limits on Redis when REDIS_URL is set, so a budget holds across every gateway; in this
 * process otherwise. A Redis limiter falls back to an in-process one while Redis cannot answer:
 * sign-in stays limited per gateway rather than failing.
 */
export async function openRateLimiters(config: Config, logger: Logger, options: { shared: boolean }): Promise<RateLimiterStore> {
  const memory = (name: string, points: number, duration: number) => new RateLimiterMemory({ keyPrefix: name, points, duration });
  if (!config.redis.url || !options.shared) return { limiter: memory, close: async () => {} };

  // Loaded only when configured: the embedded default starts faster without the Redis client.
  const [{ Redis }, { connectRedis }] = await Promise.all([import('ioredis'), import('./redis/connect.js')]);
  const log = logger.child({ component: 'rate-limits' });
  // Fail fast instead of queueing: the insurance limiter answers while Redis is away.
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000, lazyConnect: true });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  await connectRedis(redis, config.redis.url);
  return {
    limiter: (name, points, duration) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${config.redis.keyPrefix}rate:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory(name, points, duration),
      }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
