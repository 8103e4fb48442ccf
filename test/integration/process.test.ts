import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testTarget } from '../support/app.js';
import { startServerProcess } from '../support/server-process.js';
import { connect } from '../support/ws-client.js';

describe.skipIf(testTarget() !== 'embedded')('the server process (run once, on the embedded target: signals and exit codes do not depend on the services)', () => {
  it('drains and exits 0 on SIGTERM, closing WebSockets with 1001', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'auction-process-'));
    // Not NODE_ENV=test: that is where Apollo leaves termination signals alone, and production does not.
    const server = await startServerProcess('all', {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      SHUTDOWN_GRACE_MS: '5000',
    });
    try {
      const client = await connect(server.url!.replace(/^http/, 'ws'));
      const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      const exited = once(server.child, 'exit') as Promise<[number | null, string | null]>;
      server.child.kill('SIGTERM');

      // Past its grace period the process would exit 1 through the backstop, saying so: exit 0
      // without that line is the drain finishing in time, measured by the process's own clock.
      const [code] = await exited;
      expect(code, server.output.join('\n')).toBe(0);
      expect(await closed).toBe(1001);
      expect(server.output.join('\n')).not.toMatch(/shutdown took too long/);
    } finally {
      server.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
