import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { BidLog } from '../ports/bid-log.js';
import type { PriceBook } from '../ports/price-book.js';
import type { DeadLetterQueue, LogConsumer } from '../ports/log-consumer.js';
import { createMemoryPriceBook } from './memory/memory-price-book.js';
import { createMemoryBidLog } from './memory/memory-bid-log.js';
import { createMemoryDeadLetterQueue } from './memory/memory-dlq.js';
import { reaching } from './unreachable.js';

export const BID_PERSISTER_GROUP = 'bid-persister';

/** The bidding edges the config asks for: Redis or in-process price book, Kafka or in-process log. */
export interface BiddingAdapters {
  priceBook: PriceBook;
  bidLog: BidLog;
  /** A new member of a consumer group on the bid log. */
  consumer(group: string): LogConsumer;
  dlq: DeadLetterQueue;
  /** Messages a consumer group has yet to commit; rejects when the log cannot say. */
  consumerLag(group: string): Promise<number>;
  close(): Promise<void>;
}

export async function createBiddingAdapters(config: Config, logger: Logger): Promise<BiddingAdapters> {
  const closers: Array<() => Promise<unknown>> = [];
  try {
    let priceBook: PriceBook;
    if (config.redis.url) {
      // Loaded only when configured: the embedded default starts faster without Redis' and Kafka's clients.
      const [{ Redis }, { connectRedis }, { createRedisPriceBook }] = await Promise.all([
        import('ioredis'),
        import('./redis/connect.js'),
        import('./redis/redis-price-book.js'),
      ]);
      const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000, lazyConnect: true });
      // Without a listener ioredis reports every connection error as unhandled.
      redis.on('error', (error) => logger.warn({ err: error, component: 'price-book' }, 'redis connection error'));
      await connectRedis(redis, config.redis.url);
      priceBook = createRedisPriceBook({ redis, keyPrefix: config.redis.keyPrefix, ownsConnection: true, logger: logger.child({ component: 'price-book' }) });
    } else {
      priceBook = createMemoryPriceBook();
    }
    closers.push(() => priceBook.dispose());

    const { kafka } = config;
    const groupId = (group: string) => `${kafka.groupPrefix}${group}`;
    if (kafka.brokers) {
      const [{ createKafkaBidLog }, { createKafkaLogConsumer }, { createKafkaDeadLetterQueue }, { createKafkaLagReader }] = await Promise.all([
        import('./kafka/kafka-bid-log.js'),
        import('./kafka/kafka-consumer.js'),
        import('./kafka/kafka-dlq.js'),
        import('./kafka/kafka-lag.js'),
      ]);
      const client = { brokers: kafka.brokers, clientId: kafka.clientId, logger };
      const bidLog = await reaching('Kafka', 'KAFKA_BROKERS', kafka.brokers.join(','), () =>
        createKafkaBidLog({
          ...client,
          topic: kafka.bidTopic,
          groupId: groupId(BID_PERSISTER_GROUP),
          lingerMs: kafka.lingerMs,
          maxBatchMessages: kafka.batchMaxMessages,
        }),
      );
      closers.push(() => bidLog.close());
      const dlq = await createKafkaDeadLetterQueue({ ...client, sourceTopic: kafka.bidTopic });
      closers.push(() => dlq.close());
      const lagReader = createKafkaLagReader({ ...client, topic: kafka.bidTopic });
      closers.push(() => lagReader.close());
      return {
        priceBook,
        bidLog,
        dlq,
        consumer: (group) =>
          createKafkaLogConsumer({
            ...client,
            topic: kafka.bidTopic,
            groupId: groupId(group),
            sessionTimeout: kafka.sessionTimeoutMs,
            heartbeatInterval: kafka.heartbeatMs,
            rebalanceTimeout: kafka.rebalanceTimeoutMs,
            maxWaitTimeInMs: kafka.maxWaitMs,
            partitionsConsumedConcurrently: kafka.partitionsConcurrently,
            maxBytesPerPartition: kafka.maxBytesPerPartition,
          }),
        consumerLag: (group) => lagReader.lag(groupId(group)),
        close: () => closeAll(closers),
      };
    }
    const bidLog = createMemoryBidLog({ persisterGroupId: groupId(BID_PERSISTER_GROUP), logger });
    closers.push(() => bidLog.close());
    return {
      priceBook,
      bidLog,
      dlq: createMemoryDeadLetterQueue(logger),
      consumer: (group) => bidLog.consumer(groupId(group)),
      consumerLag: async (group) => bidLog.lag(groupId(group)),
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  for (const close of [...closers].reverse()) await close().catch(() => undefined);
}
