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

/** What keeps a CORS_ORIGINS entry from being an origin, if anything. */
function originProblem(item: string): string | undefined {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    return 'must be an origin only (scheme://host[:port]), with no path, query or credentials';
  }
  return undefined;
}

/** A comma-separated list of exact origins, each normalised to the form browsers send in Origin. */
const originList = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const item of value.split(',').map((o) => o.trim()).filter(Boolean)) {
    const problem = originProblem(item);
    if (problem) problems.push(`"${item}" ${problem}`);
    else origins.push(new URL(item).origin);
  }
  // One issue naming every bad entry: the configuration reports one line per variable.
  if (problems.length > 0) ctx.addIssue({ code: 'custom', message: problems.join('; ') });
  return origins;
});

/** Where browser front ends run in development: the usual dev servers' ports. */
const DEV_CORS_ORIGINS = ['http://localhost:3000', 'http://localhost:5173', 'http://127.0.0.1:3000', 'http://127.0.0.1:5173'];

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
  KAFKA_BID_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"').default('bid-events'),
  KAFKA_GROUP_PREFIX: z.string().default(''),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(10_000),
  KAFKA_HEARTBEAT_MS: z.coerce.number().int().min(50).default(500),
  KAFKA_REBALANCE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  KAFKA_MAX_WAIT_MS: z.coerce.number().int().min(1).default(100),
  KAFKA_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(32),
  KAFKA_MAX_BYTES_PER_PARTITION: z.coerce.number().int().min(1_024).default(1_048_576),
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(2),
  KAFKA_BATCH_MAX_MESSAGES: z.coerce.number().int().min(1).max(10_000).default(500),
  REDIS_KEY_PREFIX: z.string().default(''),
  /** How long an auction's price book may go untouched before the workers evict it (it reloads from Postgres on its next use). */
  PRICE_BOOK_IDLE_SECONDS: z.coerce.number().int().min(1).default(600),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(15 * 60),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  AUTH_USER_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  PLAYGROUND: bool.optional(),
  INTROSPECTION: bool.optional(),
  CORS_ORIGINS: originList.optional(),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).default(10),
  MAX_QUERY_COMPLEXITY: z.coerce.number().int().min(10).default(2000),
  MAX_DOCUMENT_BYTES: z.coerce.number().int().min(1_024).max(1_048_576).default(32_768),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(100).max(50_000).default(3_000),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(0).default(50),
  MAX_QUERY_DIRECTIVES: z.coerce.number().int().min(0).default(50),
  MAX_QUERY_EXPANDED_FIELDS: z.coerce.number().int().min(10).max(100_000).default(2_000),
  MAX_QUERY_REPEATED_FIELDS: z.coerce.number().int().min(0).default(50),
  SIGN_IN_ATTEMPTS_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  SIGN_IN_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(60),
  SIGN_IN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  SIGN_UP_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(20),
  SIGN_UP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3600),
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  PASSWORD_HASH_MAX_WAITING: z.coerce.number().int().min(0).default(100),
  // With the 2 s main.ts allows after it, the process is gone before Docker's SIGKILL at 10 s.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(7_000),
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).default(12_000),
  WS_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(10),
  WS_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(200),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(50),
  WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1_024).max(104_857_600).default(65_536),
  WS_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).default(100),
  TWILIO_ACCOUNT_SID: z.string().trim().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().trim().min(1).optional(),
  TWILIO_FROM_NUMBER: z.string().trim().min(1).optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().trim().min(1).optional(),
  /** Where the Twilio SDK sends its requests; only for proxies and test servers. */
  TWILIO_API_URL: optionalUrl(['http', 'https']),
  OUTBID_SMS_WINDOW_SECONDS: z.coerce.number().int().min(0).default(600),
  STRIPE_SECRET_KEY: z.string().trim().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().trim().min(1).optional(),
  /** Where the Stripe SDK sends its requests; only for proxies and test servers. */
  STRIPE_API_URL: optionalUrl(['http', 'https']),
  PAYMENT_DEADLINE_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(96),
  METRICS_ENABLED: bool.default(true),
  /** row-lock: placeBid as one Postgres transaction under the auction's row lock, a baseline for bench/bids.ts. */
  BID_ENGINE: z.enum(['price-book', 'row-lock']).default('price-book'),
});

export type Env = z.input<typeof EnvSchema>;

