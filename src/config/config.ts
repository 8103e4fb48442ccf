import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`)
    .optional();

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().default('./.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  MIGRATE_ON_START: bool.default(false),
  MIGRATIONS_DIR: z.string().default('prisma/migrations'),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  KAFKA_BROKERS: z
    .string()
    .trim()
    .min(1)
    .transform((v) => v.split(',').map((b) => b.trim()).filter(Boolean))
    .optional(),
  KAFKA_CLIENT_ID: z.string().default('auction-platform'),
  KAFKA_BID_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]+$/).default('bid-events'),
  KAFKA_GROUP_PREFIX: z.string().default(''),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  KAFKA_HEARTBEAT_MS: z.coerce.number().int().min(50).default(3_000),
  KAFKA_MAX_WAIT_MS: z.coerce.number().int().min(1).default(100),
  REDIS_KEY_PREFIX: z.string().default(''),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  PLAYGROUND: bool.optional(),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).default(10),
  MAX_QUERY_COMPLEXITY: z.coerce.number().int().min(10).default(2000),
  SIGN_IN_ATTEMPTS_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  SIGN_IN_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(60),
  SIGN_IN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).default(12_000),
  WS_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(10),
  WS_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(200),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(50),
  TWILIO_ACCOUNT_SID: z.string().trim().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().trim().min(1).optional(),
  TWILIO_FROM_NUMBER: z.string().trim().min(1).optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().trim().min(1).optional(),
  /** Where the Twilio SDK sends its requests; only for proxies and test servers. */
  TWILIO_API_URL: optionalUrl(['http', 'https']),
  OUTBID_SMS_WINDOW_SECONDS: z.coerce.number().int().min(0).default(600),
});

export type Env = z.input<typeof EnvSchema>;

/** The typed configuration, parsed once at start-up. */
export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; publicUrl: string; playground: boolean; shutdownGraceMs: number };
  log: { level: string; format: 'pretty' | 'json' };
  dataDir: string;
  database: { url?: string; poolSize: number; migrateOnStart: boolean; migrationsDir: string };
  redis: { url?: string; keyPrefix: string };
  kafka: {
    brokers?: string[];
    clientId: string;
    bidTopic: string;
    groupPrefix: string;
    sessionTimeoutMs: number;
    heartbeatMs: number;
    maxWaitMs: number;
  };
  auth: { jwtSecret?: string; tokenTtlSeconds: number };
  websocket: { keepAliveMs: number; maxConnectionsPerUser: number; maxConnectionsPerIp: number; maxSubscriptionsPerConnection: number };
  /** Present only when Twilio credentials and a sender are configured. */
  twilio?: { accountSid: string; authToken: string; from?: string; messagingServiceSid?: string; apiUrl?: string };
  notifications: { outbidSmsWindowSeconds: number };
  limits: {
    maxQueryDepth: number;
    maxQueryComplexity: number;
    signIn: { perEmail: number; perIp: number; windowSeconds: number };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment into a Config, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError(['JWT_SECRET: required in production']);
  }
  const twilioKeys = [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN].filter(Boolean).length;
  if (twilioKeys === 1) throw new ConfigError(['TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither']);
  if (twilioKeys === 2 && !e.TWILIO_FROM_NUMBER && !e.TWILIO_MESSAGING_SERVICE_SID) {
    throw new ConfigError(['TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: required with Twilio credentials']);
  }
  const port = e.PORT;
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port,
      publicUrl: e.PUBLIC_URL ?? `http://localhost:${port}`,
      playground: e.PLAYGROUND ?? e.NODE_ENV !== 'production',
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (isTty ? 'pretty' : 'json') },
    dataDir: e.DATA_DIR,
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      // The embedded database is always brought up to date: nobody else would migrate it.
      migrateOnStart: e.MIGRATE_ON_START || !e.DATABASE_URL,
      migrationsDir: e.MIGRATIONS_DIR,
    },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      bidTopic: e.KAFKA_BID_TOPIC,
      groupPrefix: e.KAFKA_GROUP_PREFIX,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatMs: e.KAFKA_HEARTBEAT_MS,
      maxWaitMs: e.KAFKA_MAX_WAIT_MS,
    },
    auth: { jwtSecret: e.JWT_SECRET, tokenTtlSeconds: e.JWT_TTL_SECONDS },
    websocket: {
      keepAliveMs: e.WS_KEEPALIVE_MS,
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      maxConnectionsPerIp: e.WS_MAX_CONNECTIONS_PER_IP,
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    },
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN
        ? {
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM_NUMBER,
            messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
            apiUrl: e.TWILIO_API_URL,
          }
        : undefined,
    notifications: { outbidSmsWindowSeconds: e.OUTBID_SMS_WINDOW_SECONDS },
    limits: {
      maxQueryDepth: e.MAX_QUERY_DEPTH,
      maxQueryComplexity: e.MAX_QUERY_COMPLEXITY,
      signIn: { perEmail: e.SIGN_IN_ATTEMPTS_PER_EMAIL, perIp: e.SIGN_IN_ATTEMPTS_PER_IP, windowSeconds: e.SIGN_IN_WINDOW_SECONDS },
    },
  };
}
