import { createUnionType, Field, ID, Int, ObjectType } from 'type-graphql';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { ReserveStatus } from './enums.js';
import { Bid } from './bid.type.js';
import { Auction } from './auction.type.js';
import { User } from './user.type.js';

/**
 * What every auction event has: its auction, its place in the auction's sequence, its time.
 * type-graphql gives each subclass these fields; nothing refers to this class, so the schema has no
 * type of its own for it.
 */
@ObjectType()
abstract class AuctionEventFields {
  @Field(() => ID)
  auctionId!: string;

  @Field(() => Int)
  seq!: number;

  @Field(() => DateTimeScalar)
  at!: Date;
}

@ObjectType()
export class BidPlaced extends AuctionEventFields {
  @Field(() => Bid)
  bid!: Bid;

  @Field(() => MoneyScalar)
  currentPrice!: number;

  @Field(() => MoneyScalar)
  minimumNextBid!: number;

  @Field(() => Int)
  bidCount!: number;

  @Field(() => DateTimeScalar)
  endsAt!: Date;
}

@ObjectType()
export class AuctionExtended extends AuctionEventFields {
  @Field(() => DateTimeScalar)
  endsAt!: Date;
}

@ObjectType()
export class AuctionEnded extends AuctionEventFields {
  @Field()
  sold!: boolean;

  @Field(() => MoneyScalar, { nullable: true })
  finalPrice!: number | null;

  @Field(() => User, { nullable: true })
  winner!: User | null;

  @Field(() => ReserveStatus)
  reserveStatus!: ReserveStatus;
}

@ObjectType()
export class AuctionCancelled extends AuctionEventFields {
  @Field(() => String, { nullable: true })
  reason!: string | null;
}

const EVENT_TYPES = { BidPlaced, AuctionExtended, AuctionEnded, AuctionCancelled } as const;
export type AuctionEventType = keyof typeof EVENT_TYPES;

export const AuctionEvent = createUnionType({
  name: 'AuctionEvent',
  types: () => [BidPlaced, AuctionExtended, AuctionEnded, AuctionCancelled] as const,
  resolveType: (value) => EVENT_TYPES[(value as unknown as { type: AuctionEventType }).type],
});

@ObjectType()
export class OutbidEvent {
  @Field(() => Auction)
  auction!: Auction;

  @Field(() => Bid, { description: 'Your bid that is no longer leading.' })
  yourBid!: Bid;

  @Field(() => MoneyScalar)
  currentPrice!: number;

  @Field(() => MoneyScalar)
  minimumNextBid!: number;

  @Field(() => DateTimeScalar)
  at!: Date;
}
