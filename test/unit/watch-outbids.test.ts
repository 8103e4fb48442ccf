import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { watchOutbids } from '../../src/services/live/watch-outbids.js';
import { createLiveEvents } from '../../src/adapters/live/live-events.js';
import { createMemoryTransport } from '../../src/adapters/live/memory-transport.js';
import { AppError } from '../../src/domain/errors.js';
import type { LiveOutbid } from '../../src/ports/live-events.js';

const inProcessLive = () => createLiveEvents(createMemoryTransport(), { keyPrefix: '', logger: pino({ level: 'silent' }) });

const notice = (userId: string, auctionId: string, seq: number): LiveOutbid => ({
  userId,
  auctionId,
  seq,
  yourBidId: randomUUID(),
  currentPrice: 10_00 + seq,
  minimumNextBid: 11_00 + seq,
  at: new Date(0).toISOString(),
});

describe('watching for outbids over the in-process live events', () => {
  it('passes each notice on once, dropping a replay of one already seen on the same auction', async () => {
    const live = inProcessLive();
    const userId = randomUUID();
    const [first, second] = [randomUUID(), randomUUID()];
    const notices = await watchOutbids({ live }, { id: userId });
    // A worker that replays a batch publishes its notices again.
    await live.publishOutbids([notice(userId, first, 2), notice(userId, first, 2), notice(userId, first, 1), notice(userId, second, 1), notice(userId, first, 3)]);
    const seen: Array<[string, number]> = [];
    for (let i = 0; i < 3; i++) {
      const { value } = await notices.next();
      seen.push([value.auctionId, value.seq]);
    }
    expect(seen).toEqual([
      [first, 2],
      [second, 1],
      [first, 3],
    ]);
    await notices.return?.();
    await live.close();
  });

  it('hears nothing meant for another user', async () => {
    const live = inProcessLive();
    const [userId, otherId, auctionId] = [randomUUID(), randomUUID(), randomUUID()];
    const notices = await watchOutbids({ live }, { id: userId });
    await live.publishOutbids([notice(otherId, auctionId, 1), notice(userId, auctionId, 2)]);
    expect((await notices.next()).value).toMatchObject({ userId, seq: 2 });
    await notices.return?.();
    await live.close();
  });

  it('refuses an anonymous viewer with UNAUTHENTICATED', async () => {
    const refused = await watchOutbids({ live: inProcessLive() }, null).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('UNAUTHENTICATED');
  });
});
