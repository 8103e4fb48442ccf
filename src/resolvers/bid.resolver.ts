import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import type { BidView } from '../domain/bid.js';
import { Bid, PlaceBidPayload } from '../schema/bid.type.js';
import { PlaceBidInput } from '../schema/bid.input.js';
import { LIVE_AUCTION_FIELDS, placeBid, type PlacedBid } from '../services/bids/place-bid.js';
import { placeBidWithRowLock } from '../services/bids/row-lock-bid.js';
import { Auction } from '../schema/auction.type.js';
import { User } from '../schema/user.type.js';
import { BidStatus } from '../schema/enums.js';
import { getBid } from '../services/bids/get-bid.js';
import { bidderOf, bidStatusOf } from '../services/bids/bid-fields.js';
import { loadersOf } from './loaders.js';
import { selectsOnly } from './selection.js';
import { MoneyScalar } from '../schema/money.scalar.js';
import { buyNow, buyNowWithoutPriceBook } from '../services/bids/buy-now.js';

@Resolver(() => Bid)
export class BidResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Query(() => Bid, { nullable: true })
  bid(@Arg('id', () => ID) id: string) {
    return getBid(this.deps, id);
  }

  @Mutation(() => PlaceBidPayload)
  placeBid(@Arg('input', () => PlaceBidInput) input: PlaceBidInput, @Ctx() ctx: RequestContext) {
    const place = this.deps.bidEngine === 'row-lock' ? placeBidWithRowLock : placeBid;
    return place(this.deps, ctx.viewer, input);
  }

  @FieldResolver(() => Auction)
  auction(@Root() bid: BidView, @Ctx() ctx: RequestContext) {
    return loadersOf(ctx).auction.load(bid.auctionId);
  }

  @FieldResolver(() => BidStatus)
  status(@Root() bid: BidView, @Ctx() ctx: RequestContext) {
    return bidStatusOf(auctionLoader(ctx), bid);
  }

  @FieldResolver(() => User, { nullable: true, description: "Only the bidder themself and the auction's seller see this; null for everyone else." })
  bidder(@Root() bid: BidView, @Ctx() ctx: RequestContext) {
    return bidderOf(this.deps, auctionLoader(ctx), ctx.viewer, bid);
  }

  @FieldResolver(() => Boolean)
  isMine(@Root() bid: BidView, @Ctx() ctx: RequestContext) {
    return ctx.viewer?.id === bid.bidderId;
  }

  @FieldResolver(() => MoneyScalar, {
    nullable: true,
    description: 'The most the bidder will pay, as it stood with this bid. Only the bidder themself sees this; null for everyone else, the seller included.',
  })
  async maxAmount(@Root() bid: BidView, @Ctx() ctx: RequestContext) {
    if (ctx.viewer?.id !== bid.bidderId) return null;
    // A bid from an event carries no maximum (events are public): the bid itself has it.
    const known = bid.maxAmount === undefined ? await loadersOf(ctx).bid.load(bid.id) : bid;
    return known ? (known.maxAmount ?? known.amount) : null;
  }

  @Mutation(() => Auction, { description: 'Buys the item at its Buy It Now price, ending the auction with the buyer as winner.' })
  buyNow(@Arg('auctionId', () => ID) auctionId: string, @Arg('idempotencyKey') idempotencyKey: string, @Ctx() ctx: RequestContext) {
    if (this.deps.bidEngine === 'row-lock') throw buyNowWithoutPriceBook();
    return buyNow(this.deps, ctx.viewer, { auctionId, idempotencyKey });
  }
}

@Resolver(() => PlaceBidPayload)
export class PlaceBidPayloadResolver {
  /** From the decision itself when only its fields are asked for (the usual bid form): no read at all. */
  @FieldResolver(() => Auction)
  auction(@Root() placed: PlacedBid, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo) {
    if (placed.live && selectsOnly(info, LIVE_AUCTION_FIELDS)) return placed.live;
    return loadersOf(ctx).auction.load(placed.bid.auctionId);
  }
}

const auctionLoader = (ctx: RequestContext) => (id: string) => loadersOf(ctx).auction.load(id);
