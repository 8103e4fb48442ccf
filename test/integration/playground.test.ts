import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';

const asBrowser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describeApp('the playground', () => {
  let app: TestApp;
  let off: TestApp;
  beforeAll(async () => {
    [app, off] = await Promise.all([startTestApp(), startTestApp({ env: { PLAYGROUND: 'false' } })]);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), off?.close()]);
  });

  const origin = (target: TestApp) => new URL(target.url).origin;

  describe('when on', () => {
    it("serves GraphiQL to browsers under a policy that allows nothing but the page's own origin", async () => {
      const response = await fetch(app.url, { headers: asBrowser });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("connect-src 'self'");
      expect(policy).not.toMatch(/https?:|\*/);
      const html = await response.text();
      expect(html).toContain('id="graphiql"');
      expect(html).not.toMatch(/https?:\/\//);
    });

    it('serves every script and stylesheet the page names from the installed packages, cacheable for a year', async () => {
      const html = await (await fetch(app.url, { headers: asBrowser })).text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(assets.map((asset) => asset.replace(/\?.*/, ''))).toEqual([
        '/playground/assets/graphiql.min.css',
        '/playground/assets/react.production.min.js',
        '/playground/assets/react-dom.production.min.js',
        '/playground/assets/graphiql.min.js',
        '/playground/assets/graphql-ws.min.js',
        '/playground/assets/playground.js',
      ]);
      for (const asset of assets) {
        const response = await fetch(`${origin(app)}${asset}`);
        expect(response.status, asset).toBe(200);
        expect(response.headers.get('content-type'), asset).toMatch(asset.includes('.css') ? /^text\/css/ : /javascript/);
        expect(response.headers.get('cache-control'), asset).toMatch(/max-age=31536000.*immutable/);
        expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(1_000);
      }
    });

    it('leaves GraphQL requests to the endpoint alone', async () => {
      const response = await fetch(`${app.url}?query=${encodeURIComponent('{ serverTime }')}`, {
        headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: { serverTime: string } }).data.serverTime).toBeTruthy();
    });

    it('answers an unknown asset with 404', async () => {
      expect((await fetch(`${origin(app)}/playground/assets/package.json`)).status).toBe(404);
    });
  });

  describe('when off', () => {
    it('serves neither GraphiQL nor its assets', async () => {
      const page = await (await fetch(off.url, { headers: asBrowser })).text();
      expect(page).not.toContain('id="graphiql"');
      expect(page).not.toContain('/playground/assets/');
      expect((await fetch(`${origin(off)}/playground/assets/graphiql.min.js`)).status).toBe(404);
    });
  });
});
