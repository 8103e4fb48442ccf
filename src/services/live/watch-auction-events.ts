import type { ServiceDeps } from '../deps.js';
import type { LiveAuctionEvent } from '../../ports/live-events.js';
import { badInput, notFound } from '../../domain/errors.js';
import { listEvents, type StoredEvent } from '../auctions/list-events.js';
import { closable } from './closable.js';
import * as v from '../validate.js';

const REPLAY_PAGE = 500;

/**
 * An auction's events as they happen, in seq order and each once. With `afterSeq`, the events
 * after it come first from Postgres; a gap in the live stream is filled from Postgres too, which
 * holds every event before it is published.
 */
export async function watchAuctionEvents(
  deps: Pick<ServiceDeps, 'db' | 'live'>,
  auctionId: string,
  afterSeq: number | null = null,
): Promise<AsyncIterableIterator<StoredEvent | LiveAuctionEvent>> {
  const id = v.uuid('auctionId', auctionId);
  if (afterSeq !== null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw badInput('afterSeq', 'afterSeq must be 0 or more.');
  // Existence only: its live state does not matter to a watcher, and thousands may subscribe at once.
  if (!(await deps.db.auction.findUnique({ where: { id }, select: { id: true } }))) throw notFound('Auction');
  // Subscribed before reading Postgres: an event is either already stored or still to be published.
  const live = await deps.live.auctionEvents(id);
  return closable(inSequence(deps, id, live, afterSeq), live);
}

/**
 * Live events are passed on as the very objects the bus delivered, shared by every watcher on this
 * gateway, so that each is executed once for all of them (http/shared-subscribe.ts).
 */
async function* inSequence(
  deps: Pick<ServiceDeps, 'db'>,
  auctionId: string,
  live: AsyncIterable<LiveAuctionEvent>,
  afterSeq: number | null,
): AsyncGenerator<StoredEvent | LiveAuctionEvent> {
  let last = afterSeq;
  if (last !== null) {
    for await (const event of stored(deps, auctionId, last, Infinity)) {
      yield event;
      last = event.seq;
    }
  }
  for await (const message of live) {
    // A worker that replays a batch publishes its events again.
    if (last !== null && message.seq <= last) continue;
    if (last !== null && message.seq > last + 1) {
      for await (const event of stored(deps, auctionId, last, message.seq)) {
        yield event;
        last = event.seq;
      }
    }
    yield message;
    last = message.seq;
  }
}

/** Stored events with afterSeq < seq < beforeSeq, oldest first. */
async function* stored(deps: Pick<ServiceDeps, 'db'>, auctionId: string, afterSeq: number, beforeSeq: number): AsyncGenerator<StoredEvent> {
  let after = afterSeq;
  for (;;) {
    const page = await listEvents(deps, auctionId, { afterSeq: after, first: REPLAY_PAGE });
    for (const event of page) {
      if (event.seq >= beforeSeq) return;
      yield event;
      after = event.seq;
    }
    if (page.length < REPLAY_PAGE) return;
  }
}
