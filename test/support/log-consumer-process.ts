// One member of a consumer group in a process of its own: a freshly started process joins a warm
// group late, as a new worker does. It prints one JSON line per batch on stdout and its log on stderr.
//
//   node --import @swc-node/register/esm-register test/support/log-consumer-process.ts <brokers> <topic> <groupId>
import { pino } from 'pino';
import { createKafkaLogConsumer } from '../../src/adapters/kafka/kafka-consumer.js';

const [brokers, topic, groupId] = process.argv.slice(2);
if (!brokers || !topic || !groupId) throw new Error('usage: log-consumer-process.ts <brokers> <topic> <groupId>');
const consumer = createKafkaLogConsumer({
  brokers: brokers.split(','),
  clientId: 'log-consumer-process',
  groupId,
  topic,
  logger: pino({ level: 'info' }, pino.destination(2)),
  sessionTimeout: 3_000,
  rebalanceTimeout: 3_000,
  heartbeatInterval: 300,
  maxWaitTimeInMs: 50,
});
await consumer.run(async (batch) => {
  process.stdout.write(`${JSON.stringify({ partition: batch.partition, offsets: batch.messages.map((m) => m.offset) })}\n`);
});
process.once('SIGTERM', () => void consumer.stop().then(() => process.exit(0)));
