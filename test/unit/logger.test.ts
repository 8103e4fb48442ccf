import { expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

it('redacts authorization headers, connection params, passwords and tokens wherever a log line carries them', () => {
  const { logger, lines } = capture();
  logger.info({ req: { headers: { authorization: 'Bearer secret-1', cookie: 'session=secret-2' } } }, 'request');
  logger.info({ headers: { Authorization: 'Bearer secret-3' } }, 'outgoing');
  logger.info({ connectionParams: { authorization: 'Bearer secret-4' } }, 'connect');
  logger.info({ input: { password: 'secret-5' }, token: 'secret-6' }, 'sign in');
  logger.warn({ err: { config: { headers: { Authorization: 'Basic secret-7' }, auth: { password: 'secret-8' } } } }, 'provider failed');
  logger.child({ authorization: 'Bearer secret-9' }).debug('child');

  expect(lines).toHaveLength(6);
  expect(lines.join('')).not.toMatch(/secret-\d/);
  expect(JSON.parse(lines[0]!)).toMatchObject({ req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } } });
});

it('keeps the fields a request line needs', () => {
  const { logger, lines } = capture();
  logger.info({ requestId: 'r-1', operation: 'Me', outcome: 'OK', userId: 'u-1', durationMs: 1.5 }, 'graphql operation');
  expect(JSON.parse(lines[0]!)).toMatchObject({ requestId: 'r-1', operation: 'Me', outcome: 'OK', userId: 'u-1', durationMs: 1.5 });
});
