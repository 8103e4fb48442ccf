import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { markPersisted, persistedEntries } from '../../src/workers/mark-persisted.js';
import type { AuctionEndedMessage } from '../../src/ports/bid-log.js';
import type { PersistedEntry } from '../../src/ports/price-book.js';
import { bidPlacedNow } from '../support/bid-messages.js';

describe('telling the price book what a batch persisted', () => {
  it('reports per auction the highest seq, counting an extension, and every bid id', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const first = bidPlacedNow(a, 1);
    const extending = { ...bidPlacedNow(a, 2), extension: { seq: 3, endsAt: new Date().toISOString() } };
    const other = bidPlacedNow(b, 7);
    const end: AuctionEndedMessage = {
      v: 1, type: 'AuctionEnded', id: randomUUID(), auctionId: b, seq: 8, at: new Date().toISOString(), sold: true, finalPrice: 1007,
      winnerId: other.bid.bidderId, winningBidId: other.id, reserveStatus: 'NO_RESERVE', bidCount: 7, currentPrice: 1007, leadingBidId: other.id, leaderId: other.bid.bidderId,
    };

    expect(persistedEntries([extending, other, first, end])).toEqual([
      { auctionId: a, seq: 3, bidIds: [extending.id, first.id] },
      { auctionId: b, seq: 8, bidIds: [other.id] },
    ]);
  });

  it("counts a decision's automatic bid and a purchase's end, and names the automatic bid too", () => {
    const auctionId = randomUUID();
    const answered = bidPlacedNow(auctionId, 1);
    const automatic = { id: randomUUID(), bidderId: randomUUID(), amount: 1200, maxAmount: 1500, seq: 2 };
    const withAutomatic = { ...answered, automatic, extension: { seq: 3, endsAt: answered.endsAt } };
    expect(persistedEntries([withAutomatic])).toEqual([{ auctionId, seq: 3, bidIds: [answered.id, automatic.id] }]);

    const bought = bidPlacedNow(auctionId, 4);
    const ended: AuctionEndedMessage = {
      v: 1, type: 'AuctionEnded', id: randomUUID(), auctionId, seq: 5, at: bought.at, sold: true, finalPrice: 1004,
      winnerId: bought.bid.bidderId, winningBidId: bought.id, reserveStatus: 'NO_RESERVE', bidCount: 4, currentPrice: 1004, leadingBidId: bought.id, leaderId: bought.bid.bidderId,
    };
    expect(persistedEntries([{ ...bought, ended }])).toEqual([{ auctionId, seq: 5, bidIds: [bought.id] }]);
  });

  it('makes one call for the batch, and none for an empty one', async () => {
    const calls: PersistedEntry[][] = [];
    const book = { markPersisted: async (entries: PersistedEntry[]) => void calls.push(entries) };
    await markPersisted(book, [], pino({ level: 'silent' }));
    await markPersisted(book, [bidPlacedNow(randomUUID(), 1), bidPlacedNow(randomUUID(), 4)], pino({ level: 'silent' }));
    expect(calls.map((entries) => entries.map((e) => e.seq))).toEqual([[1, 4]]);
  });

  it('logs a price book that cannot be told, and does not fail the batch', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (context: unknown) => void warnings.push(context) };
    const book = { markPersisted: () => Promise.reject(new Error('redis down')) };
    await expect(markPersisted(book, [bidPlacedNow(randomUUID(), 1)], logger)).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ auctions: 1 })]);
  });
});
