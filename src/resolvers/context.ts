import type { Logger } from 'pino';
import type { Viewer } from '../domain/viewer.js';
import type { ServiceDeps } from '../services/deps.js';

/** What every resolver knows about the request it serves. */
export interface RequestContext {
  viewer: Viewer;
  requestId: string;
  clientIp: string;
  logger: Logger;
  /** For subscriptions, whose `subscribe` functions type-graphql calls without a resolver instance. */
  services: ServiceDeps;
}
