import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTarget } from '../support/app.js';
import { startServerProcess } from '../support/server-process.js';

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe.skipIf(testTarget() !== 'embedded')('start-up failures a person can act on (run once: they concern the process, not the services)', () => {
  let dataDir: string;
  const env = () => ({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, NODE_ENV: 'development' });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'auction-startup-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('names DATABASE_URL, its address without the password, and the cause when Postgres is unreachable', async () => {
    const port = await closedPort();
    const failure = startServerProcess('all', { ...env(), DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${port}/auction` });
    await expect(failure).rejects.toThrow(
      new RegExp(`Postgres at postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/auction \\(DATABASE_URL\\) is unreachable: .*127\\.0\\.0\\.1:${port}`),
    );
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  it('names REDIS_URL and the refused connection when Redis is unreachable', async () => {
    const port = await closedPort();
    await expect(startServerProcess('all', { ...env(), REDIS_URL: `redis://127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} \\(REDIS_URL\\) is unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
    );
  });

  it('names KAFKA_BROKERS and the refused connection when no broker answers', async () => {
    const port = await closedPort();
    await expect(startServerProcess('all', { ...env(), KAFKA_BROKERS: `127.0.0.1:${port}`, LOG_LEVEL: 'fatal' })).rejects.toThrow(
      new RegExp(`Kafka at 127\\.0\\.0\\.1:${port} \\(KAFKA_BROKERS\\) is unreachable: .*ECONNREFUSED`),
    );
  }, 90_000);

  it('names the port and PORT, with no stack trace, when the port is taken', async () => {
    const taken: Server = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const failure = startServerProcess('gateway', { ...env(), PORT: String(port) });
      await expect(failure).rejects.toThrow(new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use: .*set PORT to another port`));
      await expect(failure).rejects.not.toThrow(/\n\s+at /);
    } finally {
      taken.close();
    }
  });
});
