import { GraphQLError } from 'graphql';
import { ErrorCode } from '../schema/error-code.js';

/** An expected outcome the client can act on: it always carries a contract code. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.code = code;
    this.name = 'AppError';
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
