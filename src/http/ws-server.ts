import { randomUUID } from 'node:crypto';
import type { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { GraphQLError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { RequestContext } from '../resolvers/context.js';
import type { TokenService } from '../services/auth/tokens.js';
import type { ServiceDeps } from '../services/deps.js';
import { AppError } from '../domain/errors.js';
import { ErrorCode } from '../schema/error-code.js';
import { formatError, isExpected } from './errors.js';
import { checkQueryLimits } from './query-limits.js';
import { createSharedSubscribe } from './shared-subscribe.js';
import { documentCache } from './document-cache.js';

export interface WsServerDeps {
  schema: GraphQLSchema;
  tokens: TokenService;
  services: ServiceDeps;
  logger: Logger;
  queryLimits: { maxDepth: number; maxComplexity: number };
  limits: Config['websocket'];
}

/** Close codes beyond graphql-ws's own: the client should back off rather than reconnect at once. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;

type Extra = {
  context?: RequestContext;
  /** The keys this connection counts against while it is open. */
  counted?: string[];
};

/**
 * graphql-ws on the gateway's WebSocket server: a token in `connectionParams.authorization` is
 * checked on connect (a forged one closes the socket with 4403), connections are limited per user
 * and per address, sockets are pinged every `keepAliveMs`, and errors are shaped as over HTTP.
 */
export function createWsServer(deps: WsServerDeps, wsServer: WebSocketServer): { dispose(): void | Promise<void> } {
  const { schema, tokens, services, logger, queryLimits, limits } = deps;
  const open = new Map<string, number>();
  const documents = documentCache(schema);

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

  const format = (errors: readonly GraphQLError[], context: RequestContext | undefined) =>
    errors.map((raw) => {
      // An error with no path and no cause is about the request itself (a document or variables that
      // do not fit the schema): the client's mistake, as Apollo says over HTTP.
      const error = raw instanceof AppError || raw.path || raw.originalError ? raw : new AppError(ErrorCode.BAD_USER_INPUT, raw.message, { field: null });
      if (!isExpected(error)) (context?.logger ?? logger).error({ err: error.originalError ?? error, path: error.path }, 'subscription failed');
      return formatError(error.toJSON(), error);
    });

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
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.counted) release(ctx.extra.counted);
        ctx.extra.counted = undefined;
      },
      context: (ctx) => ctx.extra.context!,
      // Subscriptions get the same document checks as HTTP: valid, not too deep, not too costly.
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws has already entered this subscription in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [new AppError(ErrorCode.RATE_LIMITED, `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`)];
        }
        const document = documents.validated(payload.query);
        if (!('kind' in document)) return document;
        try {
          checkQueryLimits(schema, document, payload.variables ?? {}, payload.operationName ?? undefined, queryLimits);
        } catch (error) {
          return [error as GraphQLError];
        }
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: ctx.extra.context };
      },
      onError: (ctx, _id, _payload, errors) => format(errors, ctx.extra.context),
      onNext: (ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors, ctx.extra.context) } : undefined),
    },
    wsServer,
    limits.keepAliveMs > 0 ? limits.keepAliveMs : Infinity,
  );
}
