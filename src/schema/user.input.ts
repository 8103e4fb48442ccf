import { Field, InputType } from 'type-graphql';

@InputType()
export class SignUpInput {
  @Field()
  email!: string;

  @Field({ description: 'At least 10 characters.' })
  password!: string;

  @Field()
  displayName!: string;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  smsOptIn?: boolean | null;
}

@InputType()
export class UpdateMeInput {
  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => Boolean, { nullable: true })
  smsOptIn?: boolean | null;
}
