import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { raw, type GraphQLErrorBody } from '../support/client.js';
import { connect } from '../support/ws-client.js';

/** The document of the incident: each fragment spreads the next twice, 30 levels deep, about 1 KB. */
const fragmentBomb = [
  'query { ...F0 }',
  ...Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
  'fragment F30 on Query { serverTime }',
].join('\n');

// Each document trips one limit of the app below and no other, so each answer names its own reason.
const refused: Array<[name: string, query: string, reason: string]> = [
  ['the 30-level fragment bomb', fragmentBomb, 'TOO_MANY_FIELDS'],
  ['10,000 aliases', `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: serverTime`).join(' ')} }`, 'TOO_MANY_ALIASES'],
  ['a 210 kB document', `{ serverTime }\n${`# ${'x'.repeat(98)}\n`.repeat(2_100)}`, 'DOCUMENT_TOO_LARGE'],
  ['45,000 tokens', `{ ${'a '.repeat(45_000)}}`, 'TOO_MANY_TOKENS'],
  ['60 directives', `{ serverTime${' @include(if: true)'.repeat(60)} }`, 'TOO_MANY_DIRECTIVES'],
  ['the same field selected 30 times', `{ ${'me { id } '.repeat(30)}}`, 'TOO_MANY_REPEATED_FIELDS'],
];

/** Runs one document over a graphql-ws connection and collects the errors it ends with. */
function errorsOverWebSocket(client: Client, query: string): Promise<GraphQLErrorBody[]> {
  return new Promise((resolve, reject) => {
    const errors: GraphQLErrorBody[] = [];
    client.subscribe(
      { query },
      {
        next: (result) => void errors.push(...((result.errors ?? []) as unknown as GraphQLErrorBody[])),
        error: (error) => (Array.isArray(error) ? resolve(error as GraphQLErrorBody[]) : reject(error)),
        complete: () => resolve(errors),
      },
    );
  });
}

/** A bare graphql-transport-ws socket, acknowledged, for what the graphql-ws client would not send. */
async function openAcknowledged(wsUrl: string): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  const [ack] = await once(socket, 'message');
  expect(JSON.parse(String(ack))).toEqual({ type: 'connection_ack' });
  return socket;
}

describeApp('document limits', () => {
  let app: TestApp;
  let client: Client;
  beforeAll(async () => {
    app = await startTestApp({
      env: {
        // Room for the alias and token documents to reach the checks they are about.
        MAX_DOCUMENT_BYTES: '200000',
        MAX_QUERY_TOKENS: '40000',
        WS_MAX_PAYLOAD_BYTES: '262144',
        WS_MAX_MESSAGES_PER_SECOND: '20',
      },
    });
    client = await connect(app.wsUrl);
  });
  afterAll(async () => {
    await client?.dispose();
    await app?.close();
  });

  describe('over HTTP', () => {
    it.each(refused)('refuses %s with BAD_USER_INPUT and its reason, under 400', async (_name, query, reason) => {
      const result = await raw(app.url, query);
      expect(result.status).toBe(400);
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason });
      expect(result.data ?? null).toBeNull();
    });

    it('still runs a document within every limit', async () => {
      const result = await raw(app.url, '{ serverTime }');
      expect(result.status).toBe(200);
      expect(result.data?.serverTime).toEqual(expect.any(String));
    });
  });

  describe('over WebSocket', () => {
    it.each(refused)('refuses %s with BAD_USER_INPUT and its reason', async (_name, query, reason) => {
      const errors = await errorsOverWebSocket(client, query);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason });
    });

    it('closes a socket that sends a message over the payload limit with 1009', async () => {
      const socket = await openAcknowledged(app.wsUrl);
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ serverTime } #${'x'.repeat(270_000)}` } }));
      const [code] = await once(socket, 'close');
      expect(code).toBe(1009);
    });

    it('closes a socket that floods messages with 4429, answering only those within the rate', async () => {
      const socket = await openAcknowledged(app.wsUrl);
      let pongs = 0;
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'pong') pongs++;
      });
      const closed = once(socket, 'close');
      // One answered first: answers to the flood may still be queued when the socket is closed.
      socket.send(JSON.stringify({ type: 'ping' }));
      await vi.waitFor(() => expect(pongs).toBe(1));
      for (let i = 1; i < 200; i++) socket.send(JSON.stringify({ type: 'ping' }));
      const [code] = await closed;
      expect(code).toBe(4429);
      expect(pongs).toBeGreaterThan(0);
      expect(pongs).toBeLessThan(200);
    });
  });

  it('answers the health probe while bombs arrive over HTTP and WebSocket at once, and none gets a 5xx', async () => {
    // Before the limits, the first bomb held the event loop for minutes and the probe waited behind
    // it: this test then ends in its timeout.
    const origin = new URL(app.url).origin;
    const [health, answers, overWebSocket] = await Promise.all([
      fetch(`${origin}/healthz`),
      Promise.all(refused.map(([, query]) => raw(app.url, query))),
      Promise.all(refused.map(([, query]) => errorsOverWebSocket(client, query))),
    ]);
    expect(health.status).toBe(200);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 400));
    expect(overWebSocket.map((errors) => errors[0]?.extensions?.code)).toEqual(refused.map(() => 'BAD_USER_INPUT'));
  });
});

