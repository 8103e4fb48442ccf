import { Field, ID, ObjectType } from 'type-graphql';
import { PaymentStatus } from './enums.js';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType()
export class Payment {
  @Field(() => ID)
  id!: string;

  @Field(() => PaymentStatus)
  status!: PaymentStatus;

  @Field(() => MoneyScalar)
  amount!: number;

  @Field(() => String, { nullable: true, description: 'Where the winner completes payment. Only the winner sees this.' })
  checkoutUrl!: string | null;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}
