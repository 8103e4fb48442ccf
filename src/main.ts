import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config/config.js';
import { loadDotEnv } from './config/env-file.js';
import { createLogger } from './logger.js';
import type { App, Role } from './app.js';
import { openConfiguredDatabase } from './adapters/postgres/database.js';
import { ServiceUnreachableError } from './adapters/unreachable.js';

const ROLES: Record<string, Role[]> = { all: ['gateway', 'workers'], gateway: ['gateway'], workers: ['workers'] };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } });
  const roles = ROLES[values.role ?? 'all'];
  if (!roles) throw new ConfigError([`--role: must be one of ${Object.keys(ROLES).join(', ')}`]);
  const dotEnv = loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log);

  // Every role stops the same way: the gateway stops accepting, answers what it has, closes
  // WebSockets with 1001; then the workers finish the batch in hand and commit it; then clients close.
  let app: App | undefined;
  let stopping = false;
  const stop = (running: App) =>
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    // The drain itself is bounded by the grace period; this is the backstop.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.http.shutdownGraceMs + 2_000).unref();
    // A signal during start-up waits for it: migrations and consumer joins are not cut in half.
    if (app) void stop(app);
  };
  // Listening before start-up: as PID 1 in a container, a process with no handler ignores SIGTERM.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const startedAt = performance.now();
  // The embedded database takes seconds to open, much of it compiling WebAssembly off the main
  // thread: opening it first and loading the rest of the server meanwhile saves most of a second
  // or two on every start. The catch only marks the promise handled; startApp awaits it.
  const database = openConfiguredDatabase(config, logger);
  database.catch(() => undefined);
  const { startApp } = await import('./app.js');
  app = await startApp(config, logger, { roles: new Set(roles), database });
  logger.info(
    { roles, url: app.url, database: config.database.url ? 'postgres' : 'pglite', dotEnv, startupMs: Math.round(performance.now() - startedAt) },
    'auction platform started',
  );
  if (stopping) void stop(app);
}

/** What a person can act on, in one message; anything else keeps its stack. */
function describeStartupFailure(error: unknown): string {
  if (error instanceof ConfigError || error instanceof ServiceUnreachableError) return error.message;
  const { code, port, address } = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (code === 'EADDRINUSE') {
    return `Port ${port} on ${address} is already in use: stop whatever listens there, or set PORT to another port (PORT=4001 npm start).`;
  }
  if (code === 'EACCES' && port !== undefined) return `Port ${port} needs more privileges than this process has: set PORT to 1024 or above.`;
  return (error as Error)?.stack ?? String(error);
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeStartupFailure(error)}\n`);
  process.exit(1);
});
