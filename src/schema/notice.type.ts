import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MoneyScalar } from './money.scalar.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { Auction } from './auction.type.js';

export enum NoticeKind {
  WON = 'WON',
  SOLD = 'SOLD',
  UNSOLD = 'UNSOLD',
  CANCELLED = 'CANCELLED',
  PAYMENT_OVERDUE = 'PAYMENT_OVERDUE',
}

registerEnumType(NoticeKind, {
  name: 'NoticeKind',
  valuesConfig: {
    WON: { description: 'You won the auction; pay to complete the purchase.' },
    SOLD: { description: 'Your auction ended with a winner.' },
    UNSOLD: { description: 'Your auction ended without a sale.' },
    CANCELLED: { description: 'An auction you bid on was cancelled by its seller.' },
    PAYMENT_OVERDUE: { description: 'The winner of your auction did not pay in time.' },
  },
});

@ObjectType({ description: 'Something that happened to an auction you sell or bid on.' })
export class Notice {
  @Field(() => NoticeKind)
  kind!: NoticeKind;

  @Field(() => Auction)
  auction!: Auction;

  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => MoneyScalar, { nullable: true, description: 'The final price, or the highest bid of an unsold auction; null when there is none.' })
  amount!: number | null;

  @Field(() => Int, { description: 'The seq of the auction event the notice is about.' })
  seq!: number;
}
