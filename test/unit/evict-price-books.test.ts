import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryPriceBook } from '../../src/adapters/memory/memory-price-book.js';
import { createEvictionJob } from '../../src/services/bids/evict-price-books.js';
import { freshBookEntry } from '../../src/services/bids/book-entry.js';

const HOUR = 3_600_000;

describe('the price book eviction job', () => {
  it('evicts, step by step, the books idle past the setting whose bids are all persisted', async () => {
    let now = Date.now();
    const priceBook = createMemoryPriceBook({ clock: () => now });
    const entries = Array.from({ length: 5 }, () =>
      freshBookEntry({
        id: randomUUID(), sellerId: 'seller', state: 'OPEN', startsAt: new Date(now - HOUR), endsAt: new Date(now + HOUR),
        scheduledEndsAt: new Date(now + HOUR), softCloseSeconds: 0, startingPrice: 10_00, reservePrice: null, buyNowPrice: null,
      }),
    );
    for (const entry of entries) await priceBook.load(entry);
    const [busy, waiting] = entries as [(typeof entries)[0], (typeof entries)[0]];
    const job = createEvictionJob({ priceBook, logger: pino({ level: 'silent' }) }, { idleSeconds: 600, batchSize: 2 });
    now += 300_000;
    const bid = await priceBook.placeBid({ auctionId: waiting.auctionId, bidderId: 'alice', bidId: randomUUID(), amount: 10_00, maxAmount: null, idempotencyKey: 'k' });
    expect(bid.outcome).toBe('ACCEPTED');
    now += 300_000;
    await priceBook.peek([busy.auctionId]);

    const evicted: string[] = [];
    for (let step = 0; step < 3; step++) evicted.push(...(await job.runOnce()));

    expect(evicted.sort()).toEqual(entries.slice(2).map((e) => e.auctionId).sort());
    expect([...(await priceBook.peek(entries.map((e) => e.auctionId))).keys()].sort()).toEqual([busy.auctionId, waiting.auctionId].sort());
  });
});
