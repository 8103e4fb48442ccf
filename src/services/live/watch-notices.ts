import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import type { LiveNotice } from '../../ports/live-events.js';
import { unauthenticated } from '../../domain/errors.js';
import { closable } from './closable.js';

// Each kind comes at most once per auction, so this many remembered is plenty to recognise replays.
const REMEMBERED = 1_000;

/** The viewer's lifecycle notices (won, sold, unsold, cancelled, payment overdue), each once. */
export async function watchNotices(deps: Pick<ServiceDeps, 'live'>, viewer: Viewer): Promise<AsyncIterableIterator<LiveNotice>> {
  if (!viewer) throw unauthenticated('Sign in to hear about your auctions.');
  const live = await deps.live.notices(viewer.id);
  return closable(withoutRepeats(live), live);
}

async function* withoutRepeats(live: AsyncIterable<LiveNotice>): AsyncGenerator<LiveNotice> {
  // One auction's notices of different kinds may share a seq (the seller's SOLD and PAYMENT_OVERDUE).
  const lastSeq = new Map<string, number>();
  for await (const notice of live) {
    const key = `${notice.auctionId} ${notice.kind}`;
    const seen = lastSeq.get(key);
    if (seen !== undefined && notice.seq <= seen) continue;
    lastSeq.delete(key);
    lastSeq.set(key, notice.seq);
    if (lastSeq.size > REMEMBERED) lastSeq.delete(lastSeq.keys().next().value!);
    yield notice;
  }
}
