import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { VerifyClientCallbackAsync } from 'ws';

/** The request headers a browser front end may send: what Apollo and the gateway read. */
export const CORS_ALLOWED_HEADERS = ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight'];

/** How long a browser may reuse a preflight's answer; Chromium caps it at two hours. */
export const CORS_MAX_AGE_SECONDS = 7200;

/**
 * CORS for the GraphQL endpoint: browsers on `allowedOrigins` may call it; any other origin gets
 * no CORS headers at all, so its browser refuses to send the request (or to show the answer).
 * Apollo's CSRF prevention still applies behind it.
 */
export function graphqlCors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  const handler = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: ['x-request-id'],
    maxAge: CORS_MAX_AGE_SECONDS,
  });
  return (req, res, next) => {
    // The answer depends on Origin even when it carries no CORS headers: a cache must not give
    // one origin's answer to another.
    res.vary('Origin');
    handler(req, res, next);
  };
}

export interface WebSocketOriginPolicy {
  allowedOrigins: readonly string[];
  /** The gateway's public address: its own pages (the playground) may always connect. */
  publicUrl: string;
}

/**
 * Whether a WebSocket handshake may proceed. Browsers always send Origin and never let a page
 * forge it, so a request without one is not from a browser page and is let through (tokens, not
 * origins, protect the API from other clients). A page may connect from an allowed origin or from
 * the gateway's own origin, whether by its public address or by the Host it was reached at.
 */
export function isWebSocketOriginAllowed(origin: string | undefined, host: string | undefined, policy: WebSocketOriginPolicy): boolean {
  if (!origin) return true;
  if (policy.allowedOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return url.origin === new URL(policy.publicUrl).origin || (host !== undefined && url.host === host.toLowerCase());
  } catch {
    // "null" (sandboxed frames, file: pages) and anything else that is not an origin.
    return false;
  }
}

/** `verifyClient` for the WebSocket server: a page from another origin is refused with 403. */
export function verifyWebSocketOrigin(policy: WebSocketOriginPolicy, logger: Logger): VerifyClientCallbackAsync {
  return (info, callback) => {
    if (isWebSocketOriginAllowed(info.origin, info.req.headers.host, policy)) return callback(true);
    logger.info({ origin: info.origin }, 'refused a WebSocket from an origin not in CORS_ORIGINS');
    callback(false, 403, 'Origin not allowed');
  };
}
