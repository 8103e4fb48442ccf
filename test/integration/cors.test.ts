import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';

const FRONT_END = 'http://shop.example.test:8080';
const ELSEWHERE = 'http://evil.example.test';

/** The HTTP status a WebSocket handshake ends with: 101 when the server switched protocols. */
function handshakeStatus(wsUrl: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', origin ? { origin } : {});
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describeApp('CORS', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Replaces the development defaults: localhost dev servers are then refused like any other.
    app = await startTestApp({ env: { CORS_ORIGINS: FRONT_END } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const preflight = (origin: string) =>
    fetch(app.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization,x-request-id' },
    });
  const post = (origin: string, headers: Record<string, string> = {}) =>
    fetch(app.url, { method: 'POST', headers: { origin, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ serverTime }' }) });

  describe('over HTTP', () => {
    it('answers a preflight from an allowed origin with the origin, the headers a front end sends and a max-age', async () => {
      const response = await preflight(FRONT_END);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(FRONT_END);
      expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(
        expect.arrayContaining(['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight']),
      );
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
      expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThanOrEqual(600);
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('gives a preflight from any other origin no CORS headers at all', async () => {
      for (const origin of [ELSEWHERE, 'http://localhost:5173']) {
        const response = await preflight(origin);
        const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
        expect(cors, origin).toEqual([]);
        expect(response.ok, origin).toBe(false);
      }
    });

    it('lets an allowed origin read the answer and its x-request-id, and tells caches it depends on Origin', async () => {
      const response = await post(FRONT_END, { 'x-request-id': 'from-the-shop' });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(FRONT_END);
      expect(response.headers.get('access-control-expose-headers')).toContain('x-request-id');
      expect(response.headers.get('x-request-id')).toBe('from-the-shop');
      expect(response.headers.get('vary')).toMatch(/origin/i);
      expect(((await response.json()) as { data: { serverTime: string } }).data.serverTime).toBeTruthy();
    });

    it('does not let another origin read the answer', async () => {
      const response = await post(ELSEWHERE);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/origin/i);
    });

    it('keeps CSRF prevention on for allowed origins: a simple GET without a preflight header is refused', async () => {
      const query = `${app.url}?query=${encodeURIComponent('{ serverTime }')}`;
      expect((await fetch(query, { headers: { origin: FRONT_END } })).status).toBe(400);
      expect((await fetch(query, { headers: { origin: FRONT_END, 'apollo-require-preflight': 'true' } })).status).toBe(200);
    });
  });

  describe('over WebSocket', () => {
    it('accepts a handshake from an allowed origin, from its own origin and from clients that send none', async () => {
      expect(await handshakeStatus(app.wsUrl, FRONT_END)).toBe(101);
      expect(await handshakeStatus(app.wsUrl, new URL(app.url).origin)).toBe(101);
      expect(await handshakeStatus(app.wsUrl)).toBe(101);
    });

    it('refuses a handshake from any other origin with 403', async () => {
      expect(await handshakeStatus(app.wsUrl, ELSEWHERE)).toBe(403);
      expect(await handshakeStatus(app.wsUrl, 'http://localhost:5173')).toBe(403);
    });
  });
});
