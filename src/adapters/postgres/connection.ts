import type { ConnectionOptions } from 'node:tls';

/** Where a Postgres server is, as separate fields: never handed to pg as a connection string. */
export interface PgConnectionConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl?: ConnectionOptions;
  connectionTimeoutMillis: number;
}

/** DATABASE_URL could not be understood; the message says which part. */
export class InvalidDatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDatabaseUrlError';
  }
}

const SUPPORTED_PARAMS = new Set(['sslmode', 'connect_timeout']);

// pg waits forever for a connection by default, so an unreachable host would hang start-up and ping.
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Splits a postgres:// URL into fields. pg lets `connectionString` override any field set beside
 * it, so a config derived from one (say, with another database for the shadow) would silently point
 * back at the original database; separate fields cannot.
 */
export function parseDatabaseUrl(url: string): PgConnectionConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidDatabaseUrlError('DATABASE_URL is not a valid URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InvalidDatabaseUrlError(`DATABASE_URL must use postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  const unsupported = [...parsed.searchParams.keys()].filter((key) => !SUPPORTED_PARAMS.has(key));
  if (unsupported.length > 0) {
    // Ignoring e.g. ?schema= would quietly put the tables somewhere else than the operator meant.
    throw new InvalidDatabaseUrlError(`DATABASE_URL has unsupported parameters: ${unsupported.join(', ')}`);
  }

  const user = decodeURIComponent(parsed.username) || 'postgres';
  const config: PgConnectionConfig = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    user,
    database: decodeURIComponent(parsed.pathname.slice(1)) || user,
    connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
  };
  if (parsed.password) config.password = decodeURIComponent(parsed.password);

  const ssl = sslFromMode(parsed.searchParams.get('sslmode'));
  if (ssl) config.ssl = ssl;
  const timeout = parsed.searchParams.get('connect_timeout');
  if (timeout !== null) {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new InvalidDatabaseUrlError('connect_timeout must be a positive number of seconds');
    }
    config.connectionTimeoutMillis = seconds * 1000;
  }
  return config;
}

function sslFromMode(mode: string | null): ConnectionOptions | undefined {
  switch (mode) {
    case null:
    case 'disable':
    // pg cannot try TLS and fall back to plain as libpq does; plain is what that fallback gives.
    case 'allow':
    case 'prefer':
      return undefined;
    case 'require':
    case 'no-verify':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      throw new InvalidDatabaseUrlError(`unsupported sslmode: ${mode}`);
  }
}
