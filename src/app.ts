import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './config/config.js';
import { systemClock } from './adapters/system-clock.js';
import type { Clock } from './ports/clock.js';
import { openConfiguredDatabase, type Database } from './adapters/postgres/database.js';
import { TokenService } from './services/auth/tokens.js';
import { SignInLimiter } from './services/auth/sign-in-limiter.js';
import { AttemptLimiter } from './services/auth/attempt-limiter.js';
import { boundedHasher, scryptHasher } from './services/auth/password-hasher.js';
import { createKnownUsers } from './services/auth/known-users.js';
import { userDisplayName } from './services/users/user-display-name.js';
import { openRateLimiters } from './adapters/rate-limiters.js';
import type { ServiceDeps } from './services/deps.js';
import { buildGraphSchema } from './http/graphql-schema.js';
import { createHttpServer } from './http/server.js';
import { watchSchema } from './http/schema-gate.js';
import { BID_PERSISTER_GROUP, createBiddingAdapters } from './adapters/bidding.js';
import { createBidWorker } from './workers/bid-worker.js';
import { createNotificationWorker, NOTIFIER_GROUP } from './workers/notification-worker.js';
import { createTwilioWebhookRouter } from './http/twilio-webhook.js';
import { createStripeWebhookRouter } from './http/stripe-webhook.js';
import { createPaymentsJob } from './services/payments/payments-job.js';
import { createClosingJob } from './services/auctions/close-auctions.js';
import { createEvictionJob } from './services/bids/evict-price-books.js';
import { notifyPaymentOverdue } from './services/notifications/payment-overdue.js';
import { openLiveEvents } from './adapters/live/open-live-events.js';
import { createPrometheusMetrics } from './adapters/metrics/prometheus-metrics.js';
import { timedBidLog } from './adapters/metrics/timed-bid-log.js';
import { createBidFinisher } from './services/bids/bid-finisher.js';

export type Role = 'gateway' | 'workers';

export interface App {
  /** The gateway's address, once started with the gateway role. */
  readonly url?: string;
  readonly port?: number;
  readonly deps: ServiceDeps;
  stop(): Promise<void>;
}

/** In development the signing secret is made once and kept in the data directory, so tokens survive restarts. */
async function jwtSecret(config: Config): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(48).toString('base64url');
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

export interface StartOptions {
  roles: ReadonlySet<Role>;
  clock?: Clock;
  /** The database, already being opened (main.ts starts it early); startApp closes it when it stops. */
  database?: Promise<Database>;
}

