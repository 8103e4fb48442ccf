import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { OperationMetrics } from './operation-log.js';
import type { WsServerDeps } from './ws-server.js';

export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/** What the gateway records and serves. */
export type GatewayMetrics = MetricsExposition & OperationMetrics & WsServerDeps['metrics'];

/** GET /metrics: the registry in Prometheus's text format. */
export function metricsHandler(metrics: MetricsExposition, logger: Logger): RequestHandler {
  return async (_req, res) => {
    try {
      const body = await metrics.render();
      res.setHeader('content-type', metrics.contentType);
      res.setHeader('cache-control', 'no-store');
      res.send(body);
    } catch (error) {
      logger.error({ err: error }, 'rendering metrics failed');
      res.status(500).type('text/plain').send('metrics unavailable\n');
    }
  };
}
