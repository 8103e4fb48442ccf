import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config/config.js';
import { createLogger } from './logger.js';
import { startApp, type Role } from './app.js';

const ROLES: Record<string, Role[]> = { all: ['gateway', 'workers'], gateway: ['gateway'], workers: ['workers'] };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } });
  const roles = ROLES[values.role ?? 'all'];
  if (!roles) throw new ConfigError([`--role: must be one of ${Object.keys(ROLES).join(', ')}`]);
  const config = loadConfig();
  const logger = createLogger(config.log);
  const startedAt = performance.now();
  const app = await startApp(config, logger, { roles: new Set(roles) });
  logger.info(
    { roles, url: app.url, database: config.database.url ? 'postgres' : 'pglite', startupMs: Math.round(performance.now() - startedAt) },
    'auction platform started',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    // The drain itself is bounded by the grace period; this is the backstop.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.http.shutdownGraceMs + 2_000).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
