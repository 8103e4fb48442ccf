import { createKafkaClient, type KafkaClientOptions } from './kafka-client.js';

export interface KafkaLagReaderOptions extends KafkaClientOptions {
  topic: string;
}

export interface ConsumerLagReader {
  /** Messages consumer group `groupId` has yet to commit, over all partitions of the topic. */
  lag(groupId: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Consumer-group lag from the broker's own bookkeeping (high watermarks against committed
 * offsets), through an admin client of its own: connected on first use, so a gateway nobody
 * scrapes never opens it, and a failed connection is tried again on the next read.
 */
export function createKafkaLagReader(options: KafkaLagReaderOptions): ConsumerLagReader {
  const { topic } = options;
  const admin = createKafkaClient({ ...options, logger: options.logger.child({ component: 'kafka-lag', topic }) }).admin();
  let connecting: Promise<void> | undefined;
  const connect = () =>
    (connecting ??= admin.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    }));

  return {
    lag: async (groupId) => {
      await connect();
      const [watermarks, groupOffsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committed = new Map((groupOffsets.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
      let lag = 0n;
      for (const { partition, high, low } of watermarks) {
        const offset = committed.get(partition);
        // -1: the group never committed here; it reads from the beginning, so all that is kept is ahead of it.
        const from = offset === undefined || offset === '-1' ? BigInt(low) : BigInt(offset);
        if (BigInt(high) > from) lag += BigInt(high) - from;
      }
      return Number(lag);
    },
    close: async () => {
      if (!connecting) return;
      await connecting.catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
