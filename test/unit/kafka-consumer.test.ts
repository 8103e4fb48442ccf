import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createKafkaBidLog } from '../../src/adapters/kafka/kafka-bid-log.js';
import { createKafkaLogConsumer } from '../../src/adapters/kafka/kafka-consumer.js';
import type { BidLog, BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LogBatch, LogConsumer } from '../../src/ports/log-consumer.js';
import { kafkaMockUnavailableReason, startKafkaMock, type KafkaMock } from '../support/kafka-mock.js';
import { bidPlacedNow } from '../support/bid-messages.js';

const unavailable = await kafkaMockUnavailableReason();
const skipReason = unavailable !== undefined && process.env.CI !== 'true' ? `Kafka mock unavailable: ${unavailable}` : undefined;

// kafkajs' own group member and its protocol errors, to make one join fail the way the broker would.
const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { joinAndSync(): Promise<void> } };
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
const INVALID_REQUEST = 42;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const logger = pino({ level: 'silent' });
const PARTITIONS = 4;
const TOPICS = ['crash', 'late-member', 'concurrent'];
const groupTimings = { sessionTimeout: 3_000, rebalanceTimeout: 3_000, heartbeatInterval: 300, maxWaitTimeInMs: 50 };

describe('a Kafka consumer-group member', () => {
  let mock: KafkaMock | undefined;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    if (skipReason === undefined) mock = await startKafkaMock({ topics: TOPICS.map((name) => ({ name, partitions: PARTITIONS })) });
  });
  afterAll(async () => {
    await mock?.stop();
  });
  beforeEach(async (ctx) => {
    if (skipReason !== undefined) ctx.skip(skipReason);
    return async () => {
      vi.restoreAllMocks();
      for (const close of closers.splice(0).reverse()) await close();
    };
  });

  const brokers = (): string[] => {
    if (!mock) throw new Error('Kafka mock did not start');
    return mock.brokers;
  };
  const bidLog = async (topic: string): Promise<BidLog> => {
    const log = await createKafkaBidLog({ brokers: brokers(), clientId: 'kafka-consumer-test', topic, logger });
    closers.push(() => log.close());
    return log;
  };
  const consumer = (topic: string, groupId: string, extra: { partitionsConsumedConcurrently?: number } = {}): LogConsumer => {
    const c = createKafkaLogConsumer({ brokers: brokers(), clientId: 'kafka-consumer-test', groupId, topic, logger, ...groupTimings, ...extra });
    closers.push(() => c.stop());
    return c;
  };
  const seqOf = (value: Buffer | null) => (JSON.parse(value!.toString()) as BidPlacedMessage).seq;

  it('joins again and consumes after kafkajs stopped it on an error it does not retry', async () => {
    const log = await bidLog('crash');
    const auctionId = randomUUID();
    for (let seq = 1; seq <= 3; seq++) await log.publish(bidPlacedNow(auctionId, seq), { timeoutMs: 5_000 });

    // The coordinator refuses the first SyncGroup as the librdkafka mock refuses a late follower's:
    // kafkajs deems INVALID_REQUEST not retriable, disconnects, and never asks restartOnFailure.
    const join = ConsumerGroup.prototype.joinAndSync;
    const joins = vi.spyOn(ConsumerGroup.prototype, 'joinAndSync').mockImplementationOnce(async () => {
      throw createErrorFromCode(INVALID_REQUEST);
    });
    joins.mockImplementation(function (this: unknown) {
      return join.call(this);
    });

    const seqs: number[] = [];
    await consumer('crash', `crash-${randomUUID()}`).run(async (batch) => {
      for (const m of batch.messages) seqs.push(seqOf(m.value));
    });
    await vi.waitFor(() => expect(seqs).toEqual([1, 2, 3]), { timeout: 20_000, interval: 50 });
    expect(joins.mock.calls.length).toBeGreaterThanOrEqual(2);
  });

  it('gets partitions and consumes them when it starts in a process of its own beside a running member', async () => {
    const log = await bidLog('late-member');
    const groupId = `late-member-${randomUUID()}`;
    const inProcess = new Set<number>();
    await consumer('late-member', groupId).run(async (batch) => void inProcess.add(batch.partition));
    const publishSome = () => Promise.all(Array.from({ length: 40 }, () => log.publish(bidPlacedNow(randomUUID(), 1), { timeoutMs: 5_000 })));
    await publishSome();
    await vi.waitFor(() => expect(inProcess.size).toBe(PARTITIONS), { timeout: 20_000, interval: 50 });

    // A fresh process answers its JoinGroup later than the warm leader, which the mock punishes
    // with INVALID_REQUEST on SyncGroup: it must rejoin rather than stay down.
    const fromChild = new Set<number>();
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'test/support/log-consumer-process.ts', brokers().join(','), 'late-member', groupId],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    closers.push(async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => fromChild.add((JSON.parse(line) as LogBatch).partition));

    await vi.waitFor(
      async () => {
        inProcess.clear();
        fromChild.clear();
        await publishSome();
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(fromChild.size).toBeGreaterThan(0);
        expect(inProcess.size).toBeGreaterThan(0);
        expect([...fromChild].filter((p) => inProcess.has(p))).toEqual([]);
      },
      { timeout: 45_000, interval: 500 },
    );
  }, 60_000);

  it('handles batches of different partitions at once, each partition still in order', async () => {
    const log = await bidLog('concurrent');
    const auctions = Array.from({ length: 8 }, () => randomUUID());
    for (let seq = 1; seq <= 5; seq++) await Promise.all(auctions.map((a) => log.publish(bidPlacedNow(a, seq), { timeoutMs: 5_000 })));

    let inHand = 0;
    let mostInHand = 0;
    const seqs = new Map<string, number[]>();
    await consumer('concurrent', `concurrent-${randomUUID()}`, { partitionsConsumedConcurrently: PARTITIONS }).run(async (batch) => {
      mostInHand = Math.max(mostInHand, ++inHand);
      // Long enough for the other partitions' batches to be handed over meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const m of batch.messages) seqs.set(m.key!, [...(seqs.get(m.key!) ?? []), seqOf(m.value)]);
      inHand--;
    });
    await vi.waitFor(() => expect([...seqs.values()].flat()).toHaveLength(40), { timeout: 30_000, interval: 100 });
    for (const auctionId of auctions) expect(seqs.get(auctionId)).toEqual([1, 2, 3, 4, 5]);
    expect(mostInHand).toBeGreaterThan(1);
  });
});
