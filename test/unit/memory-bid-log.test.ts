import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBidLog } from '../../src/adapters/memory/memory-bid-log.js';
import type { BidPlacedMessage } from '../../src/ports/bid-log.js';
import type { LogBatch, LogConsumer } from '../../src/ports/log-consumer.js';
import { bidPlacedNow } from '../support/bid-messages.js';


const seqOf = (value: Buffer | null) => (JSON.parse(value!.toString()) as BidPlacedMessage).seq;

describe('the in-process bid log', () => {
  const running: LogConsumer[] = [];
  afterEach(async () => {
    for (const consumer of running.splice(0)) await consumer.stop();
  });
  const start = async (consumer: LogConsumer, handler: (batch: LogBatch) => Promise<void>) => {
    running.push(consumer);
    await consumer.run(handler);
    return consumer;
  };

  it('delivers each auction to one partition, in order', async () => {
    const log = createMemoryBidLog({ partitions: 4, maxBatchSize: 3 });
    const auctions = Array.from({ length: 8 }, () => randomUUID());
    for (let seq = 1; seq <= 5; seq++) for (const auctionId of auctions) await log.publish(bidPlacedNow(auctionId, seq), { timeoutMs: 100 });

    const received: Array<{ partition: number; key: string | null; seq: number }> = [];
    await start(log.consumer('reader'), async (batch) => {
      for (const m of batch.messages) received.push({ partition: batch.partition, key: m.key, seq: seqOf(m.value) });
    });
    await vi.waitFor(() => expect(received).toHaveLength(40));

    for (const auctionId of auctions) {
      const own = received.filter((r) => r.key === auctionId);
      expect(own.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(own.map((r) => r.partition)).size).toBe(1);
    }
  });

  it('delivers a failed batch again, unchanged, and commits it only after the handler succeeds', async () => {
    const log = createMemoryBidLog();
    const auctionId = randomUUID();
    for (let seq = 1; seq <= 3; seq++) await log.publish(bidPlacedNow(auctionId, seq), { timeoutMs: 100 });

    const deliveries: string[][] = [];
    const caughtUpWhileHandling: boolean[] = [];
    await start(log.consumer('bid-persister'), async (batch) => {
      deliveries.push(batch.messages.map((m) => m.offset));
      caughtUpWhileHandling.push(await log.isCaughtUp(auctionId));
      if (deliveries.length === 1) throw new Error('database unavailable');
    });

    await vi.waitFor(async () => expect(await log.isCaughtUp(auctionId)).toBe(true));
    expect(deliveries).toEqual([
      ['0', '1', '2'],
      ['0', '1', '2'],
    ]);
    expect(caughtUpWhileHandling).toEqual([false, false]);
  });

  it("is caught up on an auction only when the persisting group has committed its partition's end", async () => {
    const log = createMemoryBidLog();
    const auctionId = randomUUID();
    expect(await log.isCaughtUp(auctionId)).toBe(true);
    await log.publish(bidPlacedNow(auctionId, 1), { timeoutMs: 100 });
    expect(await log.isCaughtUp(auctionId)).toBe(false);

    // Another group's progress says nothing about what has been persisted.
    let othersRead = 0;
    await start(log.consumer('notifier'), async (batch) => {
      othersRead += batch.messages.length;
    });
    await vi.waitFor(() => expect(othersRead).toBe(1));
    expect(await log.isCaughtUp(auctionId)).toBe(false);

    await start(log.consumer('bid-persister'), async () => {});
    await vi.waitFor(async () => expect(await log.isCaughtUp(auctionId)).toBe(true));
  });

  it('waits up to waitMs for the persister to commit the partition, and answers false if it does not in time', async () => {
    const log = createMemoryBidLog();
    const auctionId = randomUUID();
    await log.publish(bidPlacedNow(auctionId, 1), { timeoutMs: 100 });
    expect(await log.isCaughtUp(auctionId, { waitMs: 50 })).toBe(false);

    const answer = log.isCaughtUp(auctionId, { waitMs: 10_000 });
    await start(log.consumer('bid-persister'), async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    expect(await answer).toBe(true);
  });

  it('resumes a group from its committed offsets when a new member starts', async () => {
    const log = createMemoryBidLog({ partitions: 1 });
    const auctionId = randomUUID();
    await log.publish(bidPlacedNow(auctionId, 1), { timeoutMs: 100 });
    const first: number[] = [];
    const member = await start(log.consumer('g'), async (batch) => {
      first.push(...batch.messages.map((m) => seqOf(m.value)));
    });
    await vi.waitFor(() => expect(first).toEqual([1]));
    await member.stop();

    await log.publish(bidPlacedNow(auctionId, 2), { timeoutMs: 100 });
    const second: number[] = [];
    await start(log.consumer('g'), async (batch) => {
      second.push(...batch.messages.map((m) => seqOf(m.value)));
    });
    await vi.waitFor(() => expect(second).toEqual([2]));
  });

  it('keeps offsets stable after dropping what every group has committed', async () => {
    const log = createMemoryBidLog({ partitions: 1, maxBatchSize: 700 });
    const auctionId = randomUUID();
    const offsets: string[] = [];
    await start(log.consumer('bid-persister'), async (batch) => {
      offsets.push(...batch.messages.map((m) => m.offset));
    });
    for (let seq = 1; seq <= 2_500; seq++) await log.publish(bidPlacedNow(auctionId, seq), { timeoutMs: 100 });

    await vi.waitFor(async () => expect(await log.isCaughtUp(auctionId)).toBe(true));
    expect(offsets).toEqual(Array.from({ length: 2_500 }, (_, i) => String(i)));
    await log.publish(bidPlacedNow(auctionId, 2_501), { timeoutMs: 100 });
    await vi.waitFor(() => expect(offsets.at(-1)).toBe('2500'));
  });

  it('refuses a second running member of the same group', async () => {
    const log = createMemoryBidLog();
    await start(log.consumer('g'), async () => {});
    await expect(log.consumer('g').run(async () => {})).rejects.toThrow(/already has a running member/);
  });

  it('stops at once while backing off from a failing batch, without sitting out the backoff', async () => {
    // Only timeouts are faked: time moves when the test says, so "at once" means with no time passing.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const log = createMemoryBidLog();
      await log.publish(bidPlacedNow(randomUUID(), 1), { timeoutMs: 100 });
      let attempts = 0;
      const consumer = log.consumer('g');
      await consumer.run(async () => {
        attempts++;
        throw new Error('always failing');
      });
      // Backoff doubles from 100 ms: after the fourth attempt the consumer waits 800 ms.
      await vi.advanceTimersByTimeAsync(100 + 200 + 400);
      expect(attempts).toBe(4);
      expect(vi.getTimerCount()).toBe(1);

      let stopped = false;
      const stopping = consumer.stop().then(() => (stopped = true));
      // A macrotask later, with the clock standing still: whatever stop() awaits must be done.
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      await stopping;
      expect(attempts).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
