/**
 * The playground's boot script, run in the browser after React, ReactDOM, GraphiQL and graphql-ws.
 * It is served as a file rather than inlined so the page's Content-Security-Policy can stay
 * `script-src 'self'`. It reads its settings from the page's `#playground-config` JSON block.
 *
 * Queries and mutations go over HTTP with the headers editor's headers. Subscriptions go over
 * graphql-ws on the same URL, and the headers editor's Authorization travels as
 * `connectionParams.authorization`, the form the gateway checks on connect; GraphiQL's own
 * WebSocket fetcher would drop the editor's headers.
 */
export const PLAYGROUND_SCRIPT = String.raw`'use strict';
(function () {
  var config = JSON.parse(document.getElementById('playground-config').textContent);
  var endpoint = new URL(config.endpoint, window.location.href);
  var wsEndpoint = new URL(endpoint.href);
  wsEndpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  var httpFetcher = GraphiQL.createFetcher({ url: endpoint.href });

  // One WebSocket per Authorization value: a changed token needs a new connection, because the
  // server reads the token once, on connect.
  var ws = null;
  function wsClientFor(authorization) {
    if (ws && ws.authorization === authorization) return ws.client;
    if (ws) ws.client.dispose();
    var client = graphqlWs.createClient({
      url: wsEndpoint.href,
      connectionParams: authorization ? { authorization: authorization } : {},
      retryAttempts: 0,
    });
    ws = { authorization: authorization, client: client };
    return client;
  }

  function headerValue(headers, name) {
    if (!headers) return undefined;
    for (var key in headers) {
      if (key.toLowerCase() === name && headers[key] != null) return String(headers[key]);
    }
    return undefined;
  }

  // GraphiQL refreshes its operation name and parsed document 100 ms after an edit, so a quick
  // run can carry the previous ones. The query text itself is always current: work from it.
  function operationOf(params) {
    var document;
    try {
      document = GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      return { params: params, subscription: false }; // the server reports the syntax error
    }
    var operations = document.definitions.filter(function (d) { return d.kind === 'OperationDefinition'; });
    var operation = operations.find(function (d) { return d.name && d.name.value === params.operationName; });
    if (!operation && operations.length === 1) operation = operations[0];
    if (!operation) return { params: params, subscription: false };
    var operationName = operation.name ? operation.name.value : undefined;
    return {
      params: Object.assign({}, params, { operationName: operationName }),
      subscription: operation.operation === 'subscription',
    };
  }

  // GraphiQL prints an Error's message; a bare CloseEvent would print as "{}".
  function describe(error) {
    if (Array.isArray(error) || error instanceof Error) return error;
    if (error && typeof error.code === 'number') {
      return new Error('The WebSocket closed (' + error.code + (error.reason ? ': ' + error.reason : '') + ').');
    }
    return new Error('The WebSocket failed.');
  }

  function fetcher(graphQLParams, opts) {
    var operation = operationOf(graphQLParams);
    var params = operation.params;
    // Without the possibly stale document, GraphiQL's HTTP fetcher goes by the request alone.
    if (!operation.subscription) return httpFetcher(params, Object.assign({}, opts, { documentAST: undefined }));
    var client = wsClientFor(headerValue(opts && opts.headers, 'authorization'));
    return {
      subscribe: function (sink) {
        var dispose = client.subscribe(params, {
          next: function (value) { sink.next(value); },
          error: function (error) { sink.error(describe(error)); },
          complete: function () { sink.complete(); },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      defaultEditorToolsVisibility: true,
      // Tokens stay out of localStorage unless the user ticks GraphiQL's own setting.
      shouldPersistHeaders: false,
    }),
  );
})();
`;
