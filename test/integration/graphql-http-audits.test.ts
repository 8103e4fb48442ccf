import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';

// graphql-http's audits of the GraphQL-over-HTTP specification, against the running server's
// /graphql. Every MUST is a test of its own; SHOULD and MAY are recommendations, so they do not fail
// the run: AUDIT_REPORT=1 prints how each of them went.

describeApp('the GraphQL-over-HTTP audits', () => {
  let app: TestApp;
  // The list is fixed; each audit asks for the address only when it runs, after the app started.
  const audits = serverAudits({ url: () => app.url, fetchFn: fetch });
  const recommendations: AuditResult[] = [];

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    try {
      if (process.env.AUDIT_REPORT === '1') {
        for (const audit of audits.filter((a) => !a.name.startsWith('MUST'))) recommendations.push(await audit.fn());
        const lines = recommendations.map((r) => `${r.status === 'ok' ? 'ok  ' : r.status.padEnd(4)} ${r.id} ${r.name}${'reason' in r ? ` (${r.reason})` : ''}`);
        process.stdout.write(`GraphQL-over-HTTP recommendations:\n${lines.join('\n')}\n`);
      }
    } finally {
      await app?.close();
    }
  });

  it('has MUST audits to run', () => {
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });

  for (const audit of audits.filter((a) => a.name.startsWith('MUST'))) {
    it(`${audit.id}: ${audit.name}`, async () => {
      const result = await audit.fn();
      const detail = result.status === 'ok' ? '' : `${result.reason}: HTTP ${result.response.status} ${await result.response.clone().text().catch(() => '')}`;
      expect(result.status, detail).toBe('ok');
    });
  }
});