/** Every environment variable the configuration reads. */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape) as Array<keyof Env>;

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set<string>(['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'TWILIO_AUTH_TOKEN', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);

// zod's own messages speak of types ("expected number, received NaN"); whoever sets the variable
// needs the rule instead. Messages written into the schema take precedence over these.
const describeRule = (issue: z.core.$ZodRawIssue): string | undefined => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters` : `must be at most ${issue.maximum}`;
    case 'too_small':
      if (issue.origin !== 'string') return `must be at least ${issue.minimum}`;
      return Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL such as https://auction.example.com' : undefined;
    default:
      return undefined;
  }
};

/**
 * One line per variable, with the value it had unless that is a secret: its first problem (what
 * follows from it adds nothing), or every problem a list's custom check found, each naming its item.
 */
function describeProblems(issues: z.core.$ZodIssue[], env: NodeJS.ProcessEnv): string[] {
  const problems = new Map<string, { custom: boolean; line: string }>();
  for (const issue of issues) {
    const name = issue.path.map(String).join('.');
    const custom = issue.code === 'custom';
    const seen = problems.get(name);
    if (seen) {
      if (seen.custom && custom) seen.line += `; ${issue.message}`;
      continue;
    }
    const shown = !custom && !SECRET_VARIABLES.has(name) && typeof env[name] === 'string';
    problems.set(name, { custom, line: `${name}: ${issue.message}${shown ? ` (got ${JSON.stringify(env[name])})` : ''}` });
  }
  return [...problems.values()].map((problem) => problem.line);
}

/** The typed configuration, parsed once at start-up. */
export interface Config {
  env: 'development' | 'production' | 'test';
  http: {
    host: string;
    port: number;
    publicUrl: string;
    playground: boolean;
    /** Whether clients may introspect the schema and get "Did you mean" suggestions in errors. */
    introspection: boolean;
    shutdownGraceMs: number;
    /** Origins whose browser pages may call the API (CORS) and open its WebSocket. */
    corsOrigins: string[];
  };
  log: { level: string; format: 'pretty' | 'json' };
  dataDir: string;
  database: { url?: string; poolSize: number; migrateOnStart: boolean; migrationsDir: string };
  redis: { url?: string; keyPrefix: string };
  /** Books untouched this long, with everything they accepted persisted, are evicted by the workers. */
  priceBook: { idleSeconds: number };
  kafka: {
    brokers?: string[];
    clientId: string;
    bidTopic: string;
    groupPrefix: string;
    sessionTimeoutMs: number;
    heartbeatMs: number;
    /** How long the group waits for its members to rejoin during a rebalance. */
    rebalanceTimeoutMs: number;
    maxWaitMs: number;
    /** Partitions a consumer handles at once; each one's messages stay in order. */
    partitionsConcurrently: number;
    maxBytesPerPartition: number;
    /** How long a publish waits for concurrent ones to share its produce request, and their most. */
    lingerMs: number;
    batchMaxMessages: number;
  };
  auth: {
    jwtSecret?: string;
    tokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** How long a gateway trusts that a token's user exists before asking Postgres again. */
    userCacheSeconds: number;
  };
  websocket: {
    keepAliveMs: number;
    maxConnectionsPerUser: number;
    maxConnectionsPerIp: number;
    maxSubscriptionsPerConnection: number;
    /** The largest message a client may send; a larger one closes its socket with 1009. */
    maxPayloadBytes: number;
    /** Messages per connection per second, in bursts of up to as many; past that the socket is closed with 4429. */
    maxMessagesPerSecond: number;
  };
  /** Present only when Twilio credentials and a sender are configured. */
  twilio?: { accountSid: string; authToken: string; from?: string; messagingServiceSid?: string; apiUrl?: string };
  notifications: { outbidSmsWindowSeconds: number };
  /** Present only when Stripe's secret key (and so its webhook secret) is configured. */
  stripe?: { secretKey: string; webhookSecret: string; apiUrl?: string };
  /** How long a winner has to pay, from the auction's end; unpaid by then, the payment fails. */
  payments: { deadlineHours: number };
  /** Whether the gateway serves GET /metrics (and the process collects its default metrics). */
  metrics: { enabled: boolean };
  /**
   * How placeBid decides: the price book with the bid log (the product), or one Postgres transaction
   * per bid under the auction's row lock (the benchmark's baseline).
   */
  bidding: { engine: 'price-book' | 'row-lock' };
  limits: {
    maxQueryDepth: number;
    maxQueryComplexity: number;
    /** What a document may hold, checked before it is parsed in full, validated or expanded. */
    document: {
      /** UTF-8 bytes of the document's text. */
      maxBytes: number;
      /** Lexical tokens; the parser gives up at the first one past this. */
      maxTokens: number;
      /** Aliased fields, as written. */
      maxAliases: number;
      /** Directives, as written. */
      maxDirectives: number;
      /** Selections (fields, fragment spreads, inline fragments) once every fragment spread is replaced by its fragment. */
      maxExpandedFields: number;
      /**
       * Fields that repeat a response path already selected. Validation checks every two fields on
       * one path against each other, so the repeats, not the fields, are what make it slow.
       */
      maxRepeatedFields: number;
    };
    signIn: { perEmail: number; perIp: number; windowSeconds: number };
    signUp: { perIp: number; windowSeconds: number };
    /** Password hashes (scrypt, 32 MiB each) running at once, and how many may wait for one. */
    passwordHashing: { concurrency: number; maxWaiting: number };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The rules that tie variables together. They read the environment as given rather than the parsed
 * result, so that they are reported with every other problem instead of after those are fixed; a
 * set but invalid value is the schema's to report, so here any set value counts as given.
 */
function rulesBetweenVariables(env: NodeJS.ProcessEnv): string[] {
  const given = (name: string) => env[name] !== undefined;
  const problems: string[] = [];
  if (env.NODE_ENV === 'production' && !given('JWT_SECRET')) problems.push('JWT_SECRET: required in production');
  const twilioKeys = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'].filter(given).length;
  if (twilioKeys === 1) problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither');
  if (twilioKeys === 2 && !given('TWILIO_FROM_NUMBER') && !given('TWILIO_MESSAGING_SERVICE_SID')) {
    problems.push('TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: required with Twilio credentials');
  }
  // Without the webhook secret no payment would ever be seen to succeed.
  if (['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'].filter(given).length === 1) {
    problems.push('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: set both or neither');
  }
  return problems;
}

/** Parses the environment into a Config, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): Config {
  const parsed = EnvSchema.safeParse(env, { error: describeRule });
  const problems = [...(parsed.success ? [] : describeProblems(parsed.error.issues, env)), ...rulesBetweenVariables(env)];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const port = e.PORT;
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port,
      publicUrl: e.PUBLIC_URL ?? `http://localhost:${port}`,
      playground: e.PLAYGROUND ?? e.NODE_ENV !== 'production',
      introspection: e.INTROSPECTION ?? e.NODE_ENV !== 'production',
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      corsOrigins: e.CORS_ORIGINS ?? (e.NODE_ENV === 'production' ? [] : DEV_CORS_ORIGINS),
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
    priceBook: { idleSeconds: e.PRICE_BOOK_IDLE_SECONDS },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      bidTopic: e.KAFKA_BID_TOPIC,
      groupPrefix: e.KAFKA_GROUP_PREFIX,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatMs: e.KAFKA_HEARTBEAT_MS,
      rebalanceTimeoutMs: e.KAFKA_REBALANCE_TIMEOUT_MS,
      maxWaitMs: e.KAFKA_MAX_WAIT_MS,
      partitionsConcurrently: e.KAFKA_PARTITIONS_CONCURRENTLY,
      maxBytesPerPartition: e.KAFKA_MAX_BYTES_PER_PARTITION,
      lingerMs: e.KAFKA_LINGER_MS,
      batchMaxMessages: e.KAFKA_BATCH_MAX_MESSAGES,
    },
    auth: {
      jwtSecret: e.JWT_SECRET,
      tokenTtlSeconds: e.JWT_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      userCacheSeconds: e.AUTH_USER_CACHE_SECONDS,
    },
    websocket: {
      keepAliveMs: e.WS_KEEPALIVE_MS,
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      maxConnectionsPerIp: e.WS_MAX_CONNECTIONS_PER_IP,
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      maxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
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
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiUrl: e.STRIPE_API_URL }
        : undefined,
    payments: { deadlineHours: e.PAYMENT_DEADLINE_HOURS },
    metrics: { enabled: e.METRICS_ENABLED },
    bidding: { engine: e.BID_ENGINE },
    limits: {
      maxQueryDepth: e.MAX_QUERY_DEPTH,
      maxQueryComplexity: e.MAX_QUERY_COMPLEXITY,
      document: {
        maxBytes: e.MAX_DOCUMENT_BYTES,
        maxTokens: e.MAX_QUERY_TOKENS,
        maxAliases: e.MAX_QUERY_ALIASES,
        maxDirectives: e.MAX_QUERY_DIRECTIVES,
        maxExpandedFields: e.MAX_QUERY_EXPANDED_FIELDS,
        maxRepeatedFields: e.MAX_QUERY_REPEATED_FIELDS,
      },
      signIn: { perEmail: e.SIGN_IN_ATTEMPTS_PER_EMAIL, perIp: e.SIGN_IN_ATTEMPTS_PER_IP, windowSeconds: e.SIGN_IN_WINDOW_SECONDS },
      signUp: { perIp: e.SIGN_UP_ATTEMPTS_PER_IP, windowSeconds: e.SIGN_UP_WINDOW_SECONDS },
      passwordHashing: { concurrency: e.PASSWORD_HASH_CONCURRENCY, maxWaiting: e.PASSWORD_HASH_MAX_WAITING },
    },
  };
}
