import { Partitioners, type Admin, type Producer } from 'kafkajs';
import type { AuctionLogMessage, BidLog } from '../../ports/bid-log.js';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.js';
import { createProduceBatcher, ExpiredBeforeSendError } from './produce-batcher.js';

export interface KafkaBidLogOptions extends KafkaClientOptions {
  topic?: string;
  /** The consumer group whose progress isCaughtUp reports: the worker that persists bids. */
  groupId?: string;
  /** How long a publish waits for concurrent ones to share its produce request (default 2 ms). */
  lingerMs?: number;
  /** The most messages in one produce request (default 500). */
  maxBatchMessages?: number;
}

/** The bid log on Kafka: connects its producer and admin client before resolving. */
export async function createKafkaBidLog(options: KafkaBidLogOptions): Promise<BidLog> {
  const topic = options.topic ?? 'bid-events';
  const groupId = options.groupId ?? 'bid-persister';
  const logger = options.logger.child({ component: 'kafka-bid-log', topic });
  const kafka = createKafkaClient({ ...options, logger });

  // One partitioner instance serves both the producer and isCaughtUp, so the partition a key is
  // read from is by construction the one it was written to.
  const partitioner = Partitioners.DefaultPartitioner();
  // Not idempotent: kafkajs marks that experimental, and replays are harmless because every
  // message carries the bid id the worker deduplicates on.
  const producer = kafka.producer({ createPartitioner: () => partitioner });
  const admin = kafka.admin();
  await connectAll(producer, admin);

  // Concurrent bids share a produce request: one round trip and one record batch per partition
  // for many bids, which also hands the persister bigger batches. Each caller still hears only
  // its own request's acknowledgement (acks -1) before its bid is called accepted. The batcher
  // keeps one send in flight, so kafkajs' retry of a failed request can never overtake a later
  // one: an auction's messages reach the log in publish order without the idempotent producer,
  // and the producer's own maxInFlightRequests never comes into play.
  const batcher = createProduceBatcher<AuctionLogMessage>({
    lingerMs: options.lingerMs ?? 2,
    maxItems: options.maxBatchMessages ?? 500,
    send: async (messages, timeoutMs) => {
      await producer.send({
        topic,
        acks: -1,
        // The broker's own wait for the in-sync replicas, bounded like the longest caller's deadline.
        timeout: timeoutMs,
        messages: messages.map((m) => ({ key: m.auctionId, value: JSON.stringify(m) })),
      });
    },
  });

  const partitionOf = async (auctionId: string): Promise<number> => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitionMetadata = topics.find((t) => t.name === topic)?.partitions ?? [];
    if (partitionMetadata.length === 0) throw new Error(`topic ${topic} has no partitions`);
    return partitioner({ topic, partitionMetadata, message: { key: auctionId, value: null } });
  };

  return {
    publish: (message: AuctionLogMessage, { timeoutMs }: { timeoutMs: number }) => {
      const sent = batcher.add(message, timeoutMs);
      return withDeadline(sent, timeoutMs, () => {
        // kafkajs cannot call a send back, so it may still land: the caller publishes the same
        // message again, and the copy that lands second is ignored by bid id (bid-finisher.ts).
        sent.then(
          () => logger.info({ bidId: message.id, auctionId: message.auctionId }, 'bid reached the log after its publish deadline'),
          (error: unknown) => {
            if (!(error instanceof ExpiredBeforeSendError)) logger.warn({ err: error, bidId: message.id }, 'publish failed after its deadline');
          },
        );
        return new Error(`publishing bid ${message.id} to ${topic} took longer than ${timeoutMs} ms`);
      });
    },

    isCaughtUp: async (auctionId: string) => {
      const [partition, watermarks, groupOffsets] = await Promise.all([
        partitionOf(auctionId),
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const watermark = watermarks.find((p) => p.partition === partition);
      if (!watermark) throw new Error(`no offsets for ${topic}/${partition}`);
      const committed = groupOffsets.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      // -1: the group never committed here, which is caught up only if there is nothing to read.
      if (committed === '-1') return watermark.high === watermark.low;
      return BigInt(committed) >= BigInt(watermark.high);
    },

    close: async () => {
      // The bid finisher closes first; what it still handed over gets its request before the producer goes.
      await batcher.drain();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}

async function connectAll(producer: Producer, admin: Admin): Promise<void> {
  const results = await Promise.allSettled([producer.connect(), admin.connect()]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    throw failure.reason;
  }
}

/** Settles like `promise`, or rejects with onTimeout()'s error once ms have passed. */
function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(onTimeout());
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (!expired) resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!expired) reject(error);
      },
    );
  });
}
