import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { WebSocketServer } from 'ws';
import { createWsServer } from './ws-server.js';
import { schemaGateMiddleware, type SchemaGate } from './schema-gate.js';
import { graphqlCors, verifyWebSocketOrigin } from './cors.js';
import { createPlaygroundRouter } from './playground.js';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { RequestContext } from '../resolvers/context.js';
import type { TokenService } from '../services/auth/tokens.js';
import type { ServiceDeps } from '../services/deps.js';
import { AppError } from '../domain/errors.js';
import { formatError, isExpected, toGraphQLError } from './errors.js';
import { queryLimitsPlugin } from './query-limits.js';
import { documentLimitsMiddleware } from './document-limits.js';
import { hidingSuggestions } from './suggestions.js';
import { webSocketLimits } from './ws-transport.js';
import { inputGuardPlugin } from './input-guard.js';
import { refuseSubscriptionsOverHttp } from './http-subscriptions.js';
import { httpErrorHandler, requireJsonBody, routeNotFound } from './http-errors.js';
import { createOperationObserver, requestIdFrom } from './operation-log.js';
import { metricsHandler, type GatewayMetrics } from './metrics.js';

export interface HttpDeps {
  config: Config;
  schema: GraphQLSchema;
  tokens: TokenService;
  services: ServiceDeps;
  /** Provider callbacks (Twilio's delivery reports), mounted at /webhooks. */
  webhooks?: express.Router;
  logger: Logger;
  /** Operation, WebSocket and process metrics; served at /metrics when config.metrics.enabled. */
  metrics: GatewayMetrics;
  /** Closed while the database misses migrations: every operation answers UNAVAILABLE. */
  schemaGate: Pick<SchemaGate, 'refusal'>;
  /** Readiness: resolves when the database is reachable and migrated, rejects with the reason otherwise. */
  checkReady(): Promise<void>;
}

export interface HttpServer {
  listen(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

/** An invalid token is refused outright (401) rather than silently treated as anonymous. */
async function viewerOf(tokens: TokenService, authorization: unknown) {
  try {
    return await tokens.viewerFromAuthorization(authorization);
  } catch (error) {
    if (error instanceof AppError) throw toGraphQLError(new AppError(error.code, error.message, { http: { status: 401 } }));
    throw error;
  }
}

/** The gateway: GraphQL over HTTP and graphql-ws on one port, plus health and readiness probes. */
export function createHttpServer(deps: HttpDeps): HttpServer {
  const { config, schema, tokens, services, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);
  const queryLimits = { maxDepth: config.limits.maxQueryDepth, maxComplexity: config.limits.maxQueryComplexity };

  // Not attached with `server:`: ws would re-emit the HTTP server's listen errors (a port in use)
  // through graphql-ws, which prints them as its own internal error before main.ts can explain them.
  const wsServer = new WebSocketServer({
    noServer: true,
    path: '/graphql',
    verifyClient: verifyWebSocketOrigin({ allowedOrigins: config.http.corsOrigins, publicUrl: config.http.publicUrl }, logger),
    ...webSocketLimits(config.websocket),
  });
  httpServer.on('upgrade', (req, socket, head) => {
    if (!wsServer.shouldHandle(req)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
  });
  const observer = createOperationObserver({ logger, metrics: deps.metrics });
  const wsCleanup = createWsServer(
    {
      schema,
      tokens,
      services,
      logger,
      queryLimits,
      documentLimits: config.limits.document,
      introspection: config.http.introspection,
      limits: config.websocket,
      observer,
      metrics: deps.metrics,
      schemaGate: deps.schemaGate,
    },
    wsServer,
  );

  // With introspection off, "Did you mean" guesses would still spell out the schema.
  const formatForClient = config.http.introspection ? formatError : hidingSuggestions(formatError);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError: formatForClient,
    introspection: config.http.introspection,
    // documentLimitsMiddleware refuses a longer document first, with its reason; this only backs it up.
    parseOptions: { maxTokens: config.limits.document.maxTokens },
    csrfPrevention: true,
    // main.ts owns the signals and stops everything in order; Apollo's own handler would start a
    // second stop that never settles, and the process would only leave through the backstop.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.http.shutdownGraceMs }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      // With the playground on, GraphiQL is served from our own route (playground.ts), not Apollo's.
      config.http.playground ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageProductionDefault(),
      // Before the query limits, which read the variables too: see inputGuardPlugin.
      refuseSubscriptionsOverHttp(),
      inputGuardPlugin(),
      queryLimitsPlugin(queryLimits),
      observer.apolloPlugin,
      {
        async requestDidStart() {
          return {
            async didEncounterErrors({ errors, contextValue }) {
              for (const error of errors) {
                if (!isExpected(error)) contextValue.logger.error({ err: error.originalError ?? error, path: error.path }, 'request failed');
              }
            },
          };
        },
      },
    ],
  });

  if (config.http.playground) app.use(createPlaygroundRouter('/graphql'));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.checkReady();
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ status: 'not ready', reason: error instanceof Error ? error.message : String(error) });
    }
  });
  if (deps.webhooks) app.use('/webhooks', deps.webhooks);
  if (config.metrics.enabled) app.get('/metrics', metricsHandler(deps.metrics, logger));

  let started = false;
  return {
    async listen() {
      await apollo.start();
      started = true;
      app.use(
        '/graphql',
        graphqlCors(config.http.corsOrigins),
        (req, res, next) => {
          const requestId = requestIdFrom(req.headers['x-request-id']);
          res.setHeader('x-request-id', requestId);
          res.locals.requestId = requestId;
          next();
        },
        schemaGateMiddleware(deps.schemaGate),
        requireJsonBody,
        express.json({ limit: '256kb' }),
        observer.httpMiddleware,
        // Before Apollo parses and validates: that is what a bomb of a document makes slow.
        documentLimitsMiddleware(config.limits.document, formatForClient),
        expressMiddleware(apollo, {
          context: async ({ req, res }) => {
            const requestId = res.locals.requestId as string;
            return {
              viewer: await viewerOf(tokens, req.headers.authorization),
              requestId,
              clientIp: req.ip ?? req.socket.remoteAddress ?? '',
              logger: logger.child({ requestId }),
              services,
            };
          },
        }),
      );
      app.use(routeNotFound, httpErrorHandler(logger));
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      return { port, url: `http://127.0.0.1:${port}/graphql` };
    },
    async stop() {
      if (started) await apollo.stop();
      else httpServer.close();
    },
  };
}
