import type { Logger } from 'pino';
import type { AuctionLogMessage } from '../ports/bid-log.js';
import type { PersistedEntry, PriceBook } from '../ports/price-book.js';
import { bidIdsOf, lastSeqOf } from '../services/bids/decision-bids.js';

/** Per auction: the highest seq among the persisted messages (of all the events a bid's message holds) and the bids' ids. */
export function persistedEntries(messages: AuctionLogMessage[]): PersistedEntry[] {
  const byAuction = new Map<string, PersistedEntry>();
  for (const message of messages) {
    const seq = message.type === 'BidPlaced' ? lastSeqOf(message) : message.seq;
    const entry = byAuction.get(message.auctionId) ?? { auctionId: message.auctionId, seq, bidIds: [] };
    entry.seq = Math.max(entry.seq, seq);
    if (message.type === 'BidPlaced') entry.bidIds.push(...bidIdsOf(message));
    byAuction.set(message.auctionId, entry);
  }
  return [...byAuction.values()];
}

/**
 * Tells the price book what Postgres now holds. Best-effort: the batch is durable whatever happens
 * here, and a book not told stays unevictable and keeps its messages, which is only memory.
 */
export async function markPersisted(priceBook: Pick<PriceBook, 'markPersisted'>, messages: AuctionLogMessage[], logger: Pick<Logger, 'warn'>): Promise<void> {
  if (messages.length === 0) return;
  const entries = persistedEntries(messages);
  try {
    await priceBook.markPersisted(entries);
  } catch (error) {
    logger.warn({ err: error, auctions: entries.length }, 'could not mark persisted bids in the price book');
  }
}
