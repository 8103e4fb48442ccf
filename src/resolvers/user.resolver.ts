import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import { AuthPayload, User } from '../schema/user.type.js';
import { SignUpInput, UpdateMeInput } from '../schema/user.input.js';
import { signUp } from '../services/auth/sign-up.js';
import { signIn } from '../services/auth/sign-in.js';
import { me, updateMe } from '../services/users/me.js';

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Query(() => User, { nullable: true })
  me(@Ctx() ctx: RequestContext) {
    return me(this.deps, ctx.viewer);
  }

  @Mutation(() => AuthPayload)
  signUp(@Arg('input', () => SignUpInput) input: SignUpInput) {
    return signUp(this.deps, input);
  }

  @Mutation(() => AuthPayload)
  signIn(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: RequestContext) {
    return signIn(this.deps, { email, password, clientIp: ctx.clientIp });
  }

  @Mutation(() => User)
  updateMe(@Arg('input', () => UpdateMeInput) input: UpdateMeInput, @Ctx() ctx: RequestContext) {
    return updateMe(this.deps, ctx.viewer, input);
  }
}
