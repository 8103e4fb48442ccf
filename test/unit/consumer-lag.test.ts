import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaBidLog } from '../../src/adapters/kafka/kafka-bid-log.js';
import { createKafkaLogConsumer } from '../../src/adapters/kafka/kafka-consumer.js';
import { createKafkaLagReader } from '../../src/adapters/kafka/kafka-lag.js';
import { createMemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import { kafkaMockUnavailableReason, startKafkaMock, type KafkaMock } from '../support/kafka-mock.js';
import { bidPlacedNow } from '../support/bid-messages.js';

// As in kafka-bid-log.test.ts: without cc or librdkafka-dev the Kafka half skips, saying why, except in CI.
const unavailable = await kafkaMockUnavailableReason();
const skipReason = unavailable !== undefined && process.env.CI !== 'true' ? `Kafka mock unavailable: ${unavailable}` : undefined;

const logger = pino({ level: 'silent' });
const publish = { timeoutMs: 5_000 };

describe('consumer lag of the in-process bid log', () => {
  it('counts what a group has not committed, and all that is kept for a group that never joined', async () => {
    // One partition, one message a batch: the held third message is the only one in hand.
    const log = createMemoryBidLog({ partitions: 1, maxBatchSize: 1 });
    const auctions = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, auctionId] of auctions.entries()) await log.publish(bidPlacedNow(auctionId, i + 1), publish);
    expect(log.lag('persister')).toBe(3);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const consumer = log.consumer('persister');
    await consumer.run(async (batch) => {
      if (batch.messages.some((m) => m.key === auctions[2])) await held;
      handled += batch.messages.length;
    });
    await vi.waitFor(() => expect(handled).toBe(2));
    // The batch in hand is not committed yet.
    expect(log.lag('persister')).toBe(1);
    release();
    await vi.waitFor(() => expect(log.lag('persister')).toBe(0));
    expect(log.lag('never-joined')).toBe(3);
    await consumer.stop();
  });
});

describe.skipIf(skipReason !== undefined)(`consumer lag on Kafka${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let mock: KafkaMock;
  beforeAll(async () => {
    mock = await startKafkaMock({ topics: [{ name: 'lag', partitions: 3 }] });
  });
  afterAll(async () => {
    await mock?.stop();
  });

  it("reads a group's lag from the committed offsets and high watermarks of every partition", async () => {
    const client = { brokers: mock.brokers, clientId: 'consumer-lag-test', logger };
    const log = await createKafkaBidLog({ ...client, topic: 'lag' });
    const reader = createKafkaLagReader({ ...client, topic: 'lag' });
    const groupId = `lag-${randomUUID()}`;
    const consumer = createKafkaLogConsumer({ ...client, topic: 'lag', groupId, sessionTimeout: 3_000, rebalanceTimeout: 3_000, heartbeatInterval: 300, maxWaitTimeInMs: 50 });
    try {
      for (let seq = 1; seq <= 4; seq++) await log.publish(bidPlacedNow(randomUUID(), seq), publish);
      expect(await reader.lag(groupId)).toBe(4);

      await consumer.run(async () => {});
      await vi.waitFor(async () => expect(await reader.lag(groupId)).toBe(0), { timeout: 20_000, interval: 100 });
      await log.publish(bidPlacedNow(randomUUID(), 1), publish);
      expect(await reader.lag(`other-${randomUUID()}`)).toBe(5);
    } finally {
      await consumer.stop();
      await reader.close();
      await log.close();
    }
  });

  it('rejects a read when no broker answers, and still closes', async () => {
    const reader = createKafkaLagReader({ brokers: ['127.0.0.1:1'], clientId: 'consumer-lag-test', topic: 'lag', logger, retry: { retries: 0 } });
    await expect(reader.lag('any')).rejects.toThrow();
    await reader.close();
  });
});
