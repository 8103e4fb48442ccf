import { Query, Resolver } from 'type-graphql';
import type { ServiceDeps } from '../services/deps.js';
import { DateTimeScalar } from '../schema/date-time.scalar.js';

@Resolver()
export class ServerTimeResolver {
  constructor(private readonly deps: ServiceDeps) {}

  @Query(() => DateTimeScalar, { description: "The server's clock, for countdowns that do not trust the client's." })
  serverTime() {
    return this.deps.clock.now();
  }
}
