import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok } from '../support/client.js';
import { createAuction, signUpUser, type TestUser } from '../support/factories.js';
import { connect, subscribe } from '../support/ws-client.js';
import { AuctionEventsDocument, MeDocument, PlaceBidDocument, SignInDocument } from '../generated/graphql.js';

interface OperationLine {
  msg: string;
  transport: 'http' | 'ws';
  requestId: string;
  connectionId?: string;
  operation: string | null;
  operationType: string | null;
  outcome: string;
  durationMs: number;
  userId: string | null;
  status?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeApp('request logs', () => {
  const written: string[] = [];
  let app: TestApp;
  let user: TestUser & { phone: string };
  beforeAll(async () => {
    // Debug level, so that a secret reaching any log line, not only the request lines, is caught.
    app = await startTestApp({ env: { LOG_LEVEL: 'debug' }, logs: { write: (line: string) => void written.push(line) } });
    const phone = '+14155557777';
    user = { ...(await signUpUser(app.url, { displayName: 'Logan', phone, smsOptIn: true })), phone };
  });
  afterAll(async () => {
    await app?.close();
  });

  const operationLines = (): OperationLine[] =>
    written.map((line) => JSON.parse(line) as OperationLine).filter((line) => line.msg === 'graphql operation');

  /** The operation lines of one request id, once the first has been written. */
  const linesOf = (requestId: string) =>
    vi.waitFor(() => {
      const lines = operationLines().filter((line) => line.requestId === requestId);
      expect(lines.length).toBeGreaterThan(0);
      return lines;
    });

  /** Sends a document over HTTP with the given headers; answers the response's x-request-id and body. */
  async function post(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, requestId: response.headers.get('x-request-id')!, body: (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> } };
  }

  it('writes one line per HTTP operation with its name, outcome, duration, viewer and the request id the caller sent', async () => {
    const requestId = `trace-${randomUUID()}`;
    const answer = await post(print(MeDocument), {}, { authorization: `Bearer ${user.token}`, 'x-request-id': requestId });
    expect(answer.requestId).toBe(requestId);

    const lines = await linesOf(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ transport: 'http', operation: 'Me', operationType: 'query', outcome: 'OK', userId: user.id, status: 200 });
    expect(lines[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('logs the error code the client got as the outcome, with no viewer for an anonymous caller', async () => {
    const answer = await post(print(SignInDocument), { email: user.email, password: 'not the password' });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const lines = await linesOf(answer.requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ operation: 'SignIn', operationType: 'mutation', outcome: 'UNAUTHENTICATED', userId: null });
  });

  it('logs a request refused for its token before any operation ran', async () => {
    const answer = await post(print(MeDocument), {}, { authorization: 'Bearer not-a-real-token' });
    expect(answer.status).toBe(401);

    const lines = await linesOf(answer.requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ transport: 'http', outcome: 'UNAUTHENTICATED', status: 401, userId: null });
  });

  it('replaces an x-request-id that is too long or has characters unfit for logs, and echoes the new one', async () => {
    for (const unfit of ['a'.repeat(101), 'id with spaces', 'id"}{"injected":"yes']) {
      const answer = await post(print(MeDocument), {}, { 'x-request-id': unfit });
      expect(answer.requestId).toMatch(UUID);
      expect(await linesOf(answer.requestId)).toHaveLength(1);
    }
    expect(written.some((line) => line.includes('injected'))).toBe(false);
  });

  it('writes one line per WebSocket subscribe, each with a request id of its own', async () => {
    const auction = await createAuction(app.url, user);
    const bidder = await signUpUser(app.url, { displayName: 'Bea' });
    await ok(app.url, PlaceBidDocument, { input: { auctionId: auction.id, amount: '10.00', idempotencyKey: randomUUID() } }, bidder.token);
    const before = operationLines().filter((line) => line.transport === 'ws').length;

    const client = await connect(app.wsUrl, user.token);
    try {
      const live = subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
      await live.waitFor(1);
      const missing = subscribe(client, AuctionEventsDocument, { auctionId: randomUUID(), afterSeq: 0 });
      await missing.ended();

      const lines = await vi.waitFor(() => {
        const ws = operationLines().filter((line) => line.transport === 'ws').slice(before);
        expect(ws).toHaveLength(2);
        return ws;
      });
      expect(lines.map((line) => line.outcome)).toEqual(['OK', 'NOT_FOUND']);
      for (const line of lines) {
        expect(line).toMatchObject({ operation: 'AuctionEvents', operationType: 'subscription', userId: user.id });
        expect(line.requestId).toMatch(UUID);
        expect(line.connectionId).toMatch(UUID);
        expect(line.durationMs).toBeGreaterThanOrEqual(0);
      }
      expect(lines[0]!.requestId).not.toBe(lines[1]!.requestId);
      expect(lines[0]!.connectionId).toBe(lines[1]!.connectionId);
      expect(lines[0]!.requestId).not.toBe(lines[0]!.connectionId);
      live.stop();
    } finally {
      await client.dispose();
    }
  });

  it('never writes a password, email address, phone number or token, whatever was sent', async () => {
    const secrets = await fails(app.url, SignInDocument, { email: user.email, password: user.password }, 'forged.token.value');
    expect(secrets.extensions?.code).toBe('UNAUTHENTICATED');
    await ok(app.url, SignInDocument, { email: user.email, password: user.password });
    await post(print(MeDocument), {}, { authorization: `Bearer ${user.token}` });
    const client = await connect(app.wsUrl, user.token);
    await client.dispose();

    const log = written.join('');
    expect(operationLines().length).toBeGreaterThan(8);
    for (const secret of [user.password, user.email, user.phone, user.token, 'forged.token.value']) {
      expect(log).not.toContain(secret);
    }
  });
});
