import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Admin, type PartitionMetadata, type Producer } from 'kafkajs';
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

const METADATA_MAX_AGE_MS = 10_000;
/** How often checks waiting for the persister look at its committed offsets again. */
const CAUGHT_UP_POLL_MS = 25;

interface CaughtUpCheck {
  partition: number;
  deadline: number;
  /** The partition's offsets at the check's first poll. */
  target?: { high: string; low: string };
  resolve(caughtUp: boolean): void;
  reject(error: unknown): void;
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

  // The partition count changes only when an operator adds partitions: read it at most this often.
  let metadata: { partitionMetadata: PartitionMetadata[]; at: number } | undefined;
  const partitionOf = async (auctionId: string): Promise<number> => {
    if (!metadata || performance.now() - metadata.at > METADATA_MAX_AGE_MS) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitionMetadata = topics.find((t) => t.name === topic)?.partitions ?? [];
      if (partitionMetadata.length === 0) throw new Error(`topic ${topic} has no partitions`);
      metadata = { partitionMetadata, at: performance.now() };
    }
    return partitioner({ topic, partitionMetadata: metadata.partitionMetadata, message: { key: auctionId, value: null } });
  };

  // Every check waiting at once shares one pair of admin requests per poll, however many there are.
  const waiting = new Set<CaughtUpCheck>();
  let polling = false;
  const poll = async () => {
    polling = true;
    try {
      while (waiting.size > 0) {
        const [watermarks, groupOffsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
        const committedOffsets = groupOffsets.find((t) => t.topic === topic)?.partitions ?? [];
        const now = performance.now();
        for (const check of waiting) {
          const watermark = watermarks.find((p) => p.partition === check.partition);
          if (!watermark) {
            waiting.delete(check);
            check.reject(new Error(`no offsets for ${topic}/${check.partition}`));
            continue;
          }
          // What the partition held at the check's first poll is what must be persisted.
          check.target ??= watermark;
          const committed = committedOffsets.find((p) => p.partition === check.partition)?.offset ?? '-1';
          // -1: the group never committed here, which is caught up only if there was nothing to read.
          const caughtUp = committed === '-1' ? check.target.high === check.target.low : BigInt(committed) >= BigInt(check.target.high);
          if (caughtUp || now >= check.deadline) {
            waiting.delete(check);
            check.resolve(caughtUp);
          }
        }
        if (waiting.size > 0) await sleep(CAUGHT_UP_POLL_MS);
      }
    } catch (error) {
      for (const check of waiting) check.reject(error);
      waiting.clear();
    } finally {
      polling = false;
    }
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

    isCaughtUp: async (auctionId: string, options?: { waitMs?: number }) => {
      const partition = await partitionOf(auctionId);
      return new Promise<boolean>((resolve, reject) => {
        waiting.add({ partition, deadline: performance.now() + (options?.waitMs ?? 0), resolve, reject });
        if (!polling) void poll();
      });
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
