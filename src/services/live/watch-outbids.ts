import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { LiveOutbid } from '../../ports/live-events.js';
import { unauthenticated } from '../../domain/errors.js';
import { closable } from './closable.js';

// Enough to recognise a replay on any auction a user is bidding in at once.
const REMEMBERED_AUCTIONS = 1_000;

/** The viewer's bids as they stop leading, each notice once. */
export async function watchOutbids(deps: Pick<ServiceDeps, 'live'>, viewer: Viewer): Promise<AsyncIterableIterator<LiveOutbid>> {
  if (!viewer) throw unauthenticated('Sign in to hear when you are outbid.');
  const live = await deps.live.outbids(viewer.id);
  return closable(withoutRepeats(live), live);
}

async function* withoutRepeats(live: AsyncIterable<LiveOutbid>): AsyncGenerator<LiveOutbid> {
  const lastSeq = new Map<string, number>();
  for await (const notice of live) {
    const seen = lastSeq.get(notice.auctionId);
    if (seen !== undefined && notice.seq <= seen) continue;
    lastSeq.delete(notice.auctionId);
    lastSeq.set(notice.auctionId, notice.seq);
    if (lastSeq.size > REMEMBERED_AUCTIONS) lastSeq.delete(lastSeq.keys().next().value!);
    yield notice;
  }
}
