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

  @Field({ description: 'When the token expires; before then, trade refreshToken for a new one with the refreshToken mutation.' })
  tokenExpiresAt!: Date;

  @Field({ description: 'An opaque token that buys a new token and refresh token once, with the refreshToken mutation. Keep it secret: a used one presented again signs the whole session out.' })
  refreshToken!: string;

  @Field({ description: 'When refreshToken expires; after that, sign in again.' })
  refreshTokenExpiresAt!: Date;

  @Field(() => User)
  user!: User;
}
