import { FieldResolver, Resolver, Root, Subscription } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import type { LiveNotice } from '../ports/live-events.js';
import { Notice } from '../schema/notice.type.js';
import { Auction } from '../schema/auction.type.js';
import { watchNotices } from '../services/live/watch-notices.js';
import { getAuction } from '../services/auctions/read-auctions.js';

@Resolver(() => Notice)
export class NoticeResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Subscription(() => Notice, {
    description: "The signed-in user's notices: auctions won, sold, unsold or cancelled, and payments overdue.",
    subscribe: ({ context }: { context: RequestContext }) => watchNotices(context.services, context.viewer),
  })
  notices(@Root() notice: LiveNotice) {
    return { ...notice, at: new Date(notice.at) };
  }

  @FieldResolver(() => Auction)
  auction(@Root() notice: LiveNotice) {
    return getAuction(this.deps, notice.auctionId);
  }
}
