/** The error codes of the public contract (extensions.code). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BID_TOO_LOW: 'BID_TOO_LOW',
  AUCTION_NOT_ACTIVE: 'AUCTION_NOT_ACTIVE',
  BUY_NOW_UNAVAILABLE: 'BUY_NOW_UNAVAILABLE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An expected outcome the client can act on: it always carries a contract code. `details` is what
 * the client is told beside the code (the field at fault, the minimum next bid, when to retry);
 * `http` among them is a hint for the status of a response refused as a whole.
 */
export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export const badInput = (field: string, message: string): AppError =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { field });

export const unauthenticated = (message = 'Sign in to do this.'): AppError =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message: string): AppError => new AppError(ErrorCode.FORBIDDEN, message);

export const notFound = (what: string): AppError => new AppError(ErrorCode.NOT_FOUND, `${what} not found.`);

export const unavailable = (message = 'A dependency is unavailable; nothing was changed. Retry with the same idempotencyKey.'): AppError =>
  new AppError(ErrorCode.UNAVAILABLE, message);

export const rateLimited = (retryAfterSeconds: number): AppError =>
  new AppError(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
