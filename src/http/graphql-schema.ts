import 'reflect-metadata';
import { buildSchema, type ContainerType, type PubSub } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { ServiceDeps } from '../services/deps.js';
import { DateTimeScalar } from '../schema/date-time.scalar.js';
import '../schema/error-code.js';
import { UserResolver } from '../resolvers/user.resolver.js';
import { AuctionResolver } from '../resolvers/auction.resolver.js';
import { BidResolver, PlaceBidPayloadResolver } from '../resolvers/bid.resolver.js';
import { ServerTimeResolver } from '../resolvers/server-time.resolver.js';
import { LiveResolver } from '../resolvers/live.resolver.js';
import { NoticeResolver } from '../resolvers/notice.resolver.js';
import { AuctionEndedResolver } from '../resolvers/auction-event.resolver.js';

export const RESOLVERS = [UserResolver, AuctionResolver, AuctionEndedResolver, BidResolver, PlaceBidPayloadResolver, ServerTimeResolver, LiveResolver, NoticeResolver] as const;

// Every subscription brings its own `subscribe` (services/live), fed by the bid log through
// LiveEvents; type-graphql still insists on a PubSub, so this one refuses to be used.
const noPubSub: PubSub = {
  publish: () => {
    throw new Error('publish through LiveEvents');
  },
  subscribe: () => {
    throw new Error('subscribe through LiveEvents');
  },
};

type ResolverClass = new (deps: ServiceDeps) => object;

/** Builds the executable schema; each resolver gets the service dependencies through its constructor. */
export async function buildGraphSchema(deps: ServiceDeps): Promise<GraphQLSchema> {
  const instances = new Map<unknown, object>(RESOLVERS.map((Resolver: ResolverClass) => [Resolver, new Resolver(deps)]));
  const container: ContainerType = {
    get: (someClass) => {
      const instance = instances.get(someClass);
      if (!instance) throw new Error(`no resolver instance for ${String((someClass as { name?: string }).name)}`);
      return instance;
    },
  };
  return buildSchema({
    resolvers: RESOLVERS,
    container,
    pubSub: noPubSub,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: false,
  });
}
