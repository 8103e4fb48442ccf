import { pino, type Logger } from 'pino';

/** The root logger; services and workers take a child of it. */
export function createLogger(options: { level: string; format: 'pretty' | 'json' }): Logger {
  return pino({
    level: options.level,
    redact: { paths: ['authorization', '*.authorization', 'req.headers.authorization', '*.password'], censor: '[redacted]' },
    ...(options.format === 'pretty' ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
