import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors.js';

/** Why a request was refused before GraphQL saw it, as `extensions.reason`. */
export const RequestRefusal = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNSUPPORTED_CHARSET: 'UNSUPPORTED_CHARSET',
  UNSUPPORTED_CONTENT_ENCODING: 'UNSUPPORTED_CONTENT_ENCODING',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;

// body-parser's and raw-body's error types, by what the client did wrong.
const BODY_ERRORS: Record<string, { status: number; reason: string; message: string }> = {
  'entity.parse.failed': { status: 400, reason: RequestRefusal.MALFORMED_JSON, message: 'The request body is not valid JSON, or not a JSON object.' },
  'entity.too.large': { status: 413, reason: RequestRefusal.BODY_TOO_LARGE, message: 'The request body is too large.' },
  'charset.unsupported': { status: 415, reason: RequestRefusal.UNSUPPORTED_CHARSET, message: 'The request body must be UTF-8.' },
  'encoding.unsupported': { status: 415, reason: RequestRefusal.UNSUPPORTED_CONTENT_ENCODING, message: 'The content encoding is not supported: send gzip, deflate, br or none.' },
};

/** Answers in the shape of a GraphQL response, so a client reads every refusal the same way. */
function refuse(res: Response, status: number, code: string, message: string, reason?: string): void {
  res.status(status).json({ errors: [{ message, extensions: reason ? { code, reason } : { code } }] });
}

/**
 * Refuses a POST whose body is not JSON (415), before the body parser skips it and Apollo finds no
 * body. A POST without a body is left to Apollo, which says what is missing.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (req.method !== 'POST' || req.is('application/json') !== false) return next();
  refuse(res, 415, ErrorCode.BAD_USER_INPUT, 'A GraphQL request body must be JSON, sent as content-type: application/json.', RequestRefusal.UNSUPPORTED_MEDIA_TYPE);
};

/** A JSON 404 for every address nothing else answered. */
export const routeNotFound: RequestHandler = (_req, res) => {
  refuse(res, 404, ErrorCode.NOT_FOUND, 'Nothing is served at this address; GraphQL is at /graphql.');
};

/**
 * The last handler: whatever a middleware passed on (an unreadable body, an unexpected failure) is
 * answered as JSON in GraphQL's shape, never as Express's HTML page with its stack trace. The
 * client's mistakes keep their 4xx; anything else is logged and masked as a 500.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    // Once the answer has started it cannot be replaced; Express's own handler closes the connection.
    if (res.headersSent) return next(error);
    const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
    const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    if (known) {
      refuse(res, known.status, ErrorCode.BAD_USER_INPUT, known.message, known.reason);
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      // A 4xx from a parser (an aborted upload, a body shorter than its content-length, a corrupt gzip
      // stream): its message may name internals, so only the status is kept.
      refuse(res, status, ErrorCode.BAD_USER_INPUT, 'The request could not be read.', RequestRefusal.BAD_REQUEST);
    } else {
      logger.error({ err: error, method: req.method, path: req.path, requestId: res.locals.requestId }, 'request failed');
      refuse(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error.');
    }
  };
}
