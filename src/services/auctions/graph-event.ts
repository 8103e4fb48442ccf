import type { StoredEvent } from './list-events.js';
import type { LiveAuctionEvent } from '../../ports/live-events.js';

const DATE_FIELDS = new Set(['at', 'endsAt', 'placedAt']);

// Stored payloads are JSON with ISO dates; the GraphQL types want Date objects back.
const reviveDates = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reviveDates);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, DATE_FIELDS.has(key) && typeof inner === 'string' ? new Date(inner) : reviveDates(inner)]),
  );
};

/** A stored event in the shape of its AuctionEvent union member (discriminated by `type`). */
export function toGraphEvent(event: StoredEvent | LiveAuctionEvent): Record<string, unknown> {
  const fields = reviveDates(event.payload) as Record<string, unknown>;
  // Bids stored before automatic bidding carry no kind: they were all placed by their bidders.
  if (event.type === 'BidPlaced') fields.bid = { kind: 'PLACED', ...(fields.bid as object) };
  return { ...fields, type: event.type, auctionId: event.auctionId, seq: event.seq, at: new Date(event.at) };
}
