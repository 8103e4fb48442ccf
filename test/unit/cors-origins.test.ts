import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { isWebSocketOriginAllowed } from '../../src/http/cors.js';

const secret = 'a-secret-that-is-long-enough-for-hs256-signing';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, false);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was unexpectedly accepted');
}

describe('CORS_ORIGINS', () => {
  it('allows the usual local dev servers by default in development and test', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(loadConfig({ NODE_ENV }, false).http.corsOrigins).toEqual(
        expect.arrayContaining(['http://localhost:3000', 'http://localhost:5173', 'http://127.0.0.1:3000', 'http://127.0.0.1:5173']),
      );
    }
  });

  it('allows no origin by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }, false).http.corsOrigins).toEqual([]);
  });

  it('replaces the default with the listed origins, normalised as browsers send them', () => {
    const config = loadConfig({ NODE_ENV: 'development', CORS_ORIGINS: ' https://Shop.Example.com , http://localhost:8080/,https://admin.example.com:443' }, false);
    expect(config.http.corsOrigins).toEqual(['https://shop.example.com', 'http://localhost:8080', 'https://admin.example.com']);
  });

  it('allows no origin when set to an empty string, even in development', () => {
    expect(loadConfig({ NODE_ENV: 'development', CORS_ORIGINS: '' }, false).http.corsOrigins).toEqual([]);
  });

  it('names the variable and each entry that is not an origin, with what is wrong', () => {
    const problems = problemsOf({ CORS_ORIGINS: 'https://ok.example.com,https://shop.example.com/app,*,ftp://files.example.com,https://x.example.com?a=1' });
    expect(problems).toEqual([
      'CORS_ORIGINS: "https://shop.example.com/app" must be an origin only (scheme://host[:port]), with no path, query or credentials; ' +
        '"*" is not a URL; "ftp://files.example.com" must start with http:// or https://; ' +
        '"https://x.example.com?a=1" must be an origin only (scheme://host[:port]), with no path, query or credentials',
    ]);
  });
});

describe('the WebSocket origin check', () => {
  const policy = { allowedOrigins: ['https://shop.example.com'], publicUrl: 'https://api.example.com' };

  it('lets clients that send no Origin through: they are not browser pages', () => {
    expect(isWebSocketOriginAllowed(undefined, 'api.example.com', policy)).toBe(true);
  });

  it('admits pages from a listed origin', () => {
    expect(isWebSocketOriginAllowed('https://shop.example.com', 'api.example.com', policy)).toBe(true);
  });

  it("admits the gateway's own pages, by its public address or by the host they reached it at", () => {
    expect(isWebSocketOriginAllowed('https://api.example.com', 'internal:4000', policy)).toBe(true);
    expect(isWebSocketOriginAllowed('http://127.0.0.1:4000', '127.0.0.1:4000', policy)).toBe(true);
  });

  it('refuses pages from any other origin, including look-alikes and opaque ones', () => {
    for (const origin of ['https://evil.example.com', 'http://shop.example.com', 'https://shop.example.com.evil.com', 'http://127.0.0.1:4001', 'null']) {
      expect(isWebSocketOriginAllowed(origin, '127.0.0.1:4000', policy), origin).toBe(false);
    }
  });
});
