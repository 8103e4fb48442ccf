import { Field, ID, Int, ObjectType } from 'type-graphql';
import { AuctionStatus, ReserveStatus } from './enums.js';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { PageInfo } from './page-info.type.js';

// Relations (seller, leadingBid, winner, payment, bids, events) are field resolvers in auction.resolver.ts.
@ObjectType()
export class Auction {
  @Field(() => ID)
  id!: string;

  @Field()
  title!: string;

  @Field()
  description!: string;

  @Field(() => AuctionStatus)
  status!: AuctionStatus;

  @Field({ description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;

  @Field(() => MoneyScalar)
  startingPrice!: number;

  @Field(() => MoneyScalar, {
    description: 'The price every viewer sees: the leading bid\'s amount, or the starting price before any bid.',
  })
  currentPrice!: number;

  @Field(() => MoneyScalar, {
    description: 'The lowest amount the next bid may have (the starting price, or current price plus the increment).',
  })
  minimumNextBid!: number;

  @Field(() => Int)
  bidCount!: number;

  @Field(() => ReserveStatus)
  reserveStatus!: ReserveStatus;

  @Field(() => MoneyScalar, {
    nullable: true,
    name: 'buyNowPrice',
    description: 'Null when the auction has no Buy It Now price or it is no longer offered.',
  })
  offeredBuyNowPrice!: number | null;

  @Field(() => DateTimeScalar)
  startsAt!: Date;

  @Field(() => DateTimeScalar, { description: 'The effective end: a soft close moves it.' })
  endsAt!: Date;

  @Field(() => Int, {
    description: 'A bid placed this many seconds or less before endsAt moves endsAt to (bid time + softCloseSeconds). 0 means a hard close.',
  })
  softCloseSeconds!: number;

  @Field(() => Int, { description: "The sequence number of the auction's latest event (0 before any)." })
  lastSeq!: number;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType()
export class AuctionEdge {
  @Field()
  cursor!: string;

  @Field(() => Auction)
  node!: Auction;
}

@ObjectType()
export class AuctionConnection {
  @Field(() => [AuctionEdge])
  edges!: AuctionEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
