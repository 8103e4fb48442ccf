import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;

  @Field()
  displayName!: string;

  @Field(() => String, { nullable: true, description: 'Only the user themself sees this; null for everyone else.' })
  email!: string | null;

  @Field(() => String, { nullable: true, description: 'E.164, e.g. +14155550123. Only the user themself sees this.' })
  phone!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether outbid and win notices may be sent by SMS. Only the user themself sees this.',
  })
  smsOptIn!: boolean | null;
}

@ObjectType()
export class AuthPayload {
  @Field({ description: "A bearer token: send it as 'Authorization: Bearer <token>', or as connectionParams.authorization over WebSocket." })
  token!: string;

  @Field(() => User)
  user!: User;
}
