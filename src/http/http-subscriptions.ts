import type { ApolloServerPlugin } from '@apollo/server';
import { AppError, ErrorCode } from '../domain/errors.js';
import { toGraphQLError } from './errors.js';

/**
 * Subscriptions are served over graphql-ws on the same path. Over HTTP Apollo would run one as if
 * it were a query, and its resolvers, written for a stream, would fail as an internal error: it is
 * the client's mistake, refused before execution.
 */
export function refuseSubscriptionsOverHttp(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw toGraphQLError(
            new AppError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) at this same URL, not over HTTP.', {
              field: null,
              reason: 'SUBSCRIPTION_OVER_HTTP',
              http: { status: 400 },
            }),
          );
        },
      };
    },
  };
}
