import type { Batch, EachBatchPayload } from 'kafkajs';
import { redeliveryDelayMs, sleep } from '../redelivery.js';
import type { LogBatch, LogConsumer } from '../../ports/log-consumer.js';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.js';

export interface KafkaLogConsumerOptions extends KafkaClientOptions {
  groupId: string;
  topic: string;
  /** Kafka's defaults (30 s, 3 s, 5 s) suit production; tests shorten them to rejoin quickly. */
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  maxWaitTimeInMs?: number;
}

/** A consumer-group member that commits a batch only after its handler has made it durable. */
export function createKafkaLogConsumer(options: KafkaLogConsumerOptions): LogConsumer {
  const { groupId, topic } = options;
  const logger = options.logger.child({ component: 'kafka-consumer', groupId, topic });
  const heartbeatInterval = options.heartbeatInterval ?? 3_000;
  const consumer = createKafkaClient({ ...options, logger }).consumer({
    groupId,
    sessionTimeout: options.sessionTimeout ?? 30_000,
    ...(options.rebalanceTimeout !== undefined ? { rebalanceTimeout: options.rebalanceTimeout } : {}),
    heartbeatInterval,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 5_000,
    retry: {
      ...options.retry,
      // kafkajs gives up after its retries (a broker restart, a long outage); a worker that stays
      // down would leave the log unpersisted, so it always starts again from the committed offsets.
      restartOnFailure: async (error) => {
        logger.error({ err: error }, 'Kafka consumer failed; restarting it');
        return true;
      },
    },
  });
  const stopping = new AbortController();

  /** Waits out a backoff while keeping the group membership alive. */
  const backOff = async (ms: number, payload: EachBatchPayload) => {
    const until = Date.now() + ms;
    while (payload.isRunning() && !payload.isStale() && Date.now() < until) {
      await sleep(Math.min(heartbeatInterval, until - Date.now()), stopping.signal);
      // Throws when the group rebalances: kafkajs then rejoins and the batch is read again.
      await payload.heartbeat();
    }
  };

  const consume = (handler: (batch: LogBatch) => Promise<void>) => async (payload: EachBatchPayload) => {
    const { batch } = payload;
    const logBatch = toLogBatch(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(logBatch);
        break;
      } catch (error) {
        const delayMs = redeliveryDelayMs(attempt);
        logger.error({ err: error, partition: batch.partition, firstOffset: batch.firstOffset(), attempt, delayMs }, 'batch failed; redelivering it');
        await backOff(delayMs, payload);
        // Nothing was resolved, so whoever reads this partition next starts at this batch again.
        if (!payload.isRunning() || payload.isStale()) return;
      }
    }
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    // A committed offset names the next message to read.
    const next = (BigInt(last) + 1n).toString();
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition: batch.partition, offset: next }] }] });
  };

  return {
    run: async (handler) => {
      await consumer.connect();
      // A new group must persist the whole log, not only what arrives after it joins.
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: consume(handler) });
      logger.info('consuming');
    },
    stop: async () => {
      stopping.abort();
      await consumer.disconnect();
    },
  };
}

function toLogBatch(batch: Batch): LogBatch {
  return {
    partition: batch.partition,
    messages: batch.messages.map((m) => ({ offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value: m.value })),
  };
}
