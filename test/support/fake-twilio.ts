import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import twilio from 'twilio';

/** One request the SDK sent, as the server read it. */
export interface FakeTwilioRequest {
  method: string;
  path: string;
  /** The `Authorization` header, decoded: Twilio's basic auth is account SID and auth token. */
  basicAuth: { username: string; password: string } | null;
  contentType: string | undefined;
  userAgent: string | undefined;
  /** The form fields (To, From or MessagingServiceSid, Body, StatusCallback). */
  form: Record<string, string>;
  /** The message it created, if Twilio would have created one. */
  sid?: string;
}

/** How the next requests fail: an HTTP error with a Twilio code, or a connection reset. */
export type FakeFailure = { status: number; code?: number; message?: string } | 'reset';

export interface FakeTwilio {
  /** Pass to TWILIO_API_URL. */
  url: string;
  readonly requests: ReadonlyArray<FakeTwilioRequest>;
  /** The requests that created a message: answered with success, or held and so taken by Twilio. */
  readonly messages: ReadonlyArray<FakeTwilioRequest & { sid: string }>;
  /** The next `count` message requests fail (and create nothing). */
  failNext(count: number, failure: FakeFailure): void;
  /** Answers every later request only after `ms`. */
  delayResponses(ms: number): void;
  /** Takes later requests (they create their message) but keeps the answers back until released. */
  holdResponses(): void;
  /** Sends the held answers and stops holding. */
  release(): void;
  /** How many answers are held right now. */
  readonly held: number;
  /**
   * Posts a signed status callback for a created message to its StatusCallback URL, as Twilio does.
   * `origin` replaces the URL's origin for the connection only: the signature still covers the URL
   * as given, as it would behind a proxy. Resolves with the HTTP status of the answer.
   */
  sendStatus(message: { sid: string; form: Record<string, string> }, status: string, options?: { origin?: string; errorCode?: string }): Promise<number>;
  /** Resolves once `count` messages were created, or throws after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
}

/**
 * A local stand-in for Twilio's Messages API, for the real SDK to talk to: it records what it is
 * sent and answers as Twilio does, or fails, delays and holds on request.
 */
export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const requests: FakeTwilioRequest[] = [];
  const messages: Array<FakeTwilioRequest & { sid: string }> = [];
  const failures: FakeFailure[] = [];
  const heldAnswers: Array<() => void> = [];
  const sockets = new Set<Socket>();
  let delayMs = 0;
  let holding = false;

  const server = createServer(async (req, res) => {
    const request = await read(req);
    requests.push(request);
    const failure = failures.shift();
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure) {
      answer(res, failure.status, { code: failure.code ?? null, message: failure.message ?? `failure ${failure.status}`, more_info: 'https://www.twilio.com/docs/errors', status: failure.status });
      return;
    }
    if (!request.path.endsWith('/Messages.json') || request.method !== 'POST') {
      answer(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      return;
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    request.sid = sid;
    messages.push(request as FakeTwilioRequest & { sid: string });
    const body = {
      sid,
      account_sid: options.accountSid,
      to: request.form.To,
      from: request.form.From ?? null,
      messaging_service_sid: request.form.MessagingServiceSid ?? null,
      body: request.form.Body,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}.json`,
    };
    const send = () => answer(res, 201, body);
    if (holding) heldAnswers.push(send);
    else if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messages,
    failNext: (count, failure) => {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    delayResponses: (ms) => {
      delayMs = ms;
    },
    holdResponses: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const send of heldAnswers.splice(0)) send();
    },
    get held() {
      return heldAnswers.length;
    },
    sendStatus: async (message, status, { origin, errorCode } = {}) => {
      const callback = message.form.StatusCallback;
      if (!callback) throw new Error(`message ${message.sid} has no StatusCallback`);
      const params: Record<string, string> = {
        AccountSid: options.accountSid,
        MessageSid: message.sid,
        SmsSid: message.sid,
        MessageStatus: status,
        SmsStatus: status,
        To: message.form.To ?? '',
        ApiVersion: '2010-04-01',
        ...(errorCode ? { ErrorCode: errorCode } : {}),
      };
      const signature = twilio.getExpectedTwilioSignature(options.authToken, callback, params);
      const target = new URL(callback);
      const url = origin ? `${origin.replace(/\/+$/, '')}${target.pathname}${target.search}` : callback;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      return response.status;
    },
    waitForMessages: async (count, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} SMS, the fake Twilio got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => {
      holding = false;
      heldAnswers.length = 0;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function read(req: IncomingMessage): Promise<FakeTwilioRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const auth = req.headers.authorization;
  let basicAuth: FakeTwilioRequest['basicAuth'] = null;
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    basicAuth = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return {
    method: req.method ?? '',
    path: new URL(req.url ?? '/', 'http://fake').pathname,
    basicAuth,
    contentType: req.headers['content-type'],
    userAgent: req.headers['user-agent'],
    form: Object.fromEntries(new URLSearchParams(text)),
  };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