describeApp('production posture', () => {
  let production: TestApp;
  let introspecting: TestApp;
  beforeAll(async () => {
    [production, introspecting] = await Promise.all([
      startTestApp({ env: { NODE_ENV: 'production' } }),
      startTestApp({ env: { NODE_ENV: 'production', INTROSPECTION: 'true' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([production?.close(), introspecting?.close()]);
  });

  const schemaQuery = '{ __schema { queryType { name } } }';
  const misspelt = '{ serverTim }';

  /** The first error of a document over a fresh graphql-ws connection. */
  async function firstErrorOverWebSocket(app: TestApp, query: string): Promise<GraphQLErrorBody | undefined> {
    const client = await connect(app.wsUrl);
    try {
      return (await errorsOverWebSocket(client, query))[0];
    } finally {
      await client.dispose();
    }
  }

  it('refuses introspection over HTTP and WebSocket, and still answers __typename', async () => {
    const overHttp = await raw(production.url, schemaQuery);
    expect(overHttp.status).toBe(400);
    expect(overHttp.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(overHttp.data ?? null).toBeNull();
    expect((await firstErrorOverWebSocket(production, schemaQuery))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await raw(production.url, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('leaves "Did you mean" out of errors over HTTP and WebSocket', async () => {
    const expected = 'Cannot query field "serverTim" on type "Query".';
    expect((await raw(production.url, misspelt)).errors?.[0]?.message).toBe(expected);
    expect((await firstErrorOverWebSocket(production, misspelt))?.message).toBe(expected);
  });

  it('answers introspection and suggests fields when INTROSPECTION=true', async () => {
    expect((await raw(introspecting.url, schemaQuery)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const client = await connect(introspecting.wsUrl);
    try {
      const schema = await new Promise<unknown>((resolve, reject) => {
        client.subscribe({ query: schemaQuery }, { next: (result) => resolve(result.data), error: reject, complete: () => {} });
      });
      expect(schema).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await client.dispose();
    }
    expect((await raw(introspecting.url, misspelt)).errors?.[0]?.message).toMatch(/Did you mean "serverTime"\?/);
    expect((await firstErrorOverWebSocket(introspecting, misspelt))?.message).toMatch(/Did you mean "serverTime"\?/);
  });

  it('refuses 10,000 aliases under the default limits with 400, not 500', async () => {
    const result = await raw(production.url, `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: serverTime`).join(' ')} }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DOCUMENT_TOO_LARGE' });
  });
});
