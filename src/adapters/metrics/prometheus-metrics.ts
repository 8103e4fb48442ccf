import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UseCaseMetrics } from '../../ports/metrics.js';

export interface WebSocketStats {
  /** Acknowledged graphql-ws connections. */
  connections: number;
  /** Subscriptions streaming events. */
  subscriptions: number;
}

export interface PrometheusMetricsOptions {
  /** Consumer groups whose lag is read at every scrape, and how; a read that fails or hangs drops the series. */
  consumerLag: { groups: readonly string[]; read(group: string): Promise<number>; timeoutMs?: number };
  /** Distinct operation names that get series of their own; later ones are counted as "other". */
  maxOperationNames?: number;
  logger: Logger;
}

/** Every metric the platform exposes, recorded into the registry the composition root owns. */
export interface PrometheusMetrics extends UseCaseMetrics {
  readonly contentType: string;
  /** The Prometheus text exposition of the registry. */
  render(): Promise<string>;
  operation(sample: { transport: 'http' | 'ws'; operation: string | null; outcome: string; seconds: number }): void;
  bidLogPublished(seconds: number, outcome: 'ok' | 'error'): void;
  /** Where open WebSocket connections and subscriptions are read from at each scrape. */
  observeWebSockets(read: () => WebSocketStats): void;
}

const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Up to the bid's 3 s publish deadline, finely below 10 ms, where an in-sync Kafka ack should land.
const PUBLISH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3];

/** Registers the platform's metrics in `registry`; the process's default metrics are the caller's choice. */
export function createPrometheusMetrics(registry: Registry, options: PrometheusMetricsOptions): PrometheusMetrics {
  const registers = [registry];
  const { logger } = options;
  const maxOperationNames = options.maxOperationNames ?? 200;
  const lagTimeoutMs = options.consumerLag.timeoutMs ?? 2_000;

  const operations = new Counter({
    name: 'auction_graphql_operations_total',
    help: 'GraphQL operations by name, outcome (OK or the first error code) and transport (http, or ws for a subscribe).',
    labelNames: ['operation', 'outcome', 'transport'] as const,
    registers,
  });
  const operationSeconds = new Histogram({
    name: 'auction_graphql_operation_duration_seconds',
    help: 'Time to answer a GraphQL operation over HTTP, or to set up a subscription over WebSocket.',
    labelNames: ['operation', 'transport'] as const,
    buckets: OPERATION_BUCKETS,
    registers,
  });
  const bidsAccepted = new Counter({
    name: 'auction_bids_accepted_total',
    help: 'New bids accepted and held by the bid log (replays of a retried idempotency key are not counted).',
    registers,
  });
  const bidsRefused = new Counter({
    name: 'auction_bids_refused_total',
    help: 'Bids not accepted, by the error code their bidder got.',
    labelNames: ['reason'] as const,
    registers,
  });
  const publishSeconds = new Histogram({
    name: 'auction_bid_log_publish_duration_seconds',
    help: 'Time for the bid log to acknowledge a published bid, by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    buckets: PUBLISH_BUCKETS,
    registers,
  });
  const outbidSms = new Counter({
    name: 'auction_outbid_sms_total',
    help: 'Outbid SMS notices by outcome (SENT, SUPPRESSED, FAILED, PENDING, SKIPPED_NO_PROVIDER, ALREADY_RECORDED).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const bidsDeadLettered = new Counter({
    name: 'auction_bids_dead_lettered_total',
    help: 'Bid-log messages the bid worker dead-lettered, by cause (invalid, refused by Postgres): accepted bids that will not be persisted. Alert on any.',
    labelNames: ['cause'] as const,
    registers,
  });
  const closes = new Counter({
    name: 'auction_closes_total',
    help: 'Auctions the closing job claimed, by outcome (ended, cancelled, not-due, failed).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const closeLateness = new Histogram({
    name: 'auction_close_lateness_seconds',
    help: "Time from an auction's end to its AuctionEnded being in the log.",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });

  let webSockets: (() => WebSocketStats) | undefined;
  new Gauge({
    name: 'auction_websocket_connections',
    help: 'Open, acknowledged graphql-ws connections.',
    registers,
    collect() {
      this.set(webSockets?.().connections ?? 0);
    },
  });
  new Gauge({
    name: 'auction_graphql_active_subscriptions',
    help: 'GraphQL subscriptions currently streaming over WebSocket.',
    registers,
    collect() {
      this.set(webSockets?.().subscriptions ?? 0);
    },
  });

  const { groups, read } = options.consumerLag;
  new Gauge({
    name: 'auction_consumer_lag_messages',
    help: 'Messages of the bid log a worker group has yet to commit; absent when the log cannot say.',
    labelNames: ['group'] as const,
    registers,
    async collect() {
      await Promise.all(
        groups.map(async (group) => {
          try {
            this.set({ group }, await withTimeout(read(group), lagTimeoutMs, `reading the lag of ${group}`));
          } catch (error) {
            // A stale number would look like progress that is not happening; no series says "unknown".
            this.remove({ group });
            logger.warn({ err: error, group }, 'consumer lag unavailable');
          }
        }),
      );
    },
  });

  // Operation names come from clients: past the cap, new ones share one series so that a client
  // inventing names cannot grow the registry without bound.
  const knownNames = new Set<string>();
  const operationLabel = (name: string | null): string => {
    if (!name) return 'anonymous';
    if (knownNames.has(name)) return name;
    if (knownNames.size >= maxOperationNames || name.length > 100) return 'other';
    knownNames.add(name);
    return name;
  };

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    operation({ transport, operation, outcome, seconds }) {
      const label = operationLabel(operation);
      operations.inc({ operation: label, outcome, transport });
      operationSeconds.observe({ operation: label, transport }, seconds);
    },
    bidLogPublished(seconds, outcome) {
      publishSeconds.observe({ outcome }, seconds);
    },
    observeWebSockets(readStats) {
      webSockets = readStats;
    },
    bidAccepted() {
      bidsAccepted.inc();
    },
    bidRefused(code) {
      bidsRefused.inc({ reason: code });
    },
    outbidSms(outcome) {
      outbidSms.inc({ outcome });
    },
    bidDeadLettered(cause) {
      bidsDeadLettered.inc({ cause });
    },
    auctionClosed(outcome, lateBySeconds) {
      closes.inc({ outcome });
      if (lateBySeconds !== undefined) closeLateness.observe(lateBySeconds);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
