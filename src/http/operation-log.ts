import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { RequestContext } from '../resolvers/context.js';
import { ErrorCode } from '../domain/errors.js';
import { formatError } from './errors.js';

export type OperationType = 'query' | 'mutation' | 'subscription';

/**
 * One GraphQL operation once it has an answer: over HTTP when the response ends, over a WebSocket
 * when the subscription is set up or refused. Deliberately without variables: they carry
 * passwords, emails and phone numbers.
 */
export interface OperationReport {
  transport: 'http' | 'ws';
  requestId: string;
  /** The operation's name in the document; null when it is anonymous or was never resolved. */
  operation: string | null;
  operationType: OperationType | null;
  /** 'OK', or the code of the first error the client was sent. */
  outcome: string;
  durationMs: number;
  userId: string | null;
  /** HTTP only: the response status. */
  status?: number;
  /** WebSocket only: the request id of the connection the subscribe came on. */
  connectionId?: string;
}

export interface OperationMetrics {
  operation(sample: { transport: 'http' | 'ws'; operation: string | null; outcome: string; seconds: number }): void;
}

export interface OperationObserver {
  /** For /graphql, just before Apollo's middleware (after the body parser, which loses the async context). */
  httpMiddleware: RequestHandler;
  /** Tells the middleware which operation the request was and how it ended. */
  apolloPlugin: ApolloServerPlugin<RequestContext>;
  /** Logs and counts one operation. */
  report(entry: OperationReport): void;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The caller's x-request-id when it is a short plain token, so it is safe in logs and headers; else a new one. */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** The code the client sees for an error, as formatError shapes it. */
export function clientCodeOf(error: unknown): string {
  const formatted: GraphQLFormattedError =
    error instanceof GraphQLError ? error.toJSON() : { message: error instanceof Error ? error.message : String(error) };
  return outcomeOf([formatError(formatted, error)]);
}

/** 'OK' for no errors, else the first one's contract code. */
export function outcomeOf(errors: readonly GraphQLFormattedError[] | undefined): string {
  const [first] = errors ?? [];
  if (!first) return 'OK';
  const code = first.extensions?.code;
  return typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}

interface HttpRecord {
  operation: string | null;
  operationType: OperationType | null;
  /** Set once Apollo has an answer; unset for what never was an operation (the landing page). */
  outcome?: string;
  userId: string | null;
}

/** One log line and one sample per GraphQL operation, over HTTP and WebSocket alike. */
export function createOperationObserver(deps: { logger: Logger; metrics: OperationMetrics }): OperationObserver {
  const { logger, metrics } = deps;
  // Per observer, not per module: Apollo's hooks see the HTTP request they serve through it.
  const requests = new AsyncLocalStorage<HttpRecord>();

  const report = (entry: OperationReport) => {
    const durationMs = Math.round(entry.durationMs * 10) / 10;
    logger.info({ ...entry, durationMs }, 'graphql operation');
    metrics.operation({ transport: entry.transport, operation: entry.operation, outcome: entry.outcome, seconds: entry.durationMs / 1000 });
  };

  const httpMiddleware: RequestHandler = (_req, res, next) => {
    const startedAt = performance.now();
    const record: HttpRecord = { operation: null, operationType: null, userId: null };
    res.once('close', () => {
      const finished = res.writableFinished;
      if (record.outcome === undefined && finished && res.statusCode < 400) return;
      const outcome = record.outcome ?? (!finished ? 'CLIENT_CLOSED_REQUEST' : res.statusCode === 401 ? ErrorCode.UNAUTHENTICATED : ErrorCode.BAD_USER_INPUT);
      report({
        transport: 'http',
        requestId: String(res.locals.requestId ?? ''),
        operation: record.operation,
        operationType: record.operationType,
        outcome,
        durationMs: performance.now() - startedAt,
        userId: record.userId,
        status: res.statusCode,
      });
    });
    requests.run(record, next);
  };

  const apolloPlugin: ApolloServerPlugin<RequestContext> = {
    // An invalid token fails context creation (401), before any request hook runs.
    async contextCreationDidFail({ error }) {
      const record = requests.getStore();
      if (record) record.outcome = clientCodeOf(error);
    },
    async invalidRequestWasReceived({ error }) {
      const record = requests.getStore();
      if (record) record.outcome = clientCodeOf(error);
    },
    async requestDidStart() {
      const record = requests.getStore();
      if (!record) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          record.operation = operationName;
          record.operationType = operation?.operation ?? null;
        },
        async willSendResponse({ response, contextValue }) {
          record.userId = contextValue.viewer?.id ?? null;
          const body = response.body;
          record.outcome = outcomeOf(body?.kind === 'single' ? body.singleResult.errors : body?.initialResult.errors);
        },
      };
    },
  };

  return { httpMiddleware, apolloPlugin, report };
}
