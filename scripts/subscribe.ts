// Runs one GraphQL subscription over graphql-ws and prints each result as one JSON line on stdout,
// until Ctrl-C or SIGTERM:
//   npm run subscribe -- [--url http://localhost:4000/graphql] [--token <token>] [--variables '<json>'] '<document>'
// Everything that is not a result goes to stderr, so stdout can be saved or piped as JSON lines.
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const USAGE =
  "usage: npm run subscribe -- [--url http://localhost:4000/graphql] [--token <token>] [--variables '<json>'] '<document>'";

function exitWith(code: number, message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://localhost:4000/graphql' },
        token: { type: 'string' },
        variables: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return exitWith(2, `${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) exitWith(0, USAGE);
  if (positionals.length !== 1) exitWith(2, USAGE);

  // The HTTP address works too: the WebSocket is served on the same URL.
  const url = new URL(values.url);
  if (url.protocol === 'http:' || url.protocol === 'https:') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') exitWith(2, `--url must be an http, https, ws or wss URL, not ${values.url}`);

  let variables: Record<string, unknown> | undefined;
  if (values.variables !== undefined) {
    try {
      variables = JSON.parse(values.variables) as Record<string, unknown>;
    } catch {
      exitWith(2, `--variables must be a JSON object, not ${values.variables}`);
    }
  }
  return { url: url.toString(), token: values.token, variables, query: positionals[0]! };
}

const { url, token, variables, query } = parseCommandLine();
let stopping = false;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  // A reconnected subscription would silently miss what happened in between; better to stop and say so.
  retryAttempts: 0,
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  // The 'closed' listener reports it; the default would print a stack.
  onNonLazyError: () => {},
});

let connected = false;
client.on('connected', () => (connected = true));
client.on('closed', (event) => {
  if (stopping) return;
  const { code, reason } = event as { code?: number; reason?: string };
  const what = connected ? `the connection to ${url} closed` : `could not connect to ${url}`;
  exitWith(1, `${what} (${code ?? 'no code'}${reason ? `: ${reason}` : ''})`);
});

let failed = false;
client.subscribe(
  { query, variables },
  {
    next: (result) => {
      if (result.errors) failed = true;
      process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    error: (error) => exitWith(1, `the subscription failed: ${JSON.stringify(error instanceof Error ? error.message : error)}`),
    complete: () => exitWith(failed ? 1 : 0),
  },
);

// graphql-ws does not acknowledge a subscription. The server takes one socket's messages in the order
// they arrive, so the answer to a query sent after the subscription shows the server has it in hand:
// that, rather than a guessed delay, is when this says it is listening (scripts wait for the line).
client.subscribe(
  { query: '{ __typename }' },
  {
    next: () => {},
    error: () => {},
    complete: () => process.stderr.write(`listening on ${url}; Ctrl-C to stop\n`),
  },
);

const stop = () => {
  if (stopping) return;
  stopping = true;
  void Promise.resolve(client.dispose()).finally(() => exitWith(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
