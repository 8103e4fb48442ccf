import type { Redis } from 'ioredis';
import type { LiveTransport } from './live-events.js';

/**
 * Redis sharded pub/sub (SPUBLISH / SSUBSCRIBE): on a cluster each channel lives on one shard, so
 * fan-out traffic scales with the shards instead of being broadcast to every node. Publishing and
 * subscribing need separate connections: a subscribed connection can run nothing else.
 */
export function createRedisTransport(connections: { publisher: Redis; subscriber: Redis }): LiveTransport {
  const { publisher, subscriber } = connections;
  return {
    async publish(messages) {
      const results = await publisher.pipeline(messages.map(({ channel, payload }) => ['spublish', channel, payload])).exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    },
    async subscribe(channel) {
      await subscriber.ssubscribe(channel);
    },
    async unsubscribe(channel) {
      await subscriber.sunsubscribe(channel);
    },
    onMessage(handler) {
      subscriber.on('smessage', handler);
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
