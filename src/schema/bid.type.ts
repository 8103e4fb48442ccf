import { Field, ID, Int, ObjectType } from 'type-graphql';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { PageInfo } from './page-info.type.js';
import { Auction } from './auction.type.js';
import { BidKind } from './enums.js';

// auction, status, bidder, isMine and maxAmount depend on the viewer or the auction: field resolvers in bid.resolver.ts.
@ObjectType()
export class Bid {
  @Field(() => ID)
  id!: string;

  @Field(() => BidKind)
  kind!: BidKind;

  @Field(() => MoneyScalar)
  amount!: number;

  @Field(() => Int, { description: "Position in the auction's event sequence; strictly increasing within an auction." })
  seq!: number;

  @Field(() => DateTimeScalar)
  placedAt!: Date;

  @Field({ description: 'A masked name every viewer may see, e.g. j***n.' })
  bidderAlias!: string;
}

@ObjectType()
export class BidEdge {
  @Field()
  cursor!: string;

  @Field(() => Bid)
  node!: Bid;
}

@ObjectType()
export class BidConnection {
  @Field(() => [BidEdge])
  edges!: BidEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class PlaceBidPayload {
  @Field(() => Bid)
  bid!: Bid;

  @Field(() => Auction)
  auction!: Auction;
}
