import type { Batch, ConsumerRunConfig, EachBatchPayload } from 'kafkajs';
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
  /** Partitions whose batches are handled at once (default 1); each partition's stay in order. */
  partitionsConsumedConcurrently?: number;
  /** Fetch sizes: how much one fetch may bring back, per partition and in all (kafkajs: 1 MiB, 10 MiB). */
  maxBytesPerPartition?: number;
  maxBytes?: number;
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
    ...(options.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
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
  let runConfig: ConsumerRunConfig | undefined;
  let restarting: Promise<void> | undefined;
  let crashesInARow = 0;

  consumer.on(consumer.events.GROUP_JOIN, () => {
    crashesInARow = 0;
  });
  // kafkajs asks restartOnFailure only about errors it deems retriable. On any other (a SyncGroup
  // the coordinator refuses while a second member joins, say) it disconnects and stays down while
  // the process runs on, leaving the log unpersisted. Its subscription survives the disconnect, so
  // running again with the same config rejoins the group and resumes from the committed offsets.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping.signal.aborted || !runConfig) return;
    const config = runConfig;
    const delayMs = redeliveryDelayMs(++crashesInARow);
    logger.error({ err: payload.error, delayMs, crashesInARow }, 'Kafka consumer stopped on an error kafkajs does not retry; starting it again');
    restarting = (async () => {
      await sleep(delayMs, stopping.signal);
      if (stopping.signal.aborted) return;
      // A failure to join shows up as another crash, which comes back here.
      await consumer.run(config);
      logger.info('consuming again after a crash');
    })().catch((error: unknown) => logger.error({ err: error }, 'restarting the Kafka consumer failed'));
  });

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
      runConfig = {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: consume(handler),
      };
      await consumer.run(runConfig);
      logger.info('consuming');
    },
    stop: async () => {
      stopping.abort();
      await restarting;
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
