import { setTimeout as delay } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import type { AuctionLogMessage, BidLog } from '../../ports/bid-log.js';
import { redeliveryDelayMs, sleep } from '../redelivery.js';
import type { LogBatch, LogConsumer, LogMessage } from '../../ports/log-consumer.js';

export interface MemoryBidLog extends BidLog {
  /** A member of consumer group `groupId`; in process there is no rebalancing, so one runs at a time. */
  consumer(groupId: string): LogConsumer;
  /** Messages group `groupId` has yet to commit, over all partitions. */
  lag(groupId: string): number;
}

export interface MemoryBidLogOptions {
  partitions?: number;
  /** The group isCaughtUp reports on. */
  persisterGroupId?: string;
  maxBatchSize?: number;
  logger?: Logger;
}

interface Partition {
  /** Offset of messages[0]: messages every group has committed are dropped. */
  base: number;
  messages: LogMessage[];
  wake: Set<() => void>;
}

// Dropping committed messages one by one would shift the array on every batch.
const TRIM_THRESHOLD = 1_000;
/** How often a waiting isCaughtUp looks at the persister's progress again. */
const CAUGHT_UP_POLL_MS = 10;

/**
 * The bid log in process, for when no Kafka is configured: partitioned by auction like Kafka, with
 * committed offsets per group and redelivery of a failed batch. Nothing survives a restart.
 */
export function createMemoryBidLog(options: MemoryBidLogOptions = {}): MemoryBidLog {
  const count = options.partitions ?? 8;
  const persisterGroupId = options.persisterGroupId ?? 'bid-persister';
  const maxBatchSize = options.maxBatchSize ?? 500;
  const logger = (options.logger ?? pino({ enabled: false })).child({ component: 'memory-bid-log' });
  const partitions: Partition[] = Array.from({ length: count }, () => ({ base: 0, messages: [], wake: new Set() }));
  /** Per group, the next offset to deliver in each partition. */
  const committed = new Map<string, number[]>();
  const running = new Set<string>();
  let closed = false;

  const offsetsOf = (groupId: string): number[] => {
    let offsets = committed.get(groupId);
    if (!offsets) {
      // A group that joins late starts at the oldest message still kept, as with Kafka retention.
      offsets = partitions.map((p) => p.base);
      committed.set(groupId, offsets);
    }
    return offsets;
  };
  const partitionOf = (key: string): Partition => partitions[hashKey(key) % count] as Partition;
  const end = (partition: Partition) => partition.base + partition.messages.length;

  const trim = (index: number) => {
    const partition = partitions[index] as Partition;
    const oldest = Math.min(...[...committed.values()].map((offsets) => offsets[index] ?? 0));
    if (oldest - partition.base < TRIM_THRESHOLD) return;
    partition.messages.splice(0, oldest - partition.base);
    partition.base = oldest;
  };

  const consumePartition = async (groupId: string, index: number, handler: (batch: LogBatch) => Promise<void>, signal: AbortSignal) => {
    const partition = partitions[index] as Partition;
    const offsets = offsetsOf(groupId);
    while (!signal.aborted) {
      const from = offsets[index] ?? 0;
      if (from >= end(partition)) {
        await nextAppend(partition, signal);
        continue;
      }
      const messages = partition.messages.slice(from - partition.base, from - partition.base + maxBatchSize);
      for (let attempt = 1; !signal.aborted; attempt++) {
        try {
          await handler({ partition: index, messages });
          offsets[index] = from + messages.length;
          trim(index);
          break;
        } catch (error) {
          const delayMs = redeliveryDelayMs(attempt);
          logger.error({ err: error, groupId, partition: index, firstOffset: from, attempt, delayMs }, 'batch failed; redelivering it');
          await sleep(delayMs, signal);
        }
      }
    }
  };

  return {
    publish: async (message: AuctionLogMessage) => {
      if (closed) throw new Error('the in-memory bid log is closed');
      const partition = partitionOf(message.auctionId);
      partition.messages.push({ offset: String(end(partition)), key: message.auctionId, value: Buffer.from(JSON.stringify(message)) });
      for (const wake of partition.wake) wake();
    },

    isCaughtUp: async (auctionId: string, options?: { waitMs?: number }) => {
      const partition = partitionOf(auctionId);
      const index = partitions.indexOf(partition);
      const target = end(partition);
      const deadline = performance.now() + (options?.waitMs ?? 0);
      for (;;) {
        if ((offsetsOf(persisterGroupId)[index] ?? 0) >= target) return true;
        if (closed || performance.now() >= deadline) return false;
        await delay(CAUGHT_UP_POLL_MS);
      }
    },

    lag: (groupId: string) => {
      // Read without offsetsOf: a group that never joined must not start holding back the trim.
      const offsets = committed.get(groupId);
      return partitions.reduce((sum, partition, index) => sum + end(partition) - (offsets?.[index] ?? partition.base), 0);
    },

    consumer: (groupId: string): LogConsumer => {
      const stopping = new AbortController();
      let loops: Array<Promise<void>> = [];
      return {
        run: async (handler) => {
          if (running.has(groupId)) throw new Error(`consumer group ${groupId} already has a running member`);
          running.add(groupId);
          // One loop per partition: a failing batch holds back its own partition only.
          loops = partitions.map((_, index) => consumePartition(groupId, index, handler, stopping.signal));
        },
        stop: async () => {
          stopping.abort();
          await Promise.all(loops);
          if (loops.length > 0) running.delete(groupId);
          loops = [];
        },
      };
    },

    close: async () => {
      closed = true;
    },
  };
}

function nextAppend(partition: Partition, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      partition.wake.delete(done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    partition.wake.add(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** FNV-1a over the key's UTF-8 bytes: stable, so an auction always maps to the same partition. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
