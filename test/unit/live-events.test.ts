import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveEvents, type LiveTransport } from '../../src/adapters/live/live-events.js';
import { createMemoryTransport } from '../../src/adapters/live/memory-transport.js';
import { createRedisTransport } from '../../src/adapters/live/redis-transport.js';
import { AppError } from '../../src/domain/errors.js';
import type { LiveAuctionEvent, LiveEvents } from '../../src/ports/live-events.js';
import { REDIS_URL, redisSkipReason } from '../support/redis.js';

const logger = pino({ level: 'silent' });
const redisSkip = await redisSkipReason('the Redis live events');

const event = (auctionId: string, seq: number): LiveAuctionEvent => ({
  type: 'AuctionExtended',
  auctionId,
  seq,
  at: new Date(Date.UTC(2026, 10, 22, 12, 0, seq)).toISOString(),
  payload: { endsAt: new Date(Date.UTC(2026, 10, 22, 13, 0, seq)).toISOString() },
});

/** Reads `count` items from an iterator, failing if they do not come within `ms`. */
async function take<T>(iterator: AsyncIterator<T>, count: number, ms = 5_000): Promise<T[]> {
  const items: T[] = [];
  const deadline = sleep(ms).then(() => {
    throw new Error(`only ${items.length} of ${count} arrived`);
  });
  while (items.length < count) {
    const next = await Promise.race([iterator.next(), deadline]);
    if (next.done) break;
    items.push(next.value);
  }
  return items;
}

/** Two buses on one transport medium, as two gateway processes would share Redis. */
interface Pair {
  publisher: LiveEvents;
  subscriber: LiveEvents;
  /** How many subscriptions the medium holds for a channel. */
  subscriptions(channel: string): Promise<number>;
  prefix: string;
}

const pairs: Array<{ name: string; skip: string | null; open(): Promise<Pair> }> = [
  {
    name: 'in-process',
    skip: null,
    async open() {
      const bus = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger });
      return { publisher: bus, subscriber: bus, prefix: '', subscriptions: async () => NaN };
    },
  },
  {
    name: 'Redis',
    skip: redisSkip,
    async open() {
      const prefix = `test-${randomUUID()}:`;
      const bus = () => createLiveEvents(createRedisTransport({ publisher: new Redis(REDIS_URL), subscriber: new Redis(REDIS_URL) }), { keyPrefix: prefix, logger });
      const inspector = new Redis(REDIS_URL);
      opened.push(async () => inspector.disconnect());
      const pair = { publisher: bus(), subscriber: bus() };
      opened.push(() => pair.publisher.close(), () => pair.subscriber.close());
      return {
        ...pair,
        prefix,
        subscriptions: async (channel) => Number(((await inspector.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]),
      };
    },
  },
];
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

