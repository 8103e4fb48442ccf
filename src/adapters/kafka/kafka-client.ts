import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How long one request may wait for its response (kafkajs default 30 s is too long for a bid). */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  retry?: RetryOptions;
}

// Bounded so that a dead cluster surfaces as an error within seconds instead of a hang.
const DEFAULT_RETRY: RetryOptions = { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 };

/** A kafkajs client whose logs go to pino and whose retries are bounded. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const logger = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 5_000,
    retry: options.retry ?? DEFAULT_RETRY,
    logLevel: logLevel.INFO,
    logCreator: () => (entry) => log(logger, entry),
  });
}

function log(logger: Logger, { namespace, level, log: { message, timestamp: _timestamp, ...extra } }: LogEntry): void {
  const fields = { namespace, ...extra };
  if (level === logLevel.ERROR) logger.error(fields, message);
  else if (level === logLevel.WARN) logger.warn(fields, message);
  // kafkajs narrates every join and connect at INFO; that is debugging detail for this service.
  else logger.debug(fields, message);
}
