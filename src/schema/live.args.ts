import { ArgsType, Field, ID, Int } from 'type-graphql';

@ArgsType()
export class AuctionEventsArgs {
  @Field(() => ID)
  auctionId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Start with the stored events after this seq, then continue live: a reconnecting client passes the last seq it saw.',
  })
  afterSeq?: number | null;
}
