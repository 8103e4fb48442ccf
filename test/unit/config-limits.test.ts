import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };

describe('the request limits and the production posture in the configuration', () => {
  it('turns introspection off in production unless INTROSPECTION turns it back on', () => {
    expect(loadConfig(production, false).http.introspection).toBe(false);
    expect(loadConfig({ ...production, INTROSPECTION: 'true' }, false).http.introspection).toBe(true);
    expect(loadConfig({}, false).http.introspection).toBe(true);
    expect(loadConfig({ INTROSPECTION: 'false' }, false).http.introspection).toBe(false);
  });

  it('bounds documents and WebSocket messages by default', () => {
    const config = loadConfig({}, false);
    expect(config.limits.document).toEqual({
      maxBytes: 32_768,
      maxTokens: 3_000,
      maxAliases: 50,
      maxDirectives: 50,
      maxExpandedFields: 2_000,
      maxRepeatedFields: 50,
    });
    expect(config.websocket).toMatchObject({ maxPayloadBytes: 65_536, maxMessagesPerSecond: 100 });
  });

  it('reads each limit from its variable', () => {
    const config = loadConfig(
      {
        MAX_DOCUMENT_BYTES: '2048',
        MAX_QUERY_TOKENS: '200',
        MAX_QUERY_ALIASES: '0',
        MAX_QUERY_DIRECTIVES: '3',
        MAX_QUERY_EXPANDED_FIELDS: '40',
        MAX_QUERY_REPEATED_FIELDS: '5',
        WS_MAX_PAYLOAD_BYTES: '4096',
        WS_MAX_MESSAGES_PER_SECOND: '7',
      },
      false,
    );
    expect(config.limits.document).toEqual({ maxBytes: 2048, maxTokens: 200, maxAliases: 0, maxDirectives: 3, maxExpandedFields: 40, maxRepeatedFields: 5 });
    expect(config.websocket).toMatchObject({ maxPayloadBytes: 4096, maxMessagesPerSecond: 7 });
  });

  it('refuses limits that would leave nothing through, naming the variable', () => {
    let problems: string[] = [];
    try {
      loadConfig({ MAX_DOCUMENT_BYTES: '10', WS_MAX_MESSAGES_PER_SECOND: '0' }, false);
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      'MAX_DOCUMENT_BYTES: must be at least 1024 (got "10")',
      'WS_MAX_MESSAGES_PER_SECOND: must be at least 1 (got "0")',
    ]);
  });
});
