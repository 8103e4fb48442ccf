import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the SDK sent, as the server read it. */
export interface FakeStripeRequest {
  method: string;
  path: string;
  /** The bearer token: Stripe's secret key. */
  apiKey: string | null;
  idempotencyKey: string | undefined;
  /** The form fields, flat as the SDK encodes them (`line_items[0][price_data][currency]`). */
  form: Record<string, string>;
}

/** How the next requests fail: an HTTP error with Stripe's error body, or a reset connection. */
export type FakeStripeFailure = { status: number; type?: string; code?: string; message?: string } | 'reset';

export interface FakeStripeSession {
  id: string;
  url: string;
  status: 'open' | 'complete' | 'expired';
  form: Record<string, string>;
}

export interface FakeStripe {
  /** Pass to STRIPE_API_URL. */
  url: string;
  readonly requests: ReadonlyArray<FakeStripeRequest>;
  /** Checkout sessions created, once each whatever the retries. */
  readonly sessions: ReadonlyArray<FakeStripeSession>;
  /** Refunds created, once each whatever the retries. */
  readonly refunds: ReadonlyArray<{ id: string; form: Record<string, string> }>;
  /** The next `count` requests fail (and change nothing). */
  failNext(count: number, failure: FakeStripeFailure): void;
  /** Marks a session paid, as the payer finishing the checkout would: it can no longer be expired. */
  complete(sessionId: string): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for the few Stripe endpoints the payments adapter uses, for the real SDK to talk
 * to: it records what it is sent and answers as Stripe does, idempotency keys included (the same
 * key answers the same again; the same key with other parameters is refused).
 */
export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: FakeStripeRequest[] = [];
  const sessions: FakeStripeSession[] = [];
  const refunds: Array<{ id: string; form: Record<string, string> }> = [];
  const failures: FakeStripeFailure[] = [];
  const answered = new Map<string, { body: string; status: number; json: unknown }>();
  const sockets = new Set<Socket>();

  const server = createServer(async (req, res) => {
    const { request, body } = await read(req);
    requests.push(request);
    const failure = failures.shift();
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure) {
      answer(res, failure.status, stripeError(failure.type ?? 'api_error', failure.message ?? `failure ${failure.status}`, failure.code));
      return;
    }
    const key = request.idempotencyKey ? `${request.method} ${request.path} ${request.idempotencyKey}` : undefined;
    const earlier = key ? answered.get(key) : undefined;
    if (earlier) {
      if (earlier.body !== body) {
        answer(res, 400, stripeError('idempotency_error', 'Keys for idempotent requests can only be used with the same parameters they were first used with.'));
        return;
      }
      answer(res, earlier.status, earlier.json);
      return;
    }
    const [status, json] = handle(request);
    // Stripe keeps the first answer to a key, errors included, except for its own failures.
    if (key && status < 500) answered.set(key, { body, status, json });
    answer(res, status, json);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function handle(request: FakeStripeRequest): [number, unknown] {
    const expire = /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/.exec(request.path);
    if (request.method === 'POST' && request.path === '/v1/checkout/sessions') {
      const id = `cs_test_${randomBytes(12).toString('hex')}`;
      const session: FakeStripeSession = { id, url: `https://checkout.stripe.test/c/pay/${id}`, status: 'open', form: request.form };
      sessions.push(session);
      return [200, sessionJson(session)];
    }
    if (request.method === 'POST' && expire) {
      const session = sessions.find((s) => s.id === expire[1]);
      if (!session) return [404, stripeError('invalid_request_error', `No such checkout.session: '${expire[1]}'`, 'resource_missing')];
      if (session.status !== 'open') {
        return [400, stripeError('invalid_request_error', `Only Checkout Sessions with a status of open can be expired. This Checkout Session has a status of ${session.status}.`)];
      }
      session.status = 'expired';
      return [200, sessionJson(session)];
    }
    if (request.method === 'POST' && request.path === '/v1/refunds') {
      const id = `re_test_${randomBytes(12).toString('hex')}`;
      refunds.push({ id, form: request.form });
      return [200, { id, object: 'refund', status: 'succeeded', payment_intent: request.form.payment_intent, amount: 0, metadata: {} }];
    }
    return [404, stripeError('invalid_request_error', `Unrecognized request URL (${request.method}: ${request.path})`)];
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sessions,
    refunds,
    failNext: (count, failure) => {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    complete: (sessionId) => {
      const session = sessions.find((s) => s.id === sessionId);
      if (!session) throw new Error(`no session ${sessionId}`);
      session.status = 'complete';
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sessionJson(session: FakeStripeSession) {
  return {
    id: session.id,
    object: 'checkout.session',
    mode: 'payment',
    status: session.status,
    payment_status: 'unpaid',
    url: session.status === 'open' ? session.url : null,
    client_reference_id: session.form.client_reference_id ?? null,
    amount_total: Number(session.form['line_items[0][price_data][unit_amount]'] ?? 0),
    currency: session.form['line_items[0][price_data][currency]'] ?? null,
    expires_at: Math.floor(Date.now() / 1000) + 24 * 3600,
    metadata: {},
  };
}

const stripeError = (type: string, message: string, code?: string) => ({ error: { type, message, ...(code ? { code } : {}) } });

function answer(res: ServerResponse, status: number, json: unknown): void {
  const body = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'request-id': `req_${randomBytes(6).toString('hex')}` });
  res.end(body);
}

async function read(req: IncomingMessage): Promise<{ request: FakeStripeRequest; body: string }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const authorization = req.headers.authorization;
  const idempotencyKey = req.headers['idempotency-key'];
  return {
    body,
    request: {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://stripe.test').pathname,
      apiKey: authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : null,
      idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
      form: Object.fromEntries(new URLSearchParams(body)),
    },
  };
}
