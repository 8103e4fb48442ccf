import { pino, type DestinationStream, type Logger } from 'pino';

// Where a credential could reach a log line: request headers (either spelling), graphql-ws
// connection params, and errors that carry the request they failed on. Nothing logs variables.
const REDACTED_PATHS = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'connectionParams.authorization',
  '*.connectionParams.authorization',
  'err.config.headers.Authorization',
  'err.config.auth',
  'password',
  '*.password',
  'token',
  '*.token',
];

/** The root logger; services and workers take a child of it. `destination` (tests) overrides the format. */
export function createLogger(options: { level: string; format: 'pretty' | 'json' }, destination?: DestinationStream): Logger {
  const settings = { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (destination) return pino(settings, destination);
  return pino({
    ...settings,
    ...(options.format === 'pretty' ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
