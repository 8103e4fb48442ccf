import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors.js';

/** Whether the database has every migration the code expects; operations wait behind it. */
export interface SchemaGate {
  /** Why operations are refused, or undefined once the database is up to date. */
  readonly refusal: string | undefined;
  stop(): void;
}

/**
 * Checks the database's migrations once, and while some are pending keeps checking every
 * `intervalMs`, so that `npm run db:migrate` run beside a live gateway opens it without a restart.
 * An up-to-date database is never checked again: migrations only ever move forward while a
 * gateway runs, and a check per request would cost a query each.
 */
export async function watchSchema(pending: () => Promise<string[]>, logger: Logger, intervalMs = 2_000): Promise<SchemaGate> {
  let refusal: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    const names = await pending().catch((error: unknown) => {
      logger.warn({ err: error }, 'could not read the migration history');
      return undefined;
    });
    if (names === undefined) return;
    refusal = names.length > 0 ? `The database is not migrated (pending: ${names.join(', ')}): run \`npm run db:migrate\`, then retry.` : undefined;
  };
  await check();
  if (refusal) {
    logger.error({ reason: refusal }, 'the database is not migrated; every operation answers UNAVAILABLE until it is');
    timer = setInterval(() => {
      void check().then(() => {
        if (refusal) return;
        clearInterval(timer);
        logger.info('the database is migrated; serving operations');
      });
    }, intervalMs);
    timer.unref();
  }
  return {
    get refusal() {
      return refusal;
    },
    stop: () => clearInterval(timer),
  };
}

/** Answers GraphQL requests UNAVAILABLE, in GraphQL's own shape, while the gate is closed. */
export function schemaGateMiddleware(gate: Pick<SchemaGate, 'refusal'>): RequestHandler {
  return (req, res, next) => {
    const refusal = gate.refusal;
    if (!refusal || req.method === 'OPTIONS' || (req.method === 'GET' && req.query.query === undefined)) return next();
    res.status(503).json({ errors: [{ message: refusal, extensions: { code: ErrorCode.UNAVAILABLE } }] });
  };
}
