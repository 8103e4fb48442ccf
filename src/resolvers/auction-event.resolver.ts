import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import type { RequestContext } from './context.js';
import { AuctionEnded } from '../schema/event.type.js';
import { User } from '../schema/user.type.js';
import { getUser } from '../services/users/get-user.js';

@Resolver(() => AuctionEnded)
export class AuctionEndedResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @FieldResolver(() => User, { nullable: true })
  winner(@Root() event: { winnerId: string | null }, @Ctx() ctx: RequestContext) {
    return getUser(this.deps, ctx.viewer, event.winnerId);
  }
}
