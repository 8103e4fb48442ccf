import { ArgsType, Field, ID, Int } from 'type-graphql';
import { AuctionOrder } from './enums.js';
import { AuctionFilter } from './auction.input.js';

@ArgsType()
export class AuctionsArgs {
  @Field(() => AuctionFilter, { nullable: true })
  filter?: AuctionFilter | null;

  @Field(() => AuctionOrder, { nullable: true, defaultValue: AuctionOrder.ENDING_SOON })
  orderBy?: AuctionOrder | null;

  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
export class BidsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
export class EventsArgs {
  @Field(() => Int)
  afterSeq!: number;

  @Field(() => Int, { nullable: true, defaultValue: 100 })
  first?: number | null;
}

@ArgsType()
export class CancelAuctionArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  reason?: string | null;
}
