import { randomUUID } from 'node:crypto';
import type { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Context } from 'graphql-ws';
import { getOperationAST, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { RequestContext } from '../resolvers/context.js';
import type { TokenService } from '../services/auth/tokens.js';
import type { ServiceDeps } from '../services/deps.js';
import { AppError, ErrorCode } from '../domain/errors.js';
import { formatError, isExpected, toGraphQLError } from './errors.js';
import { checkQueryLimits } from './query-limits.js';
import { checkInputs } from './input-guard.js';
import { createSharedSubscribe } from './shared-subscribe.js';
import { documentCache } from './document-cache.js';
import type { DocumentLimits } from './document-limits.js';
import { hidingSuggestions } from './suggestions.js';
import { clientCodeOf, outcomeOf, type OperationObserver, type OperationType } from './operation-log.js';
import type { SchemaGate } from './schema-gate.js';

export interface WsServerDeps {
  schema: GraphQLSchema;
  tokens: TokenService;
  services: ServiceDeps;
  logger: Logger;
  queryLimits: { maxDepth: number; maxComplexity: number };
  /** Checked on each document the cache does not hold yet, before it is validated. */
  documentLimits: DocumentLimits;
  /** Whether subscribes may introspect the schema and errors may carry "Did you mean" suggestions. */
  introspection: boolean;
  limits: Config['websocket'];
  /** Logs and counts each subscribe once it is set up or refused. */
  observer: Pick<OperationObserver, 'report'>;
  /** Reads the open connections and streaming subscriptions at each scrape. */
  metrics: { observeWebSockets(read: () => { connections: number; subscriptions: number }): void };
  /** Closed while the database misses migrations: every subscribe answers UNAVAILABLE. */
  schemaGate: Pick<SchemaGate, 'refusal'>;
}

/** Close codes beyond graphql-ws's own: the client should back off rather than reconnect at once. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;

type Extra = {
  context?: RequestContext;
  /** The keys this connection counts against while it is open. */
  counted?: string[];
  /** Subscribes not yet reported, by message id. */
  pending?: Map<string, PendingSubscribe>;
};

interface PendingSubscribe {
  startedAt: number;
  context: RequestContext;
  operation: string | null;
  operationType: OperationType | null;
}

/**
 * graphql-ws on the gateway's WebSocket server: a token in `connectionParams.authorization` is
 * checked on connect (a forged one closes the socket with 4403), connections are limited per user
 * and per address, sockets are pinged every `keepAliveMs`, and errors are shaped as over HTTP.
 */
