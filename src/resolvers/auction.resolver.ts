import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import type { AuctionView } from '../domain/auction.js';
import { Auction, AuctionConnection } from '../schema/auction.type.js';
import { CreateAuctionInput, UpdateAuctionInput } from '../schema/auction.input.js';
import { AuctionsArgs, BidsArgs, CancelAuctionArgs, EventsArgs } from '../schema/auction.args.js';
import { User } from '../schema/user.type.js';
import { Bid, BidConnection } from '../schema/bid.type.js';
import { Payment } from '../schema/payment.type.js';
import { AuctionEvent } from '../schema/event.type.js';
import { getAuction } from '../services/auctions/read-auctions.js';
import { listAuctions } from '../services/auctions/list-auctions.js';
import { createAuction } from '../services/auctions/create-auction.js';
import { updateAuction } from '../services/auctions/update-auction.js';
import { cancelAuction } from '../services/auctions/cancel-auction.js';
import { listEvents } from '../services/auctions/list-events.js';
import { listBids } from '../services/bids/list-bids.js';
import { loadersOf } from './loaders.js';
import { getUser } from '../services/users/get-user.js';
import { paymentFor } from '../services/payments/payment-for.js';
import { toGraphEvent } from '../services/auctions/graph-event.js';

// Lists multiply their cost by the page size, so one document cannot ask for 100 x 100 x 100 nodes.
const pageComplexity = ({ args, childComplexity }: { args: { first?: number }; childComplexity: number }) =>
  1 + (args.first ?? 20) * childComplexity;

@Resolver(() => Auction)
export class AuctionResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Query(() => Auction, { nullable: true })
  auction(@Arg('id', () => ID) id: string) {
    return getAuction(this.deps, id);
  }

  @Query(() => AuctionConnection, { complexity: pageComplexity })
  auctions(@Args(() => AuctionsArgs) args: AuctionsArgs) {
    return listAuctions(this.deps, args);
  }

  @Mutation(() => Auction)
  createAuction(@Arg('input', () => CreateAuctionInput) input: CreateAuctionInput, @Ctx() ctx: RequestContext) {
    return createAuction(this.deps, ctx.viewer, input);
  }

  @Mutation(() => Auction)
  updateAuction(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateAuctionInput) input: UpdateAuctionInput, @Ctx() ctx: RequestContext) {
    return updateAuction(this.deps, ctx.viewer, id, input);
  }

  @Mutation(() => Auction)
  cancelAuction(@Args(() => CancelAuctionArgs) args: CancelAuctionArgs, @Ctx() ctx: RequestContext) {
    return cancelAuction(this.deps, ctx.viewer, args.id, args.reason);
  }

  @FieldResolver(() => User)
  seller(@Root() auction: AuctionView, @Ctx() ctx: RequestContext) {
    return getUser(this.deps, ctx.viewer, auction.sellerId);
  }

  @FieldResolver(() => Bid, { nullable: true })
  leadingBid(@Root() auction: AuctionView, @Ctx() ctx: RequestContext) {
    return auction.leadingBidId ? loadersOf(ctx).bid.load(auction.leadingBidId) : null;
  }

  @FieldResolver(() => User, { nullable: true })
  winner(@Root() auction: AuctionView, @Ctx() ctx: RequestContext) {
    return getUser(this.deps, ctx.viewer, auction.winnerId);
  }

  @FieldResolver(() => Payment, { nullable: true, description: 'Only the winner and the seller see this.' })
  payment(@Root() auction: AuctionView, @Ctx() ctx: RequestContext) {
    return paymentFor(this.deps, ctx.viewer, auction);
  }

  @FieldResolver(() => BidConnection, { description: 'Bid history, newest first.', complexity: pageComplexity })
  bids(@Root() auction: AuctionView, @Args(() => BidsArgs) args: BidsArgs) {
    return listBids(this.deps, auction.id, args);
  }

  @FieldResolver(() => [AuctionEvent], {
    description: 'Every event with seq > afterSeq, oldest first: how a subscriber catches up after a gap.',
    complexity: pageComplexity,
  })
  async events(@Root() auction: AuctionView, @Args(() => EventsArgs) args: EventsArgs) {
    return (await listEvents(this.deps, auction.id, args)).map(toGraphEvent);
  }
}
