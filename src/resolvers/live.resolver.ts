import { Args, FieldResolver, Resolver, Root, Subscription } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import type { LiveAuctionEvent, LiveOutbid } from '../ports/live-events.js';
import type { StoredEvent } from '../services/auctions/list-events.js';
import { AuctionEvent, OutbidEvent } from '../schema/event.type.js';
import { AuctionEventsArgs } from '../schema/live.args.js';
import { Auction } from '../schema/auction.type.js';
import { Bid } from '../schema/bid.type.js';
import { toGraphEvent } from '../services/auctions/graph-event.js';
import { watchAuctionEvents } from '../services/live/watch-auction-events.js';
import { watchOutbids } from '../services/live/watch-outbids.js';
import { getAuction } from '../services/auctions/read-auctions.js';
import { getBid } from '../services/bids/get-bid.js';

type SubscribeData<Args> = { args: Args; context: RequestContext };

@Resolver(() => OutbidEvent)
export class LiveResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Subscription(() => AuctionEvent, {
    description: 'Every event of one auction, in seq order.',
    subscribe: ({ args, context }: SubscribeData<AuctionEventsArgs>) => watchAuctionEvents(context.services, args.auctionId, args.afterSeq ?? null),
  })
  auctionEvents(@Root() event: StoredEvent | LiveAuctionEvent, @Args(() => AuctionEventsArgs) _args: AuctionEventsArgs) {
    return toGraphEvent(event);
  }

  @Subscription(() => OutbidEvent, {
    description: "The signed-in user's bids that were just outbid.",
    subscribe: ({ context }: SubscribeData<object>) => watchOutbids(context.services, context.viewer),
  })
  outbid(@Root() notice: LiveOutbid) {
    return { ...notice, at: new Date(notice.at) };
  }

  @FieldResolver(() => Auction)
  auction(@Root() notice: LiveOutbid) {
    return getAuction(this.deps, notice.auctionId);
  }

  @FieldResolver(() => Bid)
  yourBid(@Root() notice: LiveOutbid) {
    return getBid(this.deps, notice.yourBidId);
  }
}
