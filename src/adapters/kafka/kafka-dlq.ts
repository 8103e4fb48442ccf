import { Partitioners } from 'kafkajs';
import type { DeadLetterQueue } from '../../ports/log-consumer.js';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.js';

export interface KafkaDeadLetterQueueOptions extends KafkaClientOptions {
  /** The log whose messages these are (recorded in a header) and, by default, the DLQ's prefix. */
  sourceTopic?: string;
  topic?: string;
}

export interface KafkaDeadLetterQueue extends DeadLetterQueue {
  close(): Promise<void>;
}

/** Dead letters on their own topic: the original key and bytes, with why and where in headers. */
export async function createKafkaDeadLetterQueue(options: KafkaDeadLetterQueueOptions): Promise<KafkaDeadLetterQueue> {
  const sourceTopic = options.sourceTopic ?? 'bid-events';
  const topic = options.topic ?? `${sourceTopic}.dlq`;
  const logger = options.logger.child({ component: 'kafka-dlq', topic });
  // The same partitioner as the bid log's, named so kafkajs does not warn about its default.
  const producer = createKafkaClient({ ...options, logger }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  return {
    publish: async (raw, reason) => {
      // Awaited with acks -1: the worker commits past this message only once its copy is durable.
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: raw.key,
            value: raw.value,
            headers: { reason, 'source-topic': sourceTopic, 'source-partition': String(raw.partition), 'source-offset': raw.offset },
          },
        ],
      });
      logger.warn({ reason, partition: raw.partition, offset: raw.offset }, 'message dead-lettered');
    },
    close: () => producer.disconnect(),
  };
}
