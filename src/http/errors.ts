import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type ASTNode, type GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../domain/errors.js';
import { fieldOfLiteral } from '../schema/scalar-input.js';

// Apollo's own codes for documents that are malformed or do not fit the schema: the client's fault.
const CLIENT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED']);

/** Whether an error means a dependency (database, Redis, Kafka) could not be reached. */
export function isUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { name, code, message } = current as { name?: string; code?: string; message?: string };
    if (name === 'PrismaClientInitializationError') return true;
    if (code && ['P1001', 'P1002', 'P1017', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001'].includes(code)) return true;
    if (message && /connection (terminated|refused|closed)|Connection is closed|timeout exceeded when trying to connect|ECONNREFUSED/i.test(message)) return true;
    current = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * A domain error as graphql-js, Apollo and graphql-ws expect errors handed to them directly (from a
 * scalar, a plugin, the context function or onSubscribe): a GraphQLError whose extensions are the
 * code and details, `http` among them setting the status of a request refused as a whole.
 */
export function toGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.details, code: error.code }, originalError: error });
}

// The domain error behind an error: itself, or the cause that graphql-js, Apollo or toGraphQLError wrapped.
function appErrorIn(error: unknown): AppError | undefined {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    if (current instanceof AppError) return current;
    seen.add(current);
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** Whether an error reaches the client as it is: expected outcomes and the client's own mistakes. */
export function isExpected(error: unknown): boolean {
  const original = unwrapResolverError(error);
  return appErrorIn(original) !== undefined || isClientError(original);
}

const isClientError = (error: unknown): boolean => {
  const code = (error as { extensions?: { code?: unknown } })?.extensions?.code;
  return typeof code === 'string' && CLIENT_CODES.has(code);
};

// graphql-js names the place in its messages: a variable's path (`at "input.amount"`), a missing
// input field or argument, or the variable; other errors point at the node of the value.
function fieldOf(error: unknown, message: string): string | null {
  const at = /at "([^"]+)"/.exec(message)?.[1];
  if (at) return at.split('.').at(-1)?.replace(/(\[\d+\])+$/, '') ?? null;
  const named = /^Field "(?:\w+\.)?(\w+)" of required type|argument "(\w+)" of type "[^"]+" is required|^Variable "\$(\w+)"/.exec(message);
  if (named) return named[1] ?? named[2] ?? named[3] ?? null;
  return fieldOfLiteral((error as { nodes?: readonly ASTNode[] } | undefined)?.nodes?.[0]);
}

/** Shapes every error into a contract code; anything unexpected is masked. */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const appError = appErrorIn(original);
  if (appError) {
    const { http: _http, ...extensions }: Record<string, unknown> = { ...appError.details, code: appError.code };
    if (appError.code === ErrorCode.BAD_USER_INPUT && !extensions.field) {
      extensions.field = fieldOf(original, formatted.message);
    }
    // A wrapper's message may add to the error's own (graphql-js names the variable and its path).
    return { ...formatted, message: original === appError ? appError.message : formatted.message, extensions };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    return { ...formatted, extensions: { code: ErrorCode.BAD_USER_INPUT, field: fieldOf(original, formatted.message), reason: code } };
  }
  if (isUnavailable(original)) {
    return { message: 'A dependency is unavailable; nothing was changed. Retry with the same idempotencyKey.', path: formatted.path, extensions: { code: ErrorCode.UNAVAILABLE } };
  }
  return { message: 'Internal server error.', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}
