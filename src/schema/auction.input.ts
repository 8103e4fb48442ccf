import { Extensions, Field, ID, InputType, Int } from 'type-graphql';
import { AuctionStatus } from './enums.js';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';

@InputType()
export class AuctionFilter {
  @Field(() => AuctionStatus, { nullable: true })
  status?: AuctionStatus | null;

  @Field(() => ID, { nullable: true })
  sellerId?: string | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive words matched against title and description.' })
  query?: string | null;

  @Field(() => MoneyScalar, { nullable: true })
  minPrice?: number | null;

  @Field(() => MoneyScalar, { nullable: true })
  maxPrice?: number | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endingBefore?: Date | null;
}

@InputType()
export class CreateAuctionInput {
  @Field()
  title!: string;

  // Longer than the input guard's default (http/input-guard.ts); create-auction.ts checks the same bound.
  @Field()
  @Extensions({ maxLength: 10_000 })
  description!: string;

  @Field(() => MoneyScalar)
  startingPrice!: number;

  @Field(() => MoneyScalar, { nullable: true, description: 'Hidden from bidders; below it the item does not sell.' })
  reservePrice?: number | null;

  @Field(() => MoneyScalar, { nullable: true })
  buyNowPrice?: number | null;

  @Field(() => String, { nullable: true, defaultValue: 'USD' })
  currency?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Defaults to now.' })
  startsAt?: Date | null;

  @Field(() => DateTimeScalar)
  endsAt!: Date;

  @Field(() => Int, { nullable: true, defaultValue: 0 })
  softCloseSeconds?: number | null;
}

@InputType()
export class UpdateAuctionInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  @Extensions({ maxLength: 10_000 })
  description?: string | null;

  @Field(() => MoneyScalar, { nullable: true })
  reservePrice?: number | null;

  @Field(() => MoneyScalar, { nullable: true })
  buyNowPrice?: number | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endsAt?: Date | null;
}
