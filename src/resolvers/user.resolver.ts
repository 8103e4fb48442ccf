import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import { AuthPayload, User } from '../schema/user.type.js';
import { SignUpInput, UpdateMeInput } from '../schema/user.input.js';
import { signUp } from '../services/auth/sign-up.js';
import { signIn } from '../services/auth/sign-in.js';
import { refreshSession, signOut } from '../services/auth/sessions.js';
import { me, updateMe } from '../services/users/me.js';

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Query(() => User, { nullable: true })
  me(@Ctx() ctx: RequestContext) {
    return me(this.deps, ctx.viewer);
  }

  @Mutation(() => AuthPayload)
  signUp(@Arg('input', () => SignUpInput) input: SignUpInput, @Ctx() ctx: RequestContext) {
    return signUp(this.deps, { ...input, clientIp: ctx.clientIp });
  }

  @Mutation(() => AuthPayload)
  signIn(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: RequestContext) {
    return signIn(this.deps, { email, password, clientIp: ctx.clientIp });
  }

  @Mutation(() => AuthPayload, {
    description: 'Trades a refresh token for a new token and a new refresh token; the one sent stops working. UNAUTHENTICATED when it is unknown, expired, revoked or already used.',
  })
  refreshToken(@Arg('token') token: string) {
    return refreshSession(this.deps, token);
  }

  @Mutation(() => Boolean, {
    description: "Revokes the refresh token and every token it was rotated from or into; tokens already issued work until they expire. Always true.",
  })
  signOut(@Arg('refreshToken') refreshToken: string) {
    return signOut(this.deps, refreshToken);
  }

  @Mutation(() => User)
  updateMe(@Arg('input', () => UpdateMeInput) input: UpdateMeInput, @Ctx() ctx: RequestContext) {
    return updateMe(this.deps, ctx.viewer, input);
  }
}