export function createWsServer(deps: WsServerDeps, wsServer: WebSocketServer): { dispose(): void | Promise<void> } {
  const { schema, tokens, services, logger, queryLimits, limits, observer } = deps;
  const open = new Map<string, number>();
  const documents = documentCache(schema, { limits: deps.documentLimits, introspection: deps.introspection });
  const formatForClient = deps.introspection ? formatError : hidingSuggestions(formatError);
  const sockets = new Set<Context<Record<string, unknown>, Extra>>();
  // Read from graphql-ws's own bookkeeping rather than counted on the side: it stays exact
  // whichever way a stream ends. An entry holds its stream once the subscription is set up.
  deps.metrics.observeWebSockets(() => {
    let subscriptions = 0;
    for (const socket of sockets) subscriptions += Object.values(socket.subscriptions).filter(Boolean).length;
    return { connections: sockets.size, subscriptions };
  });

  const admit = (keys: Array<[string, number]>): boolean => {
    if (keys.some(([key, max]) => (open.get(key) ?? 0) >= max)) return false;
    for (const [key] of keys) open.set(key, (open.get(key) ?? 0) + 1);
    return true;
  };
  const release = (keys: string[]) => {
    for (const key of keys) {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    }
  };

  // An error with no path and no cause is about the request itself (a document or variables that
  // do not fit the schema): the client's mistake, as Apollo says over HTTP.
  const shape = (raw: GraphQLError): GraphQLError =>
    raw.path || raw.originalError ? raw : toGraphQLError(new AppError(ErrorCode.BAD_USER_INPUT, raw.message, { field: null }));

  const format = (errors: readonly GraphQLError[], context: RequestContext | undefined) =>
    errors.map((raw) => {
      const error = shape(raw);
      if (!isExpected(error)) (context?.logger ?? logger).error({ err: error.originalError ?? error, path: error.path }, 'subscription failed');
      return formatForClient(error.toJSON(), error);
    });

  const reportSubscribe = (ctx: Context<Record<string, unknown>, Extra>, id: string, outcome: string) => {
    const pending = ctx.extra.pending?.get(id);
    if (!pending) return;
    ctx.extra.pending!.delete(id);
    const { context } = pending;
    observer.report({
      transport: 'ws',
      requestId: context.requestId,
      connectionId: ctx.extra.context?.requestId,
      operation: pending.operation,
      operationType: pending.operationType,
      outcome,
      durationMs: performance.now() - pending.startedAt,
      userId: context.viewer?.id ?? null,
    });
  };

  return useServer<Record<string, unknown>, Extra>(
    {
      schema,
      subscribe: createSharedSubscribe((context) => (context as RequestContext).viewer?.id ?? null),
      onConnect: async (ctx) => {
        let viewer;
        try {
          viewer = await tokens.viewerFromAuthorization(ctx.connectionParams?.authorization);
        } catch {
          return false;
        }
        const clientIp = ctx.extra.request.socket.remoteAddress ?? '';
        const keys: Array<[string, number]> = [[`ip:${clientIp}`, limits.maxConnectionsPerIp]];
        if (viewer) keys.push([`user:${viewer.id}`, limits.maxConnectionsPerUser]);
        if (!admit(keys)) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many connections');
          return false;
        }
        ctx.extra.counted = keys.map(([key]) => key);
        const requestId = randomUUID();
        ctx.extra.context = { viewer, requestId, clientIp, logger: logger.child({ requestId }), services };
        sockets.add(ctx);
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.counted) release(ctx.extra.counted);
        ctx.extra.counted = undefined;
        sockets.delete(ctx);
      },
      context: (ctx) => ctx.extra.context!,
      // Subscriptions get the same document checks as HTTP: within the document limits, valid, not too deep, not too costly.
      onSubscribe: async (ctx, id, payload) => {
        // Each subscribe gets a request id of its own; the connection's stays in the logs as connectionId.
        const connection = ctx.extra.context!;
        const requestId = randomUUID();
        const context: RequestContext = { ...connection, requestId, logger: logger.child({ requestId, connectionId: connection.requestId }) };
        const pending: PendingSubscribe = { startedAt: performance.now(), context, operation: null, operationType: null };
        (ctx.extra.pending ??= new Map()).set(id, pending);
        // graphql-ws has already entered this subscription in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [toGraphQLError(new AppError(ErrorCode.RATE_LIMITED, `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`))];
        }
        const refusal = deps.schemaGate.refusal;
        if (refusal) return [toGraphQLError(new AppError(ErrorCode.UNAVAILABLE, refusal))];
        // The token was checked on connect, but a connection outlives it: once it has expired, or
        // its user is gone, new subscribes are refused and the client reconnects with a fresh one.
        if (connection.viewer) {
          try {
            await tokens.viewerFromAuthorization(ctx.connectionParams?.authorization);
          } catch (error) {
            if (error instanceof AppError) return [toGraphQLError(error)];
            throw error;
          }
        }
        const document = documents.validated(payload.query);
        if (!('kind' in document)) return document;
        const operation = getOperationAST(document, payload.operationName ?? undefined);
        pending.operation = operation?.name?.value ?? null;
        pending.operationType = operation?.operation ?? null;
        try {
          // The same input checks as over HTTP (input-guard.ts), first: the limits coerce the variables too.
          if (operation) checkInputs(schema, document, operation, payload.variables ?? {});
          checkQueryLimits(schema, document, payload.variables ?? {}, payload.operationName ?? undefined, queryLimits);
        } catch (error) {
          return [error instanceof AppError ? toGraphQLError(error) : (error as GraphQLError)];
        }
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
      },
      onOperation: async (ctx, id, _payload, _args, operationResult) => {
        const result = await operationResult;
        const [first] = Symbol.asyncIterator in result ? [] : (result.errors ?? []);
        reportSubscribe(ctx, id, first ? clientCodeOf(shape(first)) : 'OK');
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = format(errors, ctx.extra.pending?.get(id)?.context ?? ctx.extra.context);
        reportSubscribe(ctx, id, outcomeOf(formatted));
        return formatted;
      },
      onNext: (ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors, ctx.extra.context) } : undefined),
    },
    wsServer,
    limits.keepAliveMs > 0 ? limits.keepAliveMs : Infinity,
  );
}
