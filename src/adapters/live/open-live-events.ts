import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { LiveEvents } from '../../ports/live-events.js';
import { createLiveEvents } from './live-events.js';
import { createMemoryTransport } from './memory-transport.js';

/** Live fan-out across every gateway over Redis when REDIS_URL is set, otherwise within this process. */
export async function openLiveEvents(config: Config, logger: Logger): Promise<LiveEvents> {
  const live = logger.child({ component: 'live-events' });
  if (!config.redis.url) return createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger: live });
  // Loaded only when configured: the embedded default starts faster without the Redis client.
  const [{ Redis }, { connectRedis }, { createRedisTransport }] = await Promise.all([
    import('ioredis'),
    import('../redis/connect.js'),
    import('./redis-transport.js'),
  ]);
  const connect = async () => {
    // Fail fast instead of queueing: a publish or subscribe that cannot reach Redis is reported, not held.
    const redis = new Redis(config.redis.url!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000, lazyConnect: true });
    redis.on('error', (error) => live.warn({ err: error }, 'redis connection error'));
    await connectRedis(redis, config.redis.url!);
    return redis;
  };
  const publisher = await connect();
  const subscriber = await connect().catch(async (error: unknown) => {
    publisher.disconnect();
    throw error;
  });
  return createLiveEvents(createRedisTransport({ publisher, subscriber }), { keyPrefix: config.redis.keyPrefix, logger: live });
}