/** The composition root: builds every client and service the roles need, and starts them. */
export async function startApp(config: Config, logger: Logger, options: StartOptions): Promise<App> {
  const closers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
    }
  };
  try {
    const db = await (options.database ?? openConfiguredDatabase(config, logger));
    closers.push(() => db.close());
    if (config.database.migrateOnStart) {
      const applied = await db.migrate();
      if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
    }

    const bidding = await createBiddingAdapters(config, logger);
    closers.push(() => bidding.close());

    const live = await openLiveEvents(config, logger);
    closers.push(() => live.close());

    // One registry per app rather than prom-client's global one: tests run several apps in one process.
    const registry = new Registry();
    if (config.metrics.enabled) collectDefaultMetrics({ register: registry });
    const metrics = createPrometheusMetrics(registry, {
      consumerLag: { groups: [BID_PERSISTER_GROUP, NOTIFIER_GROUP], read: (group) => bidding.consumerLag(group) },
      logger: logger.child({ component: 'metrics' }),
    });

    const bidLog = timedBidLog(bidding.bidLog, (seconds, outcome) => metrics.bidLogPublished(seconds, outcome));
    // Closed after the gateway stops taking bids and before the bid log closes: accepted bids get
    // the grace to land even when their requests are gone.
    const bidFinisher = createBidFinisher({ bidLog, logger });
    closers.push(() => bidFinisher.close());

    // Only gateways take sign-ins: a workers process keeps no Redis connection for them.
    const rateLimits = await openRateLimiters(config, logger, { shared: options.roles.has('gateway') });
    closers.push(() => rateLimits.close());
    const { signIn, signUp, passwordHashing } = config.limits;
    const cacheMs = config.auth.userCacheSeconds * 1000;
    const knownUsers = createKnownUsers({
      lookup: (id) => userDisplayName({ db: db.prisma }, id),
      ttlMs: cacheMs,
      missingTtlMs: Math.min(cacheMs, 5_000),
      maxEntries: 100_000,
      logger: logger.child({ component: 'auth' }),
    });
    const deps: ServiceDeps = {
      db: db.prisma,
      clock: options.clock ?? systemClock,
      logger,
      users: knownUsers,
      tokens: new TokenService({
        secret: await jwtSecret(config),
        accessTtlSeconds: config.auth.tokenTtlSeconds,
        refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
        // Credentials are judged on the real clock, not the app's: moving the app's clock to end an
        // auction (a test, a replay) must not expire every token with it.
        clock: systemClock,
        users: knownUsers,
      }),
      signInLimiter: new SignInLimiter(
        new AttemptLimiter(rateLimits.limiter('sign-in-email', signIn.perEmail, signIn.windowSeconds)),
        new AttemptLimiter(rateLimits.limiter('sign-in-ip', signIn.perIp, 60)),
      ),
      signUpLimiter: new AttemptLimiter(rateLimits.limiter('sign-up-ip', signUp.perIp, signUp.windowSeconds)),
      // The queue's length is the real bound (a few seconds of hashing); this only sheds waiters
      // whose clients, at the usual 30 s timeout, have given up on them.
      passwords: boundedHasher(scryptHasher, { ...passwordHashing, maxWaitMs: 30_000 }),
      priceBook: bidding.priceBook,
      bidLog,
      bidFinisher,
      live,
      metrics,
      bidEngine: config.bidding.engine,
    };

    // Twilio's SDK takes a while to load: only when configured.
    const sms = config.twilio ? (await import('./adapters/twilio/twilio-sms.js')).createTwilioSms(config.twilio) : null;
    // Stripe's too: a server that takes no payments never loads it.
    const payments = config.stripe ? (await import('./adapters/stripe/stripe-payments.js')).createStripePayments(config.stripe) : null;

    if (options.roles.has('workers')) {
      const worker = createBidWorker({
        db: db.prisma,
        consumer: bidding.consumer(BID_PERSISTER_GROUP),
        dlq: bidding.dlq,
        live,
        metrics,
        payments: { configured: Boolean(config.stripe), deadlineMs: config.payments.deadlineHours * 3600_000 },
        priceBook: deps.priceBook,
        logger,
      });
      await worker.start();
      closers.push(() => worker.stop());
      const notifier = createNotificationWorker({
        db: db.prisma,
        consumer: bidding.consumer(NOTIFIER_GROUP),
        live,
        sms,
        publicUrl: config.http.publicUrl,
        outbidSmsWindowSeconds: config.notifications.outbidSmsWindowSeconds,
        metrics,
        logger,
      });
      await notifier.start();
      closers.push(() => notifier.stop());
      const closingJob = createClosingJob(deps);
      closingJob.start();
      closers.push(() => closingJob.stop());
      const evictionJob = createEvictionJob(deps, { idleSeconds: config.priceBook.idleSeconds });
      evictionJob.start();
      closers.push(() => evictionJob.stop());
      if (payments) {
        const noticeDeps = { db: db.prisma, live, sms, publicUrl: config.http.publicUrl, logger };
        const paymentsJob = createPaymentsJob({
          db: db.prisma,
          clock: deps.clock,
          logger,
          payments,
          publicUrl: config.http.publicUrl,
          onPaymentOverdue: (payment) => notifyPaymentOverdue(noticeDeps, payment),
        });
        paymentsJob.start();
        closers.push(() => paymentsJob.stop());
      }
    }

    let address: { port: number; url: string } | undefined;
    if (options.roles.has('gateway')) {
      const schemaGate = await watchSchema(() => db.pendingMigrations(), logger.child({ component: 'database' }));
      closers.push(async () => schemaGate.stop());
      const http = createHttpServer({
        config,
        schema: await buildGraphSchema(deps),
        tokens: deps.tokens,
        services: deps,
        webhooks: express
          .Router()
          .use(
            createTwilioWebhookRouter({ db: db.prisma, sms, publicUrl: config.http.publicUrl, logger }),
            createStripeWebhookRouter({ db: db.prisma, clock: deps.clock, payments, logger }),
          ),
        logger: logger.child({ component: 'http' }),
        metrics,
        schemaGate,
        checkReady: async () => {
          await db.ping();
          const pending = await db.pendingMigrations();
          if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')}; run \`npm run db:migrate\``);
        },
      });
      address = await http.listen();
      closers.push(() => http.stop());
    }
    return { url: address?.url, port: address?.port, deps, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
