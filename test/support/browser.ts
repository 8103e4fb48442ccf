import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { describe } from 'vitest';
import { describeApp } from './app.js';

/** Debian's Chromium; playwright's own browser download is not reachable from these machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const missing = existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

/**
 * `describeApp` for suites that drive a browser. Without Chromium the suite is skipped locally,
 * saying why; in CI (CI=true) it runs and fails in launchChromium, since a skipped suite proves nothing.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (missing && process.env.CI !== 'true') describe.skip(`${name} (skipped: ${missing})`, body);
  else describeApp(name, body);
}

export async function launchChromium(): Promise<Browser> {
  if (missing) throw new Error(`the browser tests need Chromium: ${missing}`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface OfflineContext {
  context: BrowserContext;
  /** Requests the context refused because they left the allowed origins. */
  blocked: string[];
  /** Content-Security-Policy violations and uncaught errors reported by its pages. */
  problems: string[];
}

/**
 * A browser context that behaves as if the machine had no internet: every request to an origin
 * other than `origins` is aborted and recorded.
 */
export async function offlineContext(browser: Browser, origins: string[]): Promise<OfflineContext> {
  const context = await browser.newContext();
  const blocked: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (origins.includes(new URL(url).origin)) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  context.on('page', (page) => {
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
  });
  return { context, blocked, problems };
}

/** A plain HTTP server on a random local port that serves one HTML page at every path: another origin. */
export async function servePage(html: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
