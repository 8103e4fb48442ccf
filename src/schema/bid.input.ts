import { Field, ID, InputType } from 'type-graphql';
import { MoneyScalar } from './money.scalar.js';

@InputType()
export class PlaceBidInput {
  @Field(() => ID)
  auctionId!: string;

  @Field(() => MoneyScalar, { description: 'The bid. With maxAmount, the opening amount of an automatic bid.' })
  amount!: number;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'Makes it an automatic (proxy) bid: the server raises it, one increment at a time, up to this amount.',
  })
  maxAmount?: number | null;

  @Field({ description: 'The same key from the same user returns the original outcome instead of placing a second bid.' })
  idempotencyKey!: string;
}
