import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Kafka, logLevel, Partitioners, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kafkaMockUnavailableReason, startKafkaMock, type KafkaMock } from '../support/kafka-mock.js';

// A machine without cc or librdkafka-dev may skip, saying why; in CI the harness must run, so the
// same missing toolchain makes startKafkaMock throw and the suite fail.
const unavailable = await kafkaMockUnavailableReason();
const skipReason =
  unavailable !== undefined && process.env.CI !== 'true' ? `Kafka mock unavailable: ${unavailable}` : undefined;

const TOPIC = 'mock-roundtrip';

describe('the librdkafka mock cluster', () => {
  let mock: KafkaMock | undefined;

  beforeAll(async () => {
    if (skipReason === undefined) mock = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 3 }] });
  });
  afterAll(async () => {
    await mock?.stop();
  });
  beforeEach((ctx) => {
    if (skipReason !== undefined) ctx.skip(skipReason);
  });

  const brokers = (): string[] => {
    if (!mock) throw new Error('Kafka mock did not start');
    return mock.brokers;
  };

  it('reports one loopback host:port per broker', () => {
    expect(brokers()).toHaveLength(3);
    for (const broker of brokers()) expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('delivers messages produced with acks -1 to a consumer group, in order per key', async () => {
    const kafka = new Kafka({ clientId: 'kafka-mock-test', brokers: brokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({
      groupId: `kafka-mock-test-${randomUUID()}`,
      sessionTimeout: 3_000,
      rebalanceTimeout: 3_000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 50,
    });
    const keys = ['auction-1', 'auction-2', 'auction-3', 'auction-4'];
    const sent = keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, value: `${key}/${n}` })));

    try {
      await producer.connect();
      const acks = await producer.send({ topic: TOPIC, acks: -1, messages: sent });
      expect(acks.every((ack) => ack.errorCode === 0)).toBe(true);

      const received: KafkaMessage[] = [];
      let allReceived!: () => void;
      const done = new Promise<void>((resolve) => (allReceived = resolve));
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(message);
          if (received.length === sent.length) allReceived();
        },
      });
      await done;

      const values = received.map((m) => m.value?.toString());
      expect([...values].sort()).toEqual(sent.map((m) => m.value).sort());
      for (const key of keys) {
        expect(values.filter((v) => v?.startsWith(`${key}/`))).toEqual([1, 2, 3].map((n) => `${key}/${n}`));
      }
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('frees its ports when stopped, and stopping twice is harmless', async () => {
    const own = await startKafkaMock({ topics: [] });
    await own.stop();
    await own.stop();

    for (const broker of own.brokers) expect(await acceptsConnections(broker)).toBe(false);
  });

  it("rejects a malformed topic and reports the cluster's own error", async () => {
    await expect(startKafkaMock({ topics: [{ name: 'no-partitions', partitions: 0 }] })).rejects.toThrow(
      /exited before printing.*\n.*name:partitions/s,
    );
  });
});

function acceptsConnections(broker: string): Promise<boolean> {
  const [host, port] = broker.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
