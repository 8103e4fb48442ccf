import type { Logger } from 'pino';
import type { Viewer } from '../domain/clock.js';

/** What every resolver knows about the request it serves. */
export interface RequestContext {
  viewer: Viewer;
  requestId: string;
  clientIp: string;
  logger: Logger;
}