describe.each(pairs)('the $name live events', ({ skip, open }) => {
  it('delivers what one bus publishes to every watcher of the auction on another, in order', async (ctx) => {
    if (skip) ctx.skip(skip);
    const { publisher, subscriber } = await open();
    const auctionId = randomUUID();
    const [first, second] = [await subscriber.auctionEvents(auctionId), await subscriber.auctionEvents(auctionId)];
    const otherAuctionId = randomUUID();
    const elsewhere = await subscriber.auctionEvents(otherAuctionId);

    await publisher.publishAuctionEvents([1, 2, 3].map((seq) => event(auctionId, seq)));
    expect((await take(first!, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await take(second!, 3)).toEqual([1, 2, 3].map((seq) => event(auctionId, seq)));
    // Published after the others, the other auction's own event must be the first its watcher reads.
    await publisher.publishAuctionEvents([event(otherAuctionId, 1)]);
    expect(await take(elsewhere, 1)).toEqual([event(otherAuctionId, 1)]);
    await Promise.all([first!.return!(), second!.return!(), elsewhere.return!()]);
  });

  it("delivers an outbid notice only to that user's watchers", async (ctx) => {
    if (skip) ctx.skip(skip);
    const { publisher, subscriber } = await open();
    const [alice, bob] = [randomUUID(), randomUUID()];
    const [aliceWatch, bobWatch] = [await subscriber.outbids(alice), await subscriber.outbids(bob)];
    const notice = { userId: alice, auctionId: randomUUID(), seq: 2, yourBidId: randomUUID(), currentPrice: 1100, minimumNextBid: 1150, at: new Date().toISOString() };

    await publisher.publishOutbids([notice]);
    expect(await take(aliceWatch, 1)).toEqual([notice]);
    // Bob's own notice, published after Alice's, must be the first he reads.
    const bobsNotice = { ...notice, userId: bob, seq: 3 };
    await publisher.publishOutbids([bobsNotice]);
    expect(await take(bobWatch, 1)).toEqual([bobsNotice]);
    await Promise.all([aliceWatch.return!(), bobWatch.return!()]);
  });

  it('ends a waiting watcher at once when it is closed, and leaves the channel when its last watcher goes', async (ctx) => {
    if (skip) ctx.skip(skip);
    const { subscriber, subscriptions, prefix } = await open();
    const auctionId = randomUUID();
    const channel = `${prefix}live:{${auctionId}}:events`;
    const watchers = [await subscriber.auctionEvents(auctionId), await subscriber.auctionEvents(auctionId)];
    const waiting = watchers[0]!.next();

    await watchers[0]!.return!();
    // No event is ever published here: only return() can end the wait.
    expect(await waiting).toEqual({ done: true, value: undefined });
    if (!Number.isNaN(await subscriptions(channel))) {
      expect(await subscriptions(channel)).toBe(1);
      await watchers[1]!.return!();
      await vi.waitFor(async () => expect(await subscriptions(channel)).toBe(0), { timeout: 5_000, interval: 20 });
    }
  });
});

describe('a watcher that stops reading', () => {
  it('keeps only the newest events up to its limit, so a stalled client cannot hold the gateway\'s memory, while a reading one gets all', async () => {
    const live = createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger, maxQueued: 3 });
    const auctionId = randomUUID();
    const stalled = await live.auctionEvents(auctionId);
    const reading = await live.auctionEvents(auctionId);
    const read = take(reading, 5);

    for (const seq of [1, 2, 3, 4, 5]) {
      await live.publishAuctionEvents([event(auctionId, seq)]);
      await new Promise(setImmediate);
    }
    expect((await read).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await take(stalled, 3)).map((e) => e.seq)).toEqual([3, 4, 5]);
    await live.publishAuctionEvents([event(auctionId, 6)]);
    expect((await take(stalled, 1)).map((e) => e.seq)).toEqual([6]);
  });
});

describe('live events over a failing transport', () => {
  it('answers UNAVAILABLE when the transport cannot subscribe, and tries again on the next watcher', async () => {
    let failures = 1;
    const subscribed: string[] = [];
    const memory = createMemoryTransport();
    const flaky: LiveTransport = {
      ...memory,
      subscribe: async (channel) => {
        if (failures-- > 0) throw new Error('ECONNREFUSED');
        subscribed.push(channel);
      },
    };
    const live = createLiveEvents(flaky, { keyPrefix: '', logger });
    const auctionId = randomUUID();

    const refused = await live.auctionEvents(auctionId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('UNAVAILABLE');

    const watcher = await live.auctionEvents(auctionId);
    expect(subscribed).toHaveLength(1);
    await live.publishAuctionEvents([event(auctionId, 1)]);
    expect((await take(watcher, 1)).map((e) => e.seq)).toEqual([1]);
  });

  it('rejects a publish the transport could not hand over, so the caller knows', async () => {
    const live = createLiveEvents({ ...createMemoryTransport(), publish: () => Promise.reject(new Error('READONLY')) }, { keyPrefix: '', logger });
    await expect(live.publishAuctionEvents([event(randomUUID(), 1)])).rejects.toThrow('READONLY');
  });
});
