import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { raw } from '../support/client.js';
import { signUpUser } from '../support/factories.js';

describeApp('gateway', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_QUERY_DEPTH: '8', MAX_QUERY_COMPLEXITY: '500' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const origin = () => new URL(app.url).origin;

  describe('the gateway', () => {
    it('answers the liveness and readiness probes', async () => {
      expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
      const ready = await fetch(`${origin()}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
    });

    it('keeps CSRF prevention on: a simple GET without a preflight header is refused', async () => {
      const response = await fetch(`${app.url}?query=${encodeURIComponent('{ serverTime }')}`);
      expect(response.status).toBe(400);
      const allowed = await fetch(`${app.url}?query=${encodeURIComponent('{ serverTime }')}`, { headers: { 'apollo-require-preflight': 'true' } });
      expect(allowed.status).toBe(200);
    });

    it("refuses a subscription sent over HTTP as the client's mistake, pointing to the WebSocket", async () => {
      for (const query of ['subscription { outbid { at } }', `subscription { auctionEvents(auctionId: "${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}") { __typename } }`]) {
        const result = await raw(app.url, query);
        expect(result.status, query).toBe(400);
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(result.errors?.[0]?.extensions?.reason).toBe('SUBSCRIPTION_OVER_HTTP');
        expect(result.errors?.[0]?.message).toMatch(/WebSocket/);
      }
    });

    it('closes a WebSocket whose client sends a message only a server may send with 4400, not 4500', async () => {
      const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws');
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await new Promise((resolve) => socket.once('message', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify({ type: 'next', id: 'x', payload: {} }));
      expect(await closed).toBe(4400);
    });

    it('refuses a document nested beyond the depth limit before running it', async () => {
      const result = await raw(app.url, '{ auctions { edges { node { leadingBid { auction { leadingBid { auction { seller { id } } } } } } } } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/nested/);
      expect(result.data ?? null).toBeNull();
    });

    it('refuses a document whose page sizes multiply past the cost limit', async () => {
      const result = await raw(app.url, '{ auctions(first: 100) { edges { node { bids(first: 100) { edges { node { id } } } } } } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/costs/);
    });

    it('answers a document that does not fit the schema with BAD_USER_INPUT, not a 500', async () => {
      const result = await raw(app.url, '{ nothingHere }');
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('accepts a graphql-ws connection on the same port and path, with or without a token', async () => {
      const user = await signUpUser(app.url);
      for (const authorization of [undefined, `Bearer ${user.token}`]) {
        const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: authorization ? { authorization } : {} });
        await new Promise<void>((resolve, reject) => {
          client.on('connected', () => resolve());
          client.on('closed', (event) => reject(new Error(`closed: ${(event as { code?: number }).code}`)));
        });
        await client.dispose();
      }
    });

    it('refuses a graphql-ws connection with a forged token', async () => {
      const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: 'Bearer forged' } });
      const code = await new Promise<number>((resolve) => {
        client.on('connected', () => resolve(0));
        client.on('closed', (event) => resolve((event as { code: number }).code));
      });
      expect(code).toBe(4403);
      await client.dispose();
    });
  });
});
